"""The ``neurodyn`` command.

neurodyn list                                  experiments and what they reproduce
neurodyn run NAME [--out DIR] [--resume] [--FIELD VALUE ...]   (NAME --help: every field)
neurodyn reproduce [--quick] [--out DIR]        quick reproduction next to the papers
neurodyn sweep NAME [--grid AXIS=VALUES ...] [--executor local|slurm] ...
                                                a sweep in chunks (neurodyn sweep NAME --help)
neurodyn show RUN_DIR|SWEEP_DIR                 a run's summary, or a sweep's state
neurodyn plot RUN_DIR|SWEEP_DIR                 redraw the figures from the folder

Threads: every command that computes (run, reproduce, sweep) sets PyTorch's and numba's
thread count to ``--threads N``, else ``OMP_NUM_THREADS``, else the CPUs the process may
use (affinity, cgroup quota, SLURM; :mod:`neurodyn.threads`), and puts the previous
count back when it ends. This is the application's choice: the library sets nothing.
Every experiment runs in full float32 precision, and with ``--deterministic`` on PyTorch's
deterministic algorithms (:mod:`neurodyn.precision`; both recorded in the run's marker).

Every anticipated failure (a bad setting or file, a refused run folder, an OSError such
as a full disk) is one line ``neurodyn: error: ...`` on stderr and exit code 2; a
traceback means a bug.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numba
import torch

from neurodyn import experiments, threads
from neurodyn.config import add_arguments, apply_arguments, from_dict, to_dict
from neurodyn.precision import full_precision
from neurodyn.runs import RunFolder
from neurodyn.sweeps.folder import MARKER as SWEEP_MARKER

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class UsageError(Exception):
    """A command line that the parser rejects."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``UsageError``), not usage text."""

    def error(self, message: str):
        raise UsageError(f"{message} (see {self.prog} --help)")


def printable(text: str) -> str:
    """``text`` with control characters (terminal escape codes, newlines) escaped."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _printable_values(value: Any) -> Any:
    """Every string in a JSON value passed through :func:`printable` (keys included)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {_printable_values(k): _printable_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable_values(v) for v in value]
    return value


def _positive_threads(text: str) -> int:
    """``--threads``' value: a positive integer, else a one-line usage error."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (threads), got {text!r}")
    return int(text)


def add_compute_options(parser: argparse.ArgumentParser) -> None:
    """``--threads N`` and ``--deterministic`` on a command that computes (run, reproduce,
    sweep)."""
    parser.add_argument(
        "--threads",
        type=_positive_threads,
        metavar="N",
        help="PyTorch and numba threads (default: OMP_NUM_THREADS, else the CPUs this "
        "process may use: affinity, cgroup quota, SLURM_CPUS_PER_TASK)",
    )
    parser.add_argument(
        "--deterministic",
        action="store_true",
        help="PyTorch's deterministic algorithms (and CUBLAS_WORKSPACE_CONFIG=:4096:8 where "
        "unset), for runs that must repeat bit for bit on a GPU",
    )


@contextlib.contextmanager
def use_threads(requested: int | None) -> Iterator[int]:
    """Compute on ``requested`` threads, else :func:`neurodyn.threads.thread_count`'s
    choice, and restore the previous counts afterwards (so that ``main`` called in a
    process, as the tests do, leaves that process's setting as it was). Inter-op threads
    are left alone: neurodyn forks no inter-op work, and PyTorch allows setting them only
    once per process, before any parallel work."""
    count, source = threads.thread_count(requested)
    before = torch.get_num_threads(), numba.get_num_threads()
    print(f"threads: {count} ({printable(source)})")
    torch.set_num_threads(count)
    numba.set_num_threads(min(count, numba.config.NUMBA_NUM_THREADS))  # numba's pool size
    try:
        yield count
    finally:
        torch.set_num_threads(before[0])
        numba.set_num_threads(before[1])


WORKSPACE = ":4096:8"  # CUBLAS_WORKSPACE_CONFIG that deterministic cuBLAS needs


@contextlib.contextmanager
def deterministic() -> Iterator[None]:
    """``torch.use_deterministic_algorithms(True)`` and, where unset,
    ``CUBLAS_WORKSPACE_CONFIG`` = :data:`WORKSPACE` inside; both restored afterwards. An
    operation without a deterministic implementation then raises a RuntimeError."""
    before = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    workspace = os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    if workspace is None:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = WORKSPACE
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before, warn_only=warn_only)
        if workspace is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)


@contextlib.contextmanager
def run_settings(deterministic_run: bool = False) -> Iterator[None]:
    """How every experiment run computes (``run``, ``reproduce`` and sweep chunks):
    :func:`~neurodyn.precision.full_precision`, and :func:`deterministic` if
    ``deterministic_run``."""
    determinism = deterministic() if deterministic_run else contextlib.nullcontext()
    with full_precision(), determinism:
        yield


def _run_options(parser: argparse.ArgumentParser) -> None:
    add_compute_options(parser)
    parser.add_argument("--out", help="run folder (default: runs/NAME)")
    parser.add_argument("--config", help="a JSON or TOML file with config fields")
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its checkpoint"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run in --out (only a neurodyn run folder, once the inputs are valid)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _experiment_parser(name: str) -> argparse.ArgumentParser:
    """``neurodyn run NAME``'s options: the run options and one flag per config field."""
    experiment = experiments.get(name)
    parser = _Parser(prog=f"neurodyn run {name}", description=experiment.description)
    _run_options(parser)
    add_arguments(parser, experiment.make_config())
    return parser


def _config_file(path: str) -> dict:
    """The config fields in the JSON or TOML file ``path``; a clear error naming it."""
    file = Path(path)
    kind = "TOML" if file.suffix.lower() == ".toml" else "JSON"
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"--config {path}: cannot read it ({error.strerror})") from None
    except ValueError as error:  # UnicodeDecodeError
        raise ValueError(f"--config {path} is not a {kind} text file ({error})") from None
    try:
        values = tomllib.loads(text) if kind == "TOML" else json.loads(text)
    except ValueError as error:
        raise ValueError(f"--config {path} is not valid {kind} ({error})") from None
    if not isinstance(values, dict):
        raise ValueError(
            f"--config {path} must hold a table of config fields (field = value), "
            f"not a {type(values).__name__}"
        )
    return values


