"""A sweep's chunks joined: one tidy table, and the whole sweep's result and figures.

The table (``table.csv``, readable by ``pandas.read_csv``) has one row per member and
step (iteration, epoch, ...): the member's axis values, every other config field, then
the step and the metrics. Rows are ordered as the members of the whole config (outermost
axis first), so a sweep's table is the same however it was chunked and wherever the
chunks ran, and equal to :func:`table_rows` of the one-ensemble run of the same config.
"""

from __future__ import annotations

import csv
import io

from neurodyn import experiments
from neurodyn.config import from_dict
from neurodyn.files import atomic_write
from neurodyn.runs import RunFolder
from neurodyn.sweeps.folder import Sweep, SweepFolder, chunk_key


def table_rows(experiment: str, config: dict, rows: list[dict]) -> list[dict]:
    """``rows`` of a run of ``config`` (from ``MemberAxes.rows``) as table rows: axis
    values, the other config fields, then the step and metrics; stably sorted by the
    position of each axis value in ``config``."""
    axes = experiments.get(experiment).members.axes
    scalars = {k: v for k, v in config.items() if k not in axes.values()}
    order = {axis: {_key(v): i for i, v in enumerate(config[name])} for axis, name in axes.items()}

    def position(row: dict) -> tuple[int, ...]:
        try:
            return tuple(order[axis][_key(row[axis])] for axis in axes)
        except KeyError as error:
            raise ValueError(f"a row's {error.args[0]} is not a value of its config") from None

    table = [
        {a: row[a] for a in axes} | scalars | {k: v for k, v in row.items() if k not in axes}
        for row in rows
    ]
    return sorted(table, key=position)


def run_table(experiment: str, folder: RunFolder) -> list[dict]:
    """The table rows of the finished run folder ``folder`` of ``experiment`` (a chunk's,
    or a one-ensemble run's of the same config, to compare with a sweep)."""
    declared = experiments.get(experiment)
    config = from_dict(declared.config, folder.config)
    return table_rows(experiment, folder.config, declared.members.rows(config, folder))


def _key(value) -> str:
    """Axis values compared by their JSON text (1 and 1.0 are one gain)."""
    return repr(float(value)) if isinstance(value, int | float) else repr(value)


def write_table(path, rows: list[dict]) -> None:
    """``rows`` as CSV (atomically); a column missing from a row is left empty."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(path, buffer.getvalue())


def gather_table(folder: SweepFolder, sweep: Sweep) -> int:
    """Write ``table.csv`` from every finished chunk; returns its number of rows."""
    status = folder.status(sweep)
    rows = [row for key, state in status.items() if state == "done" for row in folder.rows(key)]
    table = table_rows(sweep.experiment, sweep.config, rows)
    write_table(folder.table, table)
    return len(table)


def gather_result(folder: SweepFolder, sweep: Sweep) -> dict:
    """The whole sweep's result, written with its figures into ``result/`` from the
    chunks' run folders (every chunk must be done)."""
    experiment = experiments.get(sweep.experiment)
    parts = [
        RunFolder.open(folder.chunk(chunk_key(sweep.experiment, config)))
        for config in sweep.chunks()
    ]
    target = RunFolder(
        folder.result,
        sweep.config,
        overwrite=RunFolder.holds_run(folder.result),
        experiment=sweep.experiment,
    )
    config = from_dict(experiment.config, sweep.config)
    result = experiment.members.gather(config, parts, target)
    experiment.plot(target)
    return result
