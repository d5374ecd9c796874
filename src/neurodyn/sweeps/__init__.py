"""Sweeps: an experiment's member grid split into chunks, run as jobs, joined again.

``neurodyn sweep EXPERIMENT --grid gain=0.2,0.5,1 --seeds 0-4 --chunk-size 10`` takes
the experiment's config, sets its member axes from the grid, and splits the members into
chunks (:mod:`~neurodyn.sweeps.grid`), each one config of the experiment and so one
ensemble and one job. The chunks run on an executor (:mod:`~neurodyn.sweeps.executors`:
this process, local processes, or SLURM through submitit) and each writes its run folder
and its tidy rows into the sweep folder (:mod:`~neurodyn.sweeps.folder`); the submitting
process then joins them (:mod:`~neurodyn.sweeps.gather`) into ``table.csv`` and the whole
sweep's ``result/`` folder with the experiment's figures. Members are counter-seeded,
so the joined numbers equal those of the one-ensemble run of the same config.
"""

from __future__ import annotations

import os

from neurodyn.sweeps.executors import Local, Slurm, execute
from neurodyn.sweeps.folder import Sweep, SweepFolder
from neurodyn.sweeps.gather import gather_result, gather_table, run_table, table_rows

__all__ = ["Local", "Slurm", "Sweep", "SweepFolder", "run_sweep", "run_table", "table_rows"]


def run_sweep(
    path: str | os.PathLike,
    sweep: Sweep,
    executor: Local | Slurm,
    progress: bool = True,
    *,
    deterministic: bool = False,
) -> tuple[dict[str, str], dict | None]:
    """Run the chunks of ``sweep`` in folder ``path`` that have no result yet (a rerun of
    a finished sweep submits nothing; ``deterministic``: on PyTorch's deterministic
    algorithms) and join what is done: ``table.csv`` always, the result and figures once
    every chunk is done. Returns ({chunk key: why it failed}, the whole sweep's result or
    None while chunks are missing)."""
    folder = SweepFolder(path)
    folder.start(sweep)
    failures = execute(executor, str(folder.path), progress, deterministic=deterministic)
    gather_table(folder, sweep)
    if failures or "missing" in folder.status(sweep).values():
        return failures, None
    return failures, gather_result(folder, sweep)