def _config(experiment: experiments.Experiment, args: argparse.Namespace) -> Any:
    """The experiment's config: its defaults, then --config, then the field flags."""
    config = experiment.make_config()
    if args.config is not None:
        values = to_dict(config) | _config_file(args.config)
        try:
            config = from_dict(experiment.config, values)
        except (TypeError, ValueError) as error:
            raise ValueError(f"--config {args.config}: {error}") from None
    try:  # the config classes check every field (ValueError naming it) when made
        return apply_arguments(config, args)
    except TypeError as error:
        raise ValueError(str(error)) from None


def _present(experiment: experiments.Experiment, folder: RunFolder) -> None:
    """Draw the figures of ``folder`` and print its summary, from its files alone."""
    _plot(experiment, folder)
    print(_summary(experiment, folder, folder.read_result()))
    print(f"figures: {printable(str(folder.path / 'figures'))}")


def _run(name: str, argv: list[str]) -> int:
    experiment = experiments.get(name)
    args = _experiment_parser(name).parse_args(argv)
    config = _config(experiment, args)
    folder = RunFolder(
        args.out or Path("runs") / name,
        to_dict(config),
        resume=args.resume,
        overwrite=args.overwrite,
        experiment=name,
        defaults=to_dict(experiment.config()),
    )
    print(f"neurodyn run {name} -> {printable(str(folder.path))}")
    print(json.dumps(to_dict(config), indent=1))
    with use_threads(args.threads):
        with run_settings(args.deterministic):
            experiment.run(config, folder, not args.no_progress)
        _present(experiment, folder)
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    with use_threads(args.threads):
        return _reproduce_all(args)


def _reproduce_all(args: argparse.Namespace) -> int:
    root = Path(args.out or ("runs/reproduce-quick" if args.quick else "runs/reproduce"))
    for name, experiment in experiments.EXPERIMENTS.items():
        if experiment.quick is None:
            continue
        config = experiment.quick() if args.quick else experiment.make_config()
        resume = args.resume and RunFolder.holds_run(root / name)  # else start it
        folder = RunFolder(
            root / name,
            to_dict(config),
            resume=resume,
            overwrite=not args.resume,
            experiment=name,
            defaults=to_dict(experiment.config()),
        )
        print(f"\n== {name}: {experiment.description}\n   run folder: {folder.path}")
        with run_settings(args.deterministic):
            experiment.run(config, folder, not args.no_progress)
        _present(experiment, folder)
    return 0


