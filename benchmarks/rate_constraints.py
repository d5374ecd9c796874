"""The constrained ``rate-gain-dale`` grid against unconstrained networks of the same size.

    python benchmarks/rate_constraints.py [--tasks romo decision] [--rules bptt eprop]
                                          [--seeds 2] [--iterations 20] [--rounds 3]

The grid trains one ensemble per (task, rule). The constrained side is that ensemble: every
condition (Dale's law off / plain / balanced x connection probability 0.2 / 1 x noise off /
on) x 5 gains x one learning rate x ``--seeds`` seeds, N = 64, batch 32. The baseline is
the same number of networks at the same gains without any constraint, as ``rate-gain``
trains them. Both train ``--iterations`` iterations with :func:`train_rate`, alternating in
``--rounds`` rounds so that both see the machine in the same states; printed: seconds per
iteration and the ratio constrained / plain for each ensemble and for its noise-off half
(Dale's law and masks alone), then the ratio of the whole grid's wall time, the sum over
its ensembles (issue 21's target: <= 1.5).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch

from _headline import headline
from neurodyn import rules, tasks
from neurodyn.experiments.rate_gain import ensemble
from neurodyn.experiments.rate_gain_dale import RateGainDaleConfig
from neurodyn.networks.rate import LeakyRateNetwork
from neurodyn.training.rate import train_rate


def trainer(network: LeakyRateNetwork, seeds: list[int], task, rule: str, iterations: int):
    """A function that trains ``network`` from its initialisation; returns its seconds."""
    initial = network.init(seeds)

    def train() -> float:
        begin = time.perf_counter()
        train_rate(
            network,
            initial,
            task,
            rule=rules.get(rule)(),
            iterations=iterations,
            learning_rate=1e-3,
            seeds=seeds,
            batch_size=32,
            progress=False,
        )
        return time.perf_counter() - begin

    return train


def compare(config: RateGainDaleConfig, task, rule: str, iterations: int, rounds: int):
    """Print the times per iteration of both sides; return them (constrained, plain)."""
    constrained, seeds = ensemble(config, task)
    plain = LeakyRateNetwork(
        task.input_size,
        config.hidden_size,
        task.output_size,
        ensemble_size=constrained.ensemble_size,
        gain=constrained.gain,
        alpha=task.alpha,
    )
    sides = [trainer(net, seeds, task, rule, iterations) for net in (constrained, plain)]
    sides[0](), sides[1]()  # warm-up
    times = [[side() for side in sides] for _ in range(rounds)]
    total = [sum(t[i] for t in times) / (rounds * iterations) for i in range(2)]
    ratios = [c / p for c, p in times]
    print(
        f"{constrained.ensemble_size} networks: constrained {1e3 * total[0]:.0f} ms, plain "
        f"{1e3 * total[1]:.0f} ms per iteration; ratio {total[0] / total[1]:.2f} (rounds "
        f"{min(ratios):.2f} ... {max(ratios):.2f})"
    )
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", nargs="+", default=["romo", "decision"])
    parser.add_argument("--rules", nargs="+", default=["bptt", "eprop"])
    parser.add_argument("--seeds", type=int, default=2, help="seeds per condition and gain")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    grid = [0.0, 0.0]
    for name in args.tasks:
        task = tasks.get(name)
        for rule in args.rules:
            config = RateGainDaleConfig(
                tasks=(name,),
                rules=(rule,),
                learning_rates=(1e-3,),
                seeds=tuple(range(args.seeds)),
                iterations=args.iterations,
                log_every=args.iterations,
            )
            print(f"{name}, {rule}\n  whole ensemble: ", end="")
            times = compare(config, task, rule, args.iterations, args.rounds)
            grid = [g + t for g, t in zip(grid, times, strict=True)]
            headline(
                f"rate-gain-dale ensemble ({name}, {rule}) against unconstrained networks",
                f"{times[0] / times[1]:.2f}x the time",
            )
            print("  noise off:      ", end="")
            compare(replace(config, noise=("off",)), task, rule, args.iterations, args.rounds)
    headline(
        f"whole rate-gain-dale grid ({len(args.tasks) * len(args.rules)} ensembles) against "
        "unconstrained networks",
        f"{grid[0] / grid[1]:.2f}x the time",
        "<= 1.5x",
    )


if __name__ == "__main__":
    main()
