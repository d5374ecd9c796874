"""The ``neurodyn`` command.

neurodyn list                                  experiments and what they reproduce
neurodyn run NAME [--out DIR] [--resume] [--FIELD VALUE ...]
neurodyn reproduce [--quick] [--out DIR]        quick reproduction next to the papers
neurodyn show RUN_DIR                           a finished or running run's summary
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from neurodyn._memory import configure_process

# Freed memory kept for reuse and large tensors on huge pages (neurodyn._memory), before
# torch makes its first large tensor.
configure_process()

from neurodyn import experiments  # noqa: E402
from neurodyn.config import add_arguments, apply_arguments, load_file, to_dict  # noqa: E402
from neurodyn.runs import RunFolder  # noqa: E402


def _run_parser(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="run one experiment (neurodyn run NAME --help for its fields)")
    run.add_argument("name", help="experiment name (see neurodyn list)")
    run.add_argument("--out", help="run folder (default: runs/NAME)")
    run.add_argument("--config", help="a JSON or TOML file with config fields")
    run.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its checkpoint"
    )
    run.add_argument("--overwrite", action="store_true", help="delete --out and start again")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _experiment_parser(name: str) -> argparse.ArgumentParser:
    experiment = experiments.get(name)
    parser = argparse.ArgumentParser(
        prog=f"neurodyn run {name}", description=experiment.description
    )
    add_arguments(parser, experiment.make_config())
    return parser


def _run(args: argparse.Namespace, extra: list[str]) -> int:
    experiment = experiments.get(args.name)
    config = load_file(experiment.config, args.config) if args.config else experiment.make_config()
    config = apply_arguments(config, _experiment_parser(args.name).parse_args(extra))
    folder = RunFolder(
        args.out or Path("runs") / args.name,
        to_dict(config),
        resume=args.resume,
        overwrite=args.overwrite,
    )
    print(f"neurodyn run {args.name} -> {folder.path}")
    print(json.dumps(to_dict(config), indent=1))
    result = experiment.run(config, folder, not args.no_progress)
    print(experiment.summary(result))
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    root = Path(args.out or ("runs/reproduce-quick" if args.quick else "runs/reproduce"))
    for name, experiment in sorted(experiments.REGISTRY.items()):
        if experiment.quick is None:
            continue
        config = experiment.quick() if args.quick else experiment.make_config()
        folder = RunFolder(
            root / name, to_dict(config), resume=args.resume, overwrite=not args.resume
        )
        print(f"\n== {name}: {experiment.description}\n   run folder: {folder.path}")
        result = experiment.run(config, folder, not args.no_progress)
        print(experiment.summary(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="neurodyn", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the experiments")
    _run_parser(sub)
    reproduce = sub.add_parser("reproduce", help="run every experiment and compare with the papers")
    reproduce.add_argument("--quick", action="store_true", help="scaled-down configs (minutes)")
    reproduce.add_argument("--out", help="root folder (default: runs/reproduce[-quick])")
    reproduce.add_argument("--resume", action="store_true", help="continue interrupted runs")
    reproduce.add_argument("--no-progress", action="store_true")
    show = sub.add_parser("show", help="print the summary of a run folder")
    show.add_argument("folder")
    args, extra = parser.parse_known_args(argv)
    try:
        if args.command != "run" and extra:
            parser.error(f"unrecognised arguments: {' '.join(extra)}")
        if args.command == "list":
            for name, experiment in sorted(experiments.REGISTRY.items()):
                print(f"{name:<26}{experiment.description}")
            return 0
        if args.command == "run":
            return _run(args, extra)
        if args.command == "reproduce":
            return _reproduce(args)
        result = json.loads((Path(args.folder) / "result.json").read_text())
        print(experiments.get(result["experiment"]).summary(result))
        return 0
    except (ValueError, KeyError, FileExistsError, FileNotFoundError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"neurodyn: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
