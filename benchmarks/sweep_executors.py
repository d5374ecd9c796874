"""The rate-gain grid as a sweep on this machine: 2 workers vs 1, chunked ensembles vs one
configuration per job.

    python benchmarks/sweep_executors.py [--iterations 100] [--rounds 1]

The grid is the paper's (5 gains x 4 learning rates x 5 seeds = 100 networks, N = 64,
batch 32, Romo, BPTT), ``--iterations`` each, run as ``neurodyn sweep`` would (through
:func:`neurodyn.sweeps.run_sweep`, each setting in a fresh sweep folder):

* ``1 worker``: two chunks of 50 networks, one after another in this process (its
  PyTorch threads: all the CPUs it may use);
* ``2 workers``: the same two chunks at once, each in its own process pinned to its
  share of the CPUs with as many threads (submitit's LocalExecutor);
* ``one per job``: 100 chunks of one network each, 2 workers (what a sweep without
  ensembles does: one job per configuration).

Printed: wall seconds and network-iterations per second of each, and the ratios
``1 worker / 2 workers`` and ``one per job / 2 workers`` (wall time; > 1: the second is
faster), per round and over all rounds; the three tables must be equal, which is checked.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from _headline import headline
from neurodyn import sweeps
from neurodyn.config import to_dict
from neurodyn.experiments.rate_gain import RateGainConfig


def timed(config: RateGainConfig, chunk_size: int, workers: int) -> tuple[float, str]:
    """Wall seconds of the sweep and its table."""
    with tempfile.TemporaryDirectory() as root:
        sweep = sweeps.Sweep("rate-gain", to_dict(config), chunk_size)
        start = time.perf_counter()
        failures, _ = sweeps.run_sweep(root, sweep, sweeps.Local(workers), progress=False)
        seconds = time.perf_counter() - start
        if failures:
            raise RuntimeError(f"chunks failed: {failures}")
        return seconds, (sweeps.SweepFolder(root).table).read_text()


def ratios(seconds: dict[str, float]) -> str:
    pair = seconds["2 workers"]
    return (
        f"1 worker / 2 workers {seconds['1 worker'] / pair:.2f}, "
        f"one per job / 2 workers {seconds['one per job'] / pair:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    config = RateGainConfig(
        tasks=("romo",), rules=("bptt",), iterations=args.iterations, log_every=10,
        test_trials=100,
    )  # fmt: skip
    networks = len(config.members())
    print(f"rate-gain grid: {networks} networks x {args.iterations} iterations, "
          f"{len(os.sched_getaffinity(0))} CPUs")  # fmt: skip
    settings = {"1 worker": (50, 1), "2 workers": (50, 2), "one per job": (1, 2)}
    totals = dict.fromkeys(settings, 0.0)
    for round_index in range(args.rounds):
        seconds, tables = {}, set()
        for name, (chunk_size, workers) in settings.items():
            seconds[name], table = timed(config, chunk_size, workers)
            tables.add(table)
            totals[name] += seconds[name]
            rate = networks * args.iterations / seconds[name]
            print(f"round {round_index}: {name:<12} {seconds[name]:7.1f} s  {rate:7.0f} net-it/s")
        if len(tables) != 1:
            raise RuntimeError("the settings gave different tables")
        print(f"round {round_index}: {ratios(seconds)}")
    print(f"all rounds: {ratios(totals)}")
    headline(
        f"rate-gain sweep ({networks} networks x {args.iterations} iterations), 2 local workers",
        f"{totals['2 workers'] / totals['1 worker']:.2f}x the time of 1 worker; one network "
        f"per job {totals['one per job'] / totals['2 workers']:.1f}x the time of 2 workers",
    )


if __name__ == "__main__":
    main()
