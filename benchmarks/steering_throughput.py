"""Throughput of the steering learner, measured against baselines in the same run.

    python benchmarks/steering_throughput.py [--steps 300] [--repeats 3] [--threads N]

Prints, for the main configuration (H = 1600, N = 100, B = 16, T = 5 + 5 sweeps):
training samples per second; the dense-equivalent GFLOP/s this achieves; the GFLOP/s of
a plain torch matmul (16 x 1600) @ (1600 x 1600) on this machine; their ratio. Then the
throughput of one ensemble of 8 networks at H = 400 against the same 8 networks trained
one after another. Entangled MNIST is used when the files are found, else prototypes.
The compared cases alternate over ``--repeats`` rounds and each keeps its best time, so a
slow moment of a shared machine does not favour either side.

Dense-equivalent FLOPs per step: every sweep, the stability fields and the Hebbian
outer product each cost 2 B H^2 in the dense algorithm (the authors' code), so a step
costs (2 T + 2) * 2 B H^2. neurodyn skips the product on the zero initial state and
adds only the rows of flipped units afterwards, so it can exceed the matmul rate.
"""

from __future__ import annotations

import argparse
import time

import torch

from _headline import headline
from neurodyn.networks.binary import BinarySteeringNetwork
from neurodyn.rules.steering import SteeringRule
from neurodyn.tasks.mnist import DataNotFoundError, entangled_mnist
from neurodyn.tasks.patterns import prototype_patterns
from neurodyn.training import RandomStreams, train_epoch


def load_inputs(count: int):
    try:
        data = entangled_mnist(100, train_size=count)
        return data.train_inputs, data.train_labels, "entangled-mnist"
    except DataNotFoundError:
        data = prototype_patterns(input_size=100, train_per_class=count // 10)
        return data.train_inputs, data.train_labels, "prototypes"


def synchronize(device) -> None:
    """Wait for the GPU's queued work (timings of CUDA work need it; a no-op on the CPU)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def time_training(network, rule, inputs, labels, seeds, steps, batch=16) -> float:
    """Seconds for ``steps`` mini-batches after one warm-up pass of 20 batches."""
    weights = network.init(seeds)
    streams = RandomStreams.from_seeds(seeds, network.device)
    train_epoch(
        network,
        weights,
        rule,
        inputs[: 20 * batch],
        labels[: 20 * batch],
        batch_size=batch,
        streams=streams,
    )
    synchronize(network.device)
    start = time.perf_counter()
    train_epoch(
        network,
        weights,
        rule,
        inputs[: steps * batch],
        labels[: steps * batch],
        batch_size=batch,
        streams=streams,
    )
    synchronize(network.device)
    return time.perf_counter() - start


def matmul_seconds_for(batch: int, hidden: int, repeats: int, device="cpu") -> float:
    """Seconds for ``repeats`` plain (batch x H) @ (H x H) torch matmuls on ``device``."""
    state = torch.sign(torch.randn(batch, hidden, device=device))
    couplings = torch.randn(hidden, hidden, device=device)
    for _ in range(10):
        state @ couplings
    synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        state @ couplings
    synchronize(device)
    return time.perf_counter() - start


def best_of(repeats: int, *cases):
    """Run the zero-argument ``cases`` alternately ``repeats`` times; best time of each."""
    best = [float("inf")] * len(cases)
    for _ in range(repeats):
        for k, case in enumerate(cases):
            best[k] = min(best[k], case())
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="mini-batches timed per case")
    parser.add_argument("--repeats", type=int, default=3, help="alternating repeats (best kept)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--device", default="cpu", help="torch device of networks and data")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    inputs, labels, source = load_inputs(max(args.steps * 16, 20 * 16))
    inputs, labels = inputs.to(args.device), labels.to(args.device)
    rule, device = SteeringRule(), args.device
    print(
        f"data: {source}; torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"device {device}; best of {args.repeats} alternating repeats"
    )

    hidden, batch, sweeps, steps = 1600, 16, 2 * rule.train_sweeps, args.steps
    network = BinarySteeringNetwork(100, hidden, 10, device=device)
    repeats = 300
    seconds, matmul_seconds = best_of(
        args.repeats,
        lambda: time_training(network, rule, inputs, labels, [17], steps),
        lambda: matmul_seconds_for(batch, hidden, repeats, device),
    )
    ours = (sweeps + 2) * 2 * batch * hidden**2 * steps / seconds / 1e9
    reference = 2 * batch * hidden**2 * repeats / matmul_seconds / 1e9
    print(f"\nmain configuration (H={hidden}, B={batch}, {sweeps} sweeps per step)")
    print(f"  training samples/s            {steps * batch / seconds:10.0f}")
    print(f"  dense-equivalent GFLOP/s      {ours:10.1f}")
    print(f"  plain torch matmul GFLOP/s    {reference:10.1f}")
    print(f"  ratio (target >= 0.50)        {ours / reference:10.2f}")
    headline(
        f"steering training, H = {hidden}, B = {batch}",
        f"{steps * batch / seconds:.0f} samples/s, {ours / reference:.2f} of the matmul rate",
        ">= 0.5 of the matmul rate",
    )

    members, small = 8, 400
    seeds = list(range(members))
    ensemble = BinarySteeringNetwork(100, small, 10, ensemble_size=members, device=device)
    single = BinarySteeringNetwork(100, small, 10, device=device)
    together, apart = best_of(
        args.repeats,
        lambda: time_training(ensemble, rule, inputs, labels, seeds, steps),
        lambda: sum(time_training(single, rule, inputs, labels, [s], steps) for s in seeds),
    )
    print(f"\nensemble of {members} networks at H={small}")
    print(f"  one ensemble: samples/s x members   {members * steps * batch / together:10.0f}")
    print(f"  {members} sequential runs: samples/s      {members * steps * batch / apart:10.0f}")
    print(f"  speed-up (target >= 3)              {apart / together:10.2f}")
    headline(
        f"steering training, {members} networks at H = {small} as one ensemble",
        f"{apart / together:.2f}x one after another",
        ">= 3x",
    )


if __name__ == "__main__":
    main()
