"""Evaluation throughput of the steering network: the relaxation of the test set.

    NEURODYN_DATA=../shared/data python benchmarks/steering_evaluation.py [--repeats 3]

The main configuration (H = 1600, N = 100, C = 10) is trained on the first 6400 training
images (one pass, B = 16), then the 10 000 test images are evaluated as in every epoch
(free relaxation from zero, 5 sweeps, batches of 1024, accuracy and unstable fraction):
``training.evaluate`` as it runs, against the dense relaxation of the authors' code (every
sweep and the final stability check a full s J product: the same network with its
incremental updates switched off), and a plain torch matmul (1024 x 1600) @ (1600 x 1600).
The three alternate over ``--repeats`` rounds and each keeps its best time. Prints
samples/s, the dense-equivalent GFLOP/s (5 products of 2 B H^2 per batch, what the dense
algorithm computes) as a fraction of the matmul's GFLOP/s, and the acceptance target of
issue 22: >= 8 400 samples/s, 15 times the authors' 560 samples/s measured on a machine of
this kind (2 cores).
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
from neurodyn.training import RandomStreams, evaluate, train_epoch
from steering_throughput import best_of, matmul_seconds_for, synchronize

HIDDEN, SWEEPS, BATCH, TARGET = 1600, 5, 1024, 8400


def load_data():
    """6400 training and the 10 000 test images of Entangled MNIST, else as many prototypes."""
    try:
        return entangled_mnist(100, train_size=6400), "entangled-mnist"
    except DataNotFoundError:
        data = prototype_patterns(input_size=100, train_per_class=640, test_per_class=1000)
        return data, "prototypes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="alternating repeats (best kept)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--device", default="cpu", help="torch device of networks and data")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data, source = load_data()
    device = args.device
    test_inputs, test_labels = data.test_inputs.to(device), data.test_labels.to(device)
    network = BinarySteeringNetwork(100, HIDDEN, 10, device=device)
    weights, _ = train_epoch(
        network,
        network.init(17),
        SteeringRule(),
        data.train_inputs.to(device),
        data.train_labels.to(device),
        batch_size=16,
        streams=RandomStreams.from_seeds([17], device),
    )
    dense = BinarySteeringNetwork(100, HIDDEN, 10, device=device)
    dense.incremental = False  # the authors' algorithm: a full s J product every sweep
    results = {}

    def timed(name, net):
        def case():
            synchronize(device)
            start = time.perf_counter()
            results[name] = evaluate(
                net, weights, test_inputs, test_labels, sweeps=SWEEPS, batch_size=BATCH
            )
            synchronize(device)
            return time.perf_counter() - start

        return case

    ours, theirs, matmul = best_of(
        args.repeats,
        timed("neurodyn", network),
        timed("dense", dense),
        lambda: matmul_seconds_for(BATCH, HIDDEN, 10, device),
    )
    count = test_inputs.shape[0]
    flops = SWEEPS * 2 * count * HIDDEN**2
    reference = 2 * BATCH * HIDDEN**2 * 10 / matmul / 1e9
    print(
        f"data: {source}, {count} test images; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, device {device}; best of {args.repeats} "
        "alternating repeats"
    )
    for name, seconds in (("neurodyn", ours), ("dense relaxation", theirs)):
        accuracy, unstable = (float(v[0]) for v in results[name.split()[0]])
        print(
            f"  {name:18s} {count / seconds:8.0f} samples/s  {flops / seconds / 1e9:6.1f} "
            f"dense-equivalent GFLOP/s  (accuracy {accuracy:.4f}, unstable {unstable:.2e})"
        )
    shapes = f"({BATCH} x {HIDDEN}) @ ({HIDDEN} x {HIDDEN})"
    print(f"  plain matmul       {reference:8.1f} GFLOP/s {shapes}")
    print(f"  fraction of the matmul rate    {flops / ours / 1e9 / reference:6.2f}")
    print(f"  speed-up over the dense relaxation {theirs / ours:6.2f}")
    headline(
        f"steering evaluation, {count} test images, H = {HIDDEN}",
        f"{count / ours:.0f} samples/s, {theirs / ours:.2f}x the dense relaxation, "
        f"{flops / ours / 1e9 / reference:.2f} of the matmul rate",
        f">= {TARGET} samples/s",
    )


if __name__ == "__main__":
    main()
