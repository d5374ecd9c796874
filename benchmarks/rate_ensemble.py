"""One ensemble of 100 rate RNNs against the same networks in a plain PyTorch loop.

    python benchmarks/rate_ensemble.py [--task romo|decision|match-sample] [--iterations 50]
                                       [--rounds 4] [--profile]

The 100 networks are the grid of the paper (5 gains x 4 learning rates x 5 seeds, N = 64,
batch 32, BPTT with Adam). The baseline trains them one after another the way a user
would without neurodyn: parameters with requires_grad, a Python loop over time steps,
``loss.backward()`` and ``torch.optim.Adam``, trials from the task's own generator.
The two sides alternate in ``--rounds`` rounds, so that both see the machine in the same
states (its speed drifts by tens of percent within minutes): each round trains the
ensemble for ``--iterations`` iterations and then 1 / rounds of the networks in the loop
for as many. The printed ratio is network-iterations per second of the ensemble over the
loop over all rounds (target >= 20), with the range of the rounds' own ratios. It also
prints the ensemble's time per iteration and that of its BPTT gradient alone (one batch);
``--profile`` adds torch.profiler's table of that gradient's operations.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch

from _headline import headline
from neurodyn import rng, tasks
from neurodyn.networks.rate import LeakyRateNetwork
from neurodyn.rules import BPTT
from neurodyn.rules.bptt import bptt_gradients
from neurodyn.rules.losses import task_loss
from neurodyn.rules.rate_rule import training_batch
from neurodyn.rules.unroll import Workspace
from neurodyn.training.rate import train_rate
from steering_throughput import synchronize

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
    parser.add_argument("--task", default="romo", choices=tasks.names())
    parser.add_argument("--iterations", type=int, default=50, help="per round and side")
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the two sides")
    parser.add_argument("--profile", action="store_true", help="profile the BPTT gradient")
    parser.add_argument("--device", default="cpu", help="the ensemble's device (loop: CPU)")
    args = parser.parse_args()
    task = tasks.get(args.task)
    alpha = task.alpha
    members = [(g, r, s) for g in GAINS for r in RATES for s in SEEDS]
    gains, rates, seeds = (list(column) for column in zip(*members, strict=True))
    print(
        f"task {args.task}; torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"ensemble on {args.device}; "
        f"{len(members)} networks x {args.iterations} iterations x {args.rounds} rounds"
    )
    network = LeakyRateNetwork(
        task.input_size,
        64,
        task.output_size,
        ensemble_size=len(members),
        gain=gains,
        alpha=alpha,
        device=args.device,
    )
    weights = network.init(seeds)

    def ensemble(iterations):
        train_rate(
            network,
            weights,
            task,
            rule=BPTT(),
            iterations=iterations,
            learning_rate=rates,
            seeds=seeds,
        )
        synchronize(network.device)

    ensemble(2)  # warm-up
    together, apart = [], []
    for part in range(args.rounds):
        start = time.perf_counter()
        ensemble(args.iterations)
        together.append(time.perf_counter() - start)
        start = time.perf_counter()
        for gain, rate, seed in members[part :: args.rounds]:
            plain_loop(task, alpha, gain, rate, seed, args.iterations)
        apart.append(time.perf_counter() - start)
    total = len(members) * args.iterations
    ratios = [a * args.rounds / t for a, t in zip(apart, together, strict=True)]
    speeds = (total * args.rounds / sum(together), total / sum(apart))
    print(f"  one ensemble:          {speeds[0]:8.0f} network-iterations/s")
    print(f"  plain per-network loop:{speeds[1]:8.0f} network-iterations/s")
    print(
        f"  speed-up (target >= 20): {sum(apart) * args.rounds / sum(together):.1f} "
        f"(rounds {min(ratios):.1f} ... {max(ratios):.1f})"
    )
    headline(
        f"rate-gain grid ({len(members)} networks, {args.task}, BPTT) as one ensemble",
        f"{speeds[0]:.0f} network-iterations/s, "
        f"{sum(apart) * args.rounds / sum(together):.1f}x a plain PyTorch loop",
        ">= 20x",
    )
    gradient = gradient_time(network, weights, task, seeds, args.profile)
    print(
        f"  ensemble: {sum(together) / (args.rounds * args.iterations) * 1e3:.1f} ms per "
        f"iteration; BPTT gradient alone {gradient * 1e3:.1f} ms"
    )


def gradient_time(network, weights, task, seeds, profile=False, repeats=10) -> float:
    """Median seconds per BPTT gradient of the ensemble on one batch of 32 trials per
    member; with ``profile``, prints the operations' self time summed over 5 more calls."""
    keys = rng.member_keys(rng.member_seeds(seeds, len(seeds)), "task", network.device)
    x, targets, mask, noise = training_batch(network, task, 32, keys, 0)
    workspace = Workspace()

    def gradient():
        bptt_gradients(
            network, weights, x, targets, mask, task.loss, workspace=workspace, noise=noise
        )

    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        gradient()
        synchronize(network.device)
        times.append(time.perf_counter() - start)
    if profile:
        with torch.profiler.profile(record_shapes=True) as profiler:
            for _ in range(5):
                gradient()
        table = profiler.key_averages(group_by_input_shape=True)
        print(table.table(sort_by="self_cpu_time_total", row_limit=15, max_shapes_column_width=60))
    return statistics.median(times[1:])


if __name__ == "__main__":
    main()
