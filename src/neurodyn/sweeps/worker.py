"""One chunk of a sweep, run where the executor put it (this process or a job's)."""

from __future__ import annotations

import traceback

from neurodyn import experiments
from neurodyn.config import from_dict
from neurodyn.files import atomic_write
from neurodyn.runs import RunFolder
from neurodyn.sweeps.folder import SweepFolder, chunk_key


def run_chunk(sweep_path: str, experiment: str, config: dict, deterministic: bool = False) -> str:
    """Run the chunk ``config`` of ``experiment`` in its run folder of the sweep (resuming
    what an earlier attempt left there) under :func:`neurodyn.cli.run_settings`
    (``deterministic``: PyTorch's deterministic algorithms), then write its tidy rows, the
    mark of a finished chunk; returns the chunk's key. A failure writes its traceback next
    to the rows and is raised again. (Threads and CPUs of a job are set by its executor,
    before it starts.)"""
    from neurodyn.cli import run_settings  # the command's settings (cli imports sweeps)

    sweep, key = SweepFolder(sweep_path), chunk_key(experiment, config)
    try:
        declared = experiments.get(experiment)
        typed = from_dict(declared.config, config)
        path = sweep.chunk(key)
        folder = RunFolder(path, config, resume=RunFolder.holds_run(path), experiment=experiment)
        with run_settings(deterministic):
            declared.run(typed, folder, False)
        rows = declared.members.rows(typed, RunFolder.open(path))
        sweep.write_done(key, rows)
    except Exception:
        atomic_write(sweep.failed(key), traceback.format_exc())
        raise
    return key
