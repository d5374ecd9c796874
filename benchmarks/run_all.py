"""Run every benchmark and print one table of their headline numbers on this machine.

    NEURODYN_DATA=../shared/data python benchmarks/run_all.py [--quick] [--only NAME ...]

Each benchmark runs in its own process (its own threads and memory, nothing left over
from the one before) with its default settings, its output shown as it comes; then one
Markdown table with a row per headline number (:func:`_headline.headline`) follows a line
that names the machine. ``docs/performance.md`` shows this table from the latest run.
``--quick`` runs every benchmark briefly to check that all of them work: its numbers
are not measurements. A benchmark that fails gets a row saying so, and the command exits
with status 1 after the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from _headline import PREFIX

HERE = Path(__file__).resolve().parent

# name: (script, arguments, --quick arguments)
BENCHMARKS = {
    "steering_throughput": ("steering_throughput", [], ["--steps", "20", "--repeats", "1"]),
    "steering_evaluation": ("steering_evaluation", [], ["--repeats", "1"]),
    "async_sweeps": (
        "async_sweeps",
        [],
        ["--size", "200", "--states", "8", "--self-couplings", "1.0", "--repeats", "1"],
    ),
    "rate_ensemble": ("rate_ensemble", [], ["--iterations", "2", "--rounds", "1"]),
    "multitask_ensemble": ("multitask_ensemble", [], ["--iterations", "2", "--hidden-size", "16"]),
    "rate_constraints": (
        "rate_constraints",
        [],
        ["--seeds", "1", "--iterations", "2", "--rounds", "1"],
    ),
    "lyapunov_spectrum": (
        "lyapunov_spectrum",
        [],
        ["--networks", "2", "--hidden-size", "16", "--exponents", "4", "--steps", "20"],
    ),
    "fixed_points": (
        "fixed_points",
        [],
        ["--iterations", "20", "--rounds", "1", "--training", "5"],
    ),
    "free_energy_grid": ("free_energy_grid", [], ["--epochs", "5", "--probe-epochs", "5"]),
    "sweep_executors": ("sweep_executors", [], ["--iterations", "10"]),
    "contention": ("contention", [], ["--quick"]),
}


def machine() -> str:
    """The CPU model, the CPUs this process may use, the GPU if any, and PyTorch."""
    model = platform.processor() or platform.machine()
    with_cpuinfo = Path("/proc/cpuinfo")
    if with_cpuinfo.exists():
        names = [line for line in with_cpuinfo.read_text().splitlines() if "model name" in line]
        model = names[0].split(":", 1)[1].strip() if names else model
    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return (
        f"{model}, {len(os.sched_getaffinity(0))} CPUs{gpu}; Python {platform.python_version()}, "
        f"PyTorch {torch.__version__}"
    )


def run(name: str, script: str, arguments: list[str]) -> tuple[list[dict], int]:
    """Run one benchmark, echoing its output; its headline rows and exit status."""
    print(f"\n=== {name}: python benchmarks/{script}.py {' '.join(arguments)}", flush=True)
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(HERE / f"{script}.py"), *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    rows = []
    for line in process.stdout:
        if line.startswith(PREFIX):
            rows.append(json.loads(line[len(PREFIX) :]))
        else:
            print(line, end="", flush=True)
    status = process.wait()
    print(f"=== {name}: {time.perf_counter() - began:.0f} s, exit status {status}", flush=True)
    return rows, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="check that all run (no numbers)")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(BENCHMARKS), metavar="NAME", help="these benchmarks"
    )
    args = parser.parse_args()
    table = [
        "| benchmark | quantity | measured | target |",
        "|---|---|---|---|",
    ]
    failed = []
    for name in args.only or BENCHMARKS:
        script, arguments, quick = BENCHMARKS[name]
        rows, status = run(name, script, quick if args.quick else arguments)
        if status or not rows:
            failed.append(name)
            table.append(f"| `{script}` | failed (exit status {status}) | | |")
        for row in rows:
            cells = (f"`{script}`", row["quantity"], row["measured"], row["target"])
            table.append("| " + " | ".join(cells) + " |")
    print(f"\nMachine: {machine()}" + (" (--quick: not measurements)" if args.quick else ""))
    print("\n".join(table))
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
