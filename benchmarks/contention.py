"""Training speed when another process takes a core: 1 and 2 threads, quiet and busy.

    python benchmarks/contention.py [--threads 1,2] [--rounds 3] [--busy-core C] [--quick]

Two workloads, each timed per step at every thread count, with and without a competing
process (a Python loop spinning on core ``--busy-core``, by default the first CPU this
process may use) while the benchmark itself may run on all its CPUs, as a job does when
someone else's process lands on one of its cores:

* ``steering``: steering training steps of the main configuration (H = 1600, N = 100,
  B = 16, 5 + 5 sweeps; the setup of ``steering_throughput.py``);
* ``rate``: training iterations of the rate-gain ensemble (100 networks: 5 gains x 4
  learning rates x 5 seeds, N = 64, Romo, batch 32, BPTT; the default grid of ``rate-gain``).

Quiet and busy alternate in ``--rounds`` rounds (this machine's speed drifts by tens of
percent within minutes) and each setting keeps its median. Printed: a table of ms per
step, the ratio busy / quiet per setting, and per workload the thread count that degrades
least and the one that is fastest while the core is busy. ``--quick`` shrinks everything
to a smoke test of a few seconds (its numbers mean nothing).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import torch

from _headline import headline
from neurodyn import tasks
from neurodyn.experiments.rate_gain import RateGainConfig, ensemble
from neurodyn.networks.binary import BinarySteeringNetwork
from neurodyn.rules import BPTT
from neurodyn.rules.steering import SteeringRule
from neurodyn.threads import available_cpus
from neurodyn.training import RandomStreams, train_epoch
from neurodyn.training.rate import train_rate
from steering_throughput import load_inputs

SPIN = "while True:\n    pass\n"


@contextlib.contextmanager
def busy(core: int) -> Iterator[None]:
    """A Python process spinning on ``core`` for the duration of the block."""
    spinner = subprocess.Popen(
        [sys.executable, "-c", SPIN], preexec_fn=lambda: os.sched_setaffinity(0, {core})
    )
    try:
        time.sleep(0.2)  # let it start spinning
        yield
    finally:
        spinner.kill()
        spinner.wait()


def steering(hidden: int, steps: int, batch: int = 16) -> Callable[[], float]:
    """Seconds per steering training step over ``steps`` mini-batches (one warm-up)."""
    inputs, labels, source = load_inputs(steps * batch)
    print(f"steering: H = {hidden}, B = {batch}, {steps} steps per timing, data {source}")
    inputs, labels = inputs[: steps * batch], labels[: steps * batch]
    network, rule = BinarySteeringNetwork(100, hidden, 10), SteeringRule()
    weights, streams = network.init([17]), RandomStreams.from_seeds([17])

    def step() -> float:
        start = time.perf_counter()
        train_epoch(network, weights, rule, inputs, labels, batch_size=batch, streams=streams)
        return (time.perf_counter() - start) / steps

    step()
    return step


QUICK_GRID = RateGainConfig(gains=(0.5, 1.0), learning_rates=(1e-3,), seeds=(0, 1, 2, 3))


def rate(config: RateGainConfig, iterations: int) -> Callable[[], float]:
    """Seconds per training iteration of the rate-gain ensemble of ``config`` on Romo."""
    task = tasks.get("romo")
    network, seeds = ensemble(config, task)
    rates = [lr for _, lr, _ in config.members()]
    weights = network.init(seeds)
    print(f"rate: {len(seeds)} networks, N = 64, Romo BPTT, {iterations} iterations per timing")

    def step() -> float:
        start = time.perf_counter()
        train_rate(
            network,
            weights,
            task,
            rule=BPTT(),
            iterations=iterations,
            learning_rate=rates,
            seeds=seeds,
        )
        return (time.perf_counter() - start) / iterations

    step()
    return step


def measure(step: Callable[[], float], threads: list[int], rounds: int, core: int) -> dict:
    """{(threads, "quiet" | "busy"): median seconds per step}, quiet and busy alternating."""
    times: dict[tuple[int, str], list[float]] = {}
    for _ in range(rounds):
        for count in threads:
            torch.set_num_threads(count)
            times.setdefault((count, "quiet"), []).append(step())
            with busy(core):
                times.setdefault((count, "busy"), []).append(step())
    return {key: statistics.median(values) for key, values in times.items()}


def report(name: str, medians: dict, threads: list[int]) -> None:
    """One table row per thread count, then the least degraded and the fastest when busy."""
    ratios = {t: medians[t, "busy"] / medians[t, "quiet"] for t in threads}
    for count in threads:
        quiet, loaded = medians[count, "quiet"] * 1e3, medians[count, "busy"] * 1e3
        print(f"{name:<10}{count:>8}{quiet:>12.1f}{loaded:>12.1f}{ratios[count]:>12.2f}")
    least = min(threads, key=ratios.get)
    fastest = min(threads, key=lambda t: medians[t, "busy"])
    print(
        f"{'':<10}least degraded: {least} thread(s) ({ratios[least]:.2f}x); "
        f"fastest with a busy core: {fastest} thread(s)"
    )
    slowdowns = ", ".join(f"{count} thread(s) {ratios[count]:.1f}x" for count in threads)
    headline(f"{name} step with another process on one core", f"slower by {slowdowns}")


def _counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip().isdigit()]
    if not counts or len(counts) != len(text.split(",")) or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"must be positive integers like 1,2, got {text!r}")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=_counts, default=[1, 2], help="thread counts (1,2)")
    parser.add_argument("--rounds", type=int, default=3, help="quiet/busy alternations")
    parser.add_argument("--busy-core", type=int, help="the busy process's CPU (first CPU)")
    parser.add_argument("--quick", action="store_true", help="a smoke test of a few seconds")
    args = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    core = cpus[0] if args.busy_core is None else args.busy_core
    if core not in cpus:
        parser.error(f"--busy-core must be one of this process's CPUs {cpus}, got {core}")
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")
    rounds = 1 if args.quick else args.rounds
    workloads = {
        "steering": lambda: steering(200, 5) if args.quick else steering(1600, 40),
        "rate": lambda: rate(QUICK_GRID, 2) if args.quick else rate(RateGainConfig(), 8),
    }
    print(
        f"torch {torch.__version__}; this process may use {available_cpus()} CPUs {cpus}; "
        f"busy process on CPU {core}; median of {rounds} alternating round(s)"
        + (" (--quick: a smoke test, not a measurement)" if args.quick else "")
    )
    steps = {name: make() for name, make in workloads.items()}  # set up (and warm) both
    print(f"\n{'workload':<10}{'threads':>8}{'quiet ms':>12}{'busy ms':>12}{'busy/quiet':>12}")
    for name, step in steps.items():
        report(name, measure(step, args.threads, rounds, core), args.threads)


if __name__ == "__main__":
    main()
