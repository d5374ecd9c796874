"""The ``neurodyn`` command.

neurodyn list                                  experiments and what they reproduce
neurodyn run NAME [--out DIR] [--resume] [--FIELD VALUE ...]   (NAME --help: every field)
neurodyn reproduce [--quick] [--out DIR]        quick reproduction next to the papers
neurodyn show RUN_DIR                           a finished or running run's summary
neurodyn plot RUN_DIR                           redraw a run's figures from its folder
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from neurodyn import experiments
from neurodyn.config import add_arguments, apply_arguments, load_file, to_dict
from neurodyn.runs import RunFolder


def _run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", help="run folder (default: runs/NAME)")
    parser.add_argument("--config", help="a JSON or TOML file with config fields")
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its checkpoint"
    )
    parser.add_argument("--overwrite", action="store_true", help="delete --out and start again")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _experiment_parser(name: str) -> argparse.ArgumentParser:
    """``neurodyn run NAME``'s options: the run options and one flag per config field."""
    experiment = experiments.get(name)
    parser = argparse.ArgumentParser(
        prog=f"neurodyn run {name}", description=experiment.description
    )
    _run_options(parser)
    add_arguments(parser, experiment.make_config())
    return parser


def _present(experiment: experiments.Experiment, folder: RunFolder) -> None:
    """Draw the figures of ``folder`` and print its summary, from its files alone."""
    experiment.plot(folder)
    print(experiment.summary(folder.read_result()))
    print(f"figures: {folder.path / 'figures'}")


def _run(name: str, argv: list[str]) -> int:
    experiment = experiments.get(name)
    args = _experiment_parser(name).parse_args(argv)
    config = load_file(experiment.config, args.config) if args.config else experiment.make_config()
    config = apply_arguments(config, args)
    folder = RunFolder(
        args.out or Path("runs") / name,
        to_dict(config),
        resume=args.resume,
        overwrite=args.overwrite,
    )
    print(f"neurodyn run {name} -> {folder.path}")
    print(json.dumps(to_dict(config), indent=1))
    experiment.run(config, folder, not args.no_progress)
    _present(experiment, folder)
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    root = Path(args.out or ("runs/reproduce-quick" if args.quick else "runs/reproduce"))
    for name, experiment in experiments.EXPERIMENTS.items():
        if experiment.quick is None:
            continue
        config = experiment.quick() if args.quick else experiment.make_config()
        folder = RunFolder(
            root / name, to_dict(config), resume=args.resume, overwrite=not args.resume
        )
        print(f"\n== {name}: {experiment.description}\n   run folder: {folder.path}")
        experiment.run(config, folder, not args.no_progress)
        _present(experiment, folder)
    return 0


def _existing(folder: str) -> tuple[experiments.Experiment, RunFolder]:
    run = RunFolder.open(folder)
    return experiments.get(run.read_result()["experiment"]), run


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="neurodyn", description=__doc__.split("\n")[0])
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
    for command, purpose in (("show", "print the summary"), ("plot", "redraw the figures")):
        sub.add_parser(command, help=f"{purpose} of a run folder").add_argument("folder")
    try:
        if argv[:1] == ["run"] and len(argv) > 1 and not argv[1].startswith("-"):
            return _run(argv[1], argv[2:])
        args = parser.parse_args(argv)
        if args.command == "run":
            parser.error("neurodyn run needs an experiment name (see neurodyn list)")
        if args.command == "list":
            for name, experiment in experiments.EXPERIMENTS.items():
                print(f"{name:<26}{experiment.description}")
            return 0
        if args.command == "reproduce":
            return _reproduce(args)
        experiment, folder = _existing(args.folder)
        if args.command == "plot":
            experiment.plot(folder)
            print(f"figures redrawn in {folder.path / 'figures'}")
            return 0
        print(experiment.summary(folder.read_result()))
        return 0
    except (ValueError, KeyError, FileExistsError, FileNotFoundError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"neurodyn: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
