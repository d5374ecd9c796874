"""The chunk as a submitit job (imported only by the submitit executors: ``neurodyn[slurm]``).

A :class:`ChunkJob` is ``Checkpointable``: on a preemption or time-limit signal submitit
calls :meth:`ChunkJob.checkpoint`, requeues the job and exits; the requeued job runs the
same chunk again, which resumes from the checkpoints its run folder holds (the
experiments save them as stages, epochs or blocks of iterations finish), so it ends
with the numbers of an uninterrupted run and recomputes at most the work since the last
one.
"""

from __future__ import annotations

import datetime

import submitit

from neurodyn.sweeps.folder import SweepFolder, chunk_key
from neurodyn.sweeps.worker import run_chunk


class ChunkJob(submitit.helpers.Checkpointable):
    """:func:`~neurodyn.sweeps.worker.run_chunk` as a requeueable submitit job."""

    def __call__(self, sweep_path: str, experiment: str, config: dict, deterministic=False) -> str:
        return run_chunk(sweep_path, experiment, config, deterministic)

    def checkpoint(self, sweep_path: str, experiment: str, config: dict, deterministic=False):
        """Note the interruption in the chunk's log and resubmit the same call."""
        log = SweepFolder(sweep_path).path / "requeued.log"
        stamp = datetime.datetime.now().isoformat(timespec="seconds")
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"{stamp} {chunk_key(experiment, config)} interrupted, requeued\n")
        return super().checkpoint(sweep_path, experiment, config, deterministic)