def _existing(path: str) -> tuple[experiments.Experiment, RunFolder]:
    """The run folder ``path`` and its experiment: the one named by its result.json, or
    by its marker while no result is written."""
    folder = RunFolder.open(path)
    named_by = folder.path / "result.json"
    if named_by.exists():
        name = folder.read_result().get("experiment")
    else:
        name, named_by = folder.experiment, folder.path / "neurodyn-run.json"
    if not isinstance(name, str):
        raise ValueError(f"{named_by} names no experiment (no string 'experiment' entry)")
    try:
        return experiments.get(name), folder
    except KeyError as error:
        raise ValueError(f"{named_by}: {error.args[0]}") from None


def _malformed(what: str, error: Exception) -> ValueError:
    return ValueError(f"{what} ({type(error).__name__}: {error})")


def _summary(experiment: experiments.Experiment, folder: RunFolder, result: dict) -> str:
    """The summary of ``result``, its strings escaped; a malformed result is a ValueError."""
    try:
        return experiment.summary(_printable_values(result))
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
        what = f"{folder.path / 'result.json'} is not a complete {experiment.name} result"
        raise _malformed(what, error) from None


def _plot(experiment: experiments.Experiment, folder: RunFolder) -> None:
    """Draw the figures of ``folder``; a malformed result is a ValueError."""
    try:
        experiment.plot(folder)
    except (AttributeError, IndexError, KeyError, TypeError) as error:
        what = f"{folder.path / 'result.json'} (or another file there) is not a complete run"
        raise _malformed(what, error) from None


def _main(argv: list[str]) -> int:
    if argv[:1] == ["run"] and len(argv) > 1 and not argv[1].startswith("-"):
        return _run(argv[1], argv[2:])
    if argv[:1] == ["sweep"]:
        from neurodyn.sweeps import command

        return command.main(argv[1:])
    parser = _Parser(prog="neurodyn", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the experiments")
    run = sub.add_parser(
        "run", help="run one experiment (neurodyn run NAME --help lists its fields)", add_help=False
    )
    run.add_argument("name", help="experiment name (see neurodyn list)")
    reproduce = sub.add_parser("reproduce", help="run every experiment and compare with the papers")
    reproduce.add_argument("--quick", action="store_true", help="scaled-down configs (minutes)")
    reproduce.add_argument("--out", help="root folder (default: runs/reproduce[-quick])")
    reproduce.add_argument("--resume", action="store_true", help="continue interrupted runs")
    reproduce.add_argument("--no-progress", action="store_true")
    add_compute_options(reproduce)
    sub.add_parser("sweep", help="a sweep in chunks on an executor (neurodyn sweep --help)")
    for command, purpose in (("show", "print the summary"), ("plot", "redraw the figures")):
        sub.add_parser(command, help=f"{purpose} of a run or sweep folder").add_argument("folder")
    args = parser.parse_args(argv)
    if args.command == "run":
        parser.error("neurodyn run needs an experiment name (see neurodyn list)")
    if args.command == "list":
        for name, experiment in experiments.EXPERIMENTS.items():
            print(f"{name:<26}{experiment.description}")
        return 0
    if args.command == "reproduce":
        return _reproduce(args)
    if (Path(args.folder) / SWEEP_MARKER).is_file():
        from neurodyn.sweeps import command

        if args.command == "plot":
            print(f"figures redrawn in {printable(str(command.plot(args.folder)))}")
        else:
            print("\n".join(map(printable, command.show(args.folder).splitlines())))
        return 0
    experiment, folder = _existing(args.folder)
    if args.command == "plot":
        _plot(experiment, folder)
        print(f"figures redrawn in {printable(str(folder.path / 'figures'))}")
        return 0
    print(_summary(experiment, folder, folder.read_result()))
    return 0


def _describe(error: BaseException) -> str:
    """One line for an anticipated failure (an OSError names its file)."""
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])
    return str(error)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _main(argv)
    except KeyboardInterrupt:
        message, code = "interrupted (--resume continues a run from its checkpoint)", 130
    except (UsageError, ValueError, KeyError, OSError) as error:
        message, code = _describe(error), 2
    print(f"neurodyn: error: {printable(' '.join(message.splitlines()))}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
