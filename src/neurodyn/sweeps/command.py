"""``neurodyn sweep``: the command line of a sweep, and ``show`` / ``plot`` of its folder.

neurodyn sweep NAME [--grid AXIS=VALUES ...] [--FIELD VALUE ...] [--chunk-size N | --chunks N]
               [--executor local|slurm] [--workers N] [slurm options] [--sweep FILE.toml]
neurodyn sweep --resume SWEEP_DIR [executor options]

A TOML ``--sweep`` file holds the same settings: ``chunk_size`` or ``chunks``, and the
tables ``[grid]`` (axis = values), ``[config]`` (fields) and ``[executor]`` (``kind`` and
the executor options below without their dashes; ``sbatch`` a table); the command line
overrides it.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from neurodyn import experiments
from neurodyn.config import add_arguments, from_dict, to_dict
from neurodyn.sweeps import Local, Slurm, Sweep, SweepFolder, run_sweep
from neurodyn.sweeps.gather import gather_result
from neurodyn.sweeps.grid import chunk_size_for


def _executor_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("executor (or the [executor] table of --sweep)")
    group.add_argument("--executor", choices=("local", "slurm"), help="where chunks run (local)")
    group.add_argument("--workers", type=int, help="local: chunks at once, processes (1)")
    group.add_argument("--partition", help="slurm: partition")
    group.add_argument("--time", type=int, dest="time_minutes", help="slurm: minutes per job (60)")
    group.add_argument("--cpus-per-task", type=int, help="slurm: CPUs (and threads) per job (1)")
    group.add_argument("--mem-gb", type=float, help="slurm: memory per job, GB")
    group.add_argument("--gpus", type=int, help="slurm: GPUs per job (gres gpu:N)")
    group.add_argument("--array-parallelism", type=int, help="slurm: jobs running at once (256)")
    group.add_argument("--max-requeues", type=int, help="slurm: requeues after time-outs (3)")
    group.add_argument(
        "--sbatch", action="append", default=[], metavar="KEY=VALUE", help="slurm: sbatch option"
    )
    group.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    from neurodyn.cli import add_compute_options

    add_compute_options(group)  # threads: this process's (chunks run here when --workers is 1)


def _pairs(entries: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{flag} takes NAME=VALUE, got {entry!r}")
        pairs[key.strip()] = value.strip()
    return pairs


def _executor(args: argparse.Namespace, table: dict) -> Local | Slurm:
    """The executor of the flags, over those of ``table`` (a sweep file's [executor], or
    what a resumed sweep last ran on), whose kind they keep unless --executor changes it."""
    if args.executor not in (None, table.get("kind", "local")):
        table = {}
    options = {k: v for k, v in table.items() if k != "kind"}
    given = {k: v for k, v in vars(args).items() if k in _OPTIONS - {"sbatch"}}
    options |= {k: v for k, v in given.items() if v is not None}
    if args.sbatch:
        options["sbatch"] = dict(options.get("sbatch", {})) | _pairs(args.sbatch, "--sbatch")
    kind = args.executor or table.get("kind", "local")
    cls = {"local": Local, "slurm": Slurm}.get(kind)
    if cls is None:
        raise ValueError(f"the executor must be local or slurm, got {kind!r}")
    allowed = {"local": {"workers"}, "slurm": _OPTIONS - {"workers"}}[kind]
    wrong = sorted(set(options) - allowed)
    if wrong:
        raise ValueError(f"options {wrong} do not apply to the {kind} executor")
    try:
        return cls(**options)
    except TypeError as error:
        raise ValueError(f"executor options: {error}") from None


# Every executor option: the fields of the executors (the flags and [executor] keys).
_OPTIONS = {f.name for cls in (Local, Slurm) for f in dataclasses.fields(cls)}


def _sweep(name: str, args: argparse.Namespace, file: dict, executor: Local | Slurm) -> Sweep:
    """The sweep's whole config: the defaults, then --config, the file's [config], the
    field flags and the grid (the file's, then --grid); and its chunk size (by default, one
    chunk per local worker)."""
    from neurodyn.cli import _config_file

    experiment = experiments.get(name)
    config = to_dict(experiment.make_config())
    config |= (_config_file(args.config) if args.config else {}) | file.get("config", {})
    flags = {k.removeprefix("field_"): v for k, v in vars(args).items() if k.startswith("field_")}
    config |= {k: v for k, v in flags.items() if v is not None}
    declared = experiment.members
    axes = declared.axes if declared else {}
    grid = dict(file.get("grid", {})) | _pairs(args.grid, "--grid")
    for axis, values in grid.items():
        field = axes.get(axis, axis if axis in axes.values() else None)
        if field is None:
            raise ValueError(
                f"{name} has no member axis {axis!r} (its axes: {list(axes) or 'none'})"
            )
        config[field] = values
    try:
        config = to_dict(from_dict(experiment.config, config))
    except (TypeError, ValueError) as error:
        raise ValueError(str(error)) from None
    size = args.chunk_size if args.chunk_size is not None else file.get("chunk_size")
    chunks = args.chunks if args.chunks is not None else file.get("chunks")
    if size is not None and chunks is not None:
        raise ValueError("give --chunk-size or --chunks, not both")
    if size is None:
        if chunks is None and isinstance(executor, Slurm):
            raise ValueError("give --chunk-size or --chunks: how many members each job holds")
        probe = Sweep(name, config, 1)  # checks the member axes
        size = chunk_size_for(probe.grid(), chunks or executor.workers)
    return Sweep(name, config, size)


def main(argv: list[str]) -> int:
    from neurodyn.cli import _config_file, _Parser, printable

    if argv[:1] == ["--resume"]:
        parser = _Parser(prog="neurodyn sweep --resume")
        parser.add_argument("folder", help="the sweep folder to continue")
        _executor_options(parser)
        args = parser.parse_args(argv[1:])
        folder = SweepFolder(args.folder)
        sweep = folder.read()
        return _report(folder, sweep, _executor(args, folder.read_executor()), args, printable)
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.split("\n\n")[1])
        return 0
    if not argv or argv[0].startswith("-"):
        raise ValueError(
            "neurodyn sweep needs an experiment name or --resume SWEEP_DIR (see neurodyn sweep "
            "--help)"
        )
    name = argv[0]
    experiment = experiments.get(name)
    parser = _Parser(prog=f"neurodyn sweep {name}", description=experiment.description)
    parser.add_argument("--out", help="sweep folder (default: runs/sweep-NAME)")
    parser.add_argument("--config", help="a JSON or TOML file with config fields")
    parser.add_argument("--sweep", help="a TOML file with grid, config and executor settings")
    parser.add_argument(
        "--grid", action="append", default=[], metavar="AXIS=V1,V2", help="a member axis' values"
    )
    parser.add_argument("--chunk-size", type=int, help="members per chunk (one job each)")
    parser.add_argument("--chunks", type=int, help="about this many chunks")
    _executor_options(parser)
    add_arguments(parser, experiment.make_config())
    args = parser.parse_args(argv[1:])
    file = _config_file(args.sweep) if args.sweep else {}
    executor = _executor(args, file.get("executor", {}))
    sweep = _sweep(name, args, file, executor)
    folder = SweepFolder(args.out or Path("runs") / f"sweep-{name}")
    folder.start(sweep)
    return _report(folder, sweep, executor, args, printable)


def _report(folder: SweepFolder, sweep: Sweep, executor, args, printable) -> int:
    folder.write_executor(executor)
    chunks = sweep.chunks()
    print(
        f"neurodyn sweep {sweep.experiment} -> {printable(str(folder.path))}: "
        f"{len(chunks)} chunks of up to {sweep.chunk_size} members on {executor}"
    )
    from neurodyn.cli import use_threads

    with use_threads(args.threads):  # local workers get their own share (executors.py)
        failures, result = run_sweep(
            folder.path, sweep, executor, not args.no_progress, deterministic=args.deterministic
        )
    for key, reason in failures.items():
        described = sweep.describe(sweep.keyed()[key])
        print(f"chunk {key} ({described}) failed: {printable(reason)}", file=sys.stderr)
    print(f"table: {printable(str(folder.table))}")
    if result is None:
        print(
            f"{len(failures)} chunk(s) failed; `neurodyn sweep --resume {folder.path}` "
            "reruns only those",
            file=sys.stderr,
        )
        return 1
    print(experiments.get(sweep.experiment).summary(result))
    print(f"figures: {printable(str(folder.result / 'figures'))}")
    return 0


def show(path: str) -> str:
    """What ``neurodyn show SWEEP_DIR`` prints: chunks done, failed (why) and missing,
    the table so far, and the summary once the sweep is gathered."""
    folder = SweepFolder(path)
    sweep = folder.read()
    status = folder.status(sweep)
    counts = {s: list(status.values()).count(s) for s in ("done", "failed", "missing")}
    lines = [
        f"sweep of {sweep.experiment}: {len(status)} chunks of up to {sweep.chunk_size} "
        f"members; " + ", ".join(f"{n} {s}" for s, n in counts.items())
    ]
    chunks = sweep.keyed()
    for key, state in status.items():
        if state != "done":
            why = f": {folder.failure(key)}" if state == "failed" else ""
            lines.append(f"  {state} {key} ({sweep.describe(chunks[key])}){why}")
    if folder.table.is_file():
        rows = folder.table.read_text(encoding="utf-8").count("\n") - 1
        lines.append(f"table: {folder.table} ({rows} rows)")
    if (folder.result / "result.json").is_file() and counts["done"] == len(status):
        from neurodyn.runs import RunFolder

        result = RunFolder.open(folder.result).read_result()
        lines.append(experiments.get(sweep.experiment).summary(result))
    return "\n".join(lines)


def plot(path: str) -> Path:
    """Redraw the whole sweep's figures (joining the chunks again if needed)."""
    folder = SweepFolder(path)
    sweep = folder.read()
    if set(folder.status(sweep).values()) != {"done"}:
        raise ValueError(f"{folder.path}: not every chunk is done (neurodyn show {path})")
    gather_result(folder, sweep)
    return folder.result / "figures"
