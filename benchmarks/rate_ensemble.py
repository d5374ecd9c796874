"""One ensemble of 100 rate RNNs against the same networks in a plain PyTorch loop.

    python benchmarks/rate_ensemble.py [--task romo|decision|match-sample] [--iterations 20]
                                       [--profile]

The 100 networks are the grid of the paper (5 gains x 4 learning rates x 5 seeds, N = 64,
batch 32, BPTT with Adam). The baseline trains them one after another the way a user
would without neurodyn: parameters with requires_grad, a Python loop over time steps,
``loss.backward()`` and ``torch.optim.Adam``, trials from the task's own generator.
Both sides run the same number of iterations in one process; the printed ratio is
network-iterations per second of the ensemble over the loop (target >= 20). It also
prints the ensemble's time per iteration and that of its BPTT gradient alone (one batch);
``--profile`` adds torch.profiler's table of that gradient's operations.
"""

from __future__ import annotations

import os

# As the neurodyn command does: large tensors on transparent huge pages (PyTorch's opt-in).
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

import argparse
import math
import time

import torch

from neurodyn import _random
from neurodyn.experiments.rate_gain import TASKS
from neurodyn.networks.rate import LeakyRateNetwork
from neurodyn.rules.gradients import Workspace, bptt_gradients, task_loss
from neurodyn.training.rate import train_rate, training_batch

GAINS = (0.2, 0.5, 1.0, 1.5, 2.0)
RATES = (1e-4, 3e-4, 1e-3, 3e-3)
SEEDS = (0, 1, 2, 3, 4)


def plain_loop(task, alpha, gain, rate, seed, iterations, hidden=64, batch=32) -> None:
    """One network trained with autograd and torch.optim.Adam, nothing from neurodyn's core."""
    gen = torch.Generator().manual_seed(seed)
    w_h = (torch.randn(hidden, hidden, generator=gen) * gain / math.sqrt(hidden)).requires_grad_()
    w_x = (
        (torch.rand(task.input_size, hidden, generator=gen) * 2 - 1) / math.sqrt(task.input_size)
    ).requires_grad_()
    w_out = (
        (torch.rand(hidden, task.output_size, generator=gen) * 2 - 1) / math.sqrt(hidden)
    ).requires_grad_()
    optimizer = torch.optim.Adam([w_h, w_x, w_out], lr=rate)
    for _ in range(iterations):
        trials = task.sample(batch, gen)
        h = torch.zeros(batch, hidden)
        outputs = []
        for t in range(trials.inputs.shape[1]):
            h = alpha * h + (1 - alpha) * (torch.relu(h) @ w_h + trials.inputs[:, t] @ w_x)
            outputs.append(torch.relu(h) @ w_out)
        y = torch.stack(outputs, dim=1)[None]
        loss = task_loss(y, trials.targets, trials.mask, task.loss)
        optimizer.zero_grad()
        loss.sum().backward()
        optimizer.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="romo", choices=sorted(TASKS))
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="profile the BPTT gradient")
    args = parser.parse_args()
    task, alpha = TASKS[args.task]
    members = [(g, r, s) for g in GAINS for r in RATES for s in SEEDS]
    print(
        f"task {args.task}; torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"{len(members)} networks x {args.iterations} iterations"
    )
    network = LeakyRateNetwork(
        task.input_size,
        64,
        task.output_size,
        ensemble_size=len(members),
        gain=[g for g, _, _ in members],
        alpha=alpha,
    )
    weights = network.init([s for _, _, s in members])
    train_rate(
        network,
        weights,
        task,
        rule="bptt",
        iterations=2,
        learning_rate=[r for _, r, _ in members],
        seeds=[s for _, _, s in members],
    )
    start = time.perf_counter()
    train_rate(
        network,
        weights,
        task,
        rule="bptt",
        iterations=args.iterations,
        learning_rate=[r for _, r, _ in members],
        seeds=[s for _, _, s in members],
    )
    together = time.perf_counter() - start
    gradient = gradient_time(network, weights, task, [s for _, _, s in members], args.profile)
    start = time.perf_counter()
    for gain, rate, seed in members:
        plain_loop(task, alpha, gain, rate, seed, args.iterations)
    apart = time.perf_counter() - start
    total = len(members) * args.iterations
    print(f"  one ensemble:          {total / together:8.0f} network-iterations/s")
    print(f"  plain per-network loop:{total / apart:8.0f} network-iterations/s")
    print(f"  speed-up (target >= 20): {apart / together:.1f}")
    print(
        f"  ensemble: {together / args.iterations * 1e3:.1f} ms per iteration, "
        f"BPTT gradient alone {gradient * 1e3:.1f} ms"
    )


def gradient_time(network, weights, task, seeds, profile=False, repeats=5) -> float:
    """Seconds per BPTT gradient of the ensemble on one batch of 32 trials per member; with
    ``profile``, prints the operations' self time summed over ``repeats`` more calls."""
    keys = _random.member_keys(_random.member_seeds(seeds, len(seeds)), "task", network.device)
    batch = training_batch(network, task, 32, keys, 0)
    workspace = Workspace()

    def repeat(times):
        for _ in range(times):
            bptt_gradients(network, weights, *batch, task.loss, workspace=workspace)

    repeat(1)
    start = time.perf_counter()
    repeat(repeats)
    seconds = (time.perf_counter() - start) / repeats
    if profile:
        with torch.profiler.profile(record_shapes=True) as profiler:
            repeat(repeats)
        table = profiler.key_averages(group_by_input_shape=True)
        print(table.table(sort_by="self_cpu_time_total", row_limit=15, max_shapes_column_width=60))
    return seconds


if __name__ == "__main__":
    main()
