"""The rate-multitask ensemble against its members trained one by one (issue 23 part 3).

    python benchmarks/multitask_ensemble.py [--iterations 50] [--hidden-size 128]
                                            [--gains 0.5,1,1.5] [--seeds 0,1] [--rule bptt]

The 20 tasks of Yang et al. 2019 (Nature Neuroscience 22, 297-306) as one task
(:class:`~neurodyn.tasks.multitask.NeurogymMultitask`); gains x seeds networks trained
with ``train_rate`` as one ensemble, then each alone for as many iterations (a member
alone equals its run in the ensemble). Prints both times and their ratio. Trials are
generated in Python by neurogym, one per distinct seed and trial, on both sides.
"""

from __future__ import annotations

import argparse
import time

from _headline import headline
from neurodyn import rules
from neurodyn.networks.rate import LeakyRateNetwork
from neurodyn.tasks.multitask import NeurogymMultitask
from neurodyn.training.rate import train_rate


def train(task, members: list[tuple[float, int]], hidden: int, rule: str, iterations: int):
    """Seconds to train ``members`` (gain, seed) as one ensemble."""
    network = LeakyRateNetwork(
        task.input_size,
        hidden,
        task.output_size,
        ensemble_size=len(members),
        gain=[gain for gain, _ in members],
        alpha=task.alpha,
    )
    seeds = [seed for _, seed in members]
    start = time.perf_counter()
    train_rate(
        network,
        network.init(seeds),
        task,
        rule=rules.get(rule)(),
        iterations=iterations,
        learning_rate=1e-3,
        seeds=seeds,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--gains", default="0.5,1,1.5")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--rule", default="bptt")
    args = parser.parse_args()
    task = NeurogymMultitask()
    gains = [float(g) for g in args.gains.split(",")]
    members = [(g, int(s)) for g in gains for s in args.seeds.split(",")]
    together = train(task, members, args.hidden_size, args.rule, args.iterations)
    alone = sum(train(task, [m], args.hidden_size, args.rule, args.iterations) for m in members)
    print(
        f"{len(members)} networks, N = {args.hidden_size}, {args.rule}, {args.iterations} "
        f"iterations: ensemble {together:.1f} s, one by one {alone:.1f} s"
    )
    headline(
        f"rate-multitask: {len(members)} networks as one ensemble vs one by one",
        f"{alone / together:.2f}x",
        "> 1",
    )


if __name__ == "__main__":
    main()
