"""Where a sweep's chunks run: this process, a pool of local processes, or SLURM.

:class:`Local` runs one chunk after another in this process (``workers=1``) or up to
``workers`` chunks at once as separate processes through submitit's ``LocalExecutor``,
each pinned to its own share of the CPUs this process may use, with that share's count
of PyTorch threads (:func:`neurodyn.threads.available_cpus` split evenly; a cgroup quota
or SLURM limit below the affinity lowers every share's threads). :class:`Slurm` submits
the chunks as one job array through submitit's ``SlurmExecutor``. Both need nothing from
submitit but the jobs: a chunk's results are the files it writes (``done/``, ``failed/``),
so one killed or failed job costs only its chunk, and :func:`execute` collects every job
however the others end.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tqdm.auto import tqdm

from neurodyn.files import atomic_write, read_json_object, write_json
from neurodyn.sweeps.folder import Sweep, SweepFolder, chunk_key
from neurodyn.sweeps.worker import run_chunk
from neurodyn.threads import available_cpus

POLL_SECONDS = 1.0
_UNFINISHED = {"PENDING", "RUNNING", "REQUEUED", "COMPLETING", "CONFIGURING", "SUSPENDED"}


def _submitit():
    try:
        import submitit
    except ImportError:
        raise ValueError("this executor needs submitit: pip install 'neurodyn[slurm]'") from None
    return submitit


@dataclass(frozen=True)
class Local:
    """Chunks on this machine: in this process (``workers=1``) or ``workers`` processes."""

    workers: int = 1
    kind: ClassVar[str] = "local"

    def __post_init__(self) -> None:
        cpus = available_cpus()
        if isinstance(self.workers, bool) or not isinstance(self.workers, int):
            raise ValueError(f"--workers must be an integer, got {self.workers!r}")
        if not 1 <= self.workers <= cpus:
            raise ValueError(
                f"--workers must lie in [1, {cpus}] (the CPUs this process may use), "
                f"got {self.workers}"
            )

    def shares(self) -> list[list[int]]:
        """The CPUs of each worker: the process's CPUs split into ``workers`` equal parts."""
        cpus = sorted(os.sched_getaffinity(0))
        size = len(cpus) // self.workers
        return [cpus[i * size : (i + 1) * size] for i in range(self.workers)]

    def threads(self) -> int:
        """Each worker's thread count: its share of the CPUs this process may use (the
        same count as the CPUs it is pinned to, unless a quota or SLURM allows fewer)."""
        return max(1, available_cpus() // self.workers)


@dataclass(frozen=True)
class Slurm:
    """Chunks as one SLURM job array (submitit ``SlurmExecutor``; ``sbatch`` options as
    ``{name: value}``, e.g. ``{"account": "lab", "qos": "short"}``)."""

    partition: str | None = None
    time_minutes: int = 60
    cpus_per_task: int = 1
    mem_gb: float | None = None
    gpus: int = 0
    array_parallelism: int = 256
    max_requeues: int = 3
    sbatch: dict[str, str] = field(default_factory=dict)
    kind: ClassVar[str] = "slurm"

    def __post_init__(self) -> None:
        for name, low in (("time_minutes", 1), ("cpus_per_task", 1), ("gpus", 0),
                          ("array_parallelism", 1), ("max_requeues", 0)):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                flag = "--time" if name == "time_minutes" else f"--{name.replace('_', '-')}"
                raise ValueError(f"{flag} must be an integer >= {low}, got {value!r}")
        if self.mem_gb is not None and not (
            isinstance(self.mem_gb, int | float) and self.mem_gb > 0
        ):
            raise ValueError(f"--mem-gb must be a number > 0, got {self.mem_gb!r}")
        if not all(isinstance(v, str | int | float) for v in self.sbatch.values()):
            raise ValueError(f"sbatch options must be names = values, got {self.sbatch!r}")

    def parameters(self) -> dict[str, Any]:
        """submitit ``SlurmExecutor.update_parameters`` arguments."""
        parameters: dict[str, Any] = {
            "time": self.time_minutes,
            "cpus_per_task": self.cpus_per_task,
            "array_parallelism": self.array_parallelism,
            "additional_parameters": {k: str(v) for k, v in self.sbatch.items()},
        }
        if self.partition:
            parameters["partition"] = self.partition
        if self.mem_gb:
            parameters["mem"] = f"{int(self.mem_gb * 1024)}M"
        if self.gpus:
            parameters["gres"] = f"gpu:{self.gpus}"
        return parameters


class _Progress:
    """A progress bar over chunks: done / running / pending / failed."""

    def __init__(self, total: int, done: int, enabled: bool):
        self.bar = tqdm(total=total, initial=done, desc="chunks", unit="chunk", disable=not enabled)
        self.counts = {"running": 0, "pending": total - done, "failed": 0}

    def show(self, finished: int = 0, **counts: int) -> None:
        self.counts |= counts
        self.bar.update(finished)
        self.bar.set_postfix(self.counts, refresh=True)

    def close(self) -> None:
        self.bar.close()


def execute(
    executor: Local | Slurm, path: str, progress: bool = True, *, deterministic: bool = False
) -> dict[str, str]:
    """Run every chunk of the sweep in ``path`` that has no result on ``executor`` (on
    PyTorch's deterministic algorithms if ``deterministic``) and wait for all of them;
    returns {chunk key: why it failed} (empty if none did)."""
    folder = SweepFolder(path)
    sweep = folder.read()
    status = folder.status(sweep)
    todo = [c for c in sweep.chunks() if status[chunk_key(sweep.experiment, c)] != "done"]
    bar = _Progress(len(status), len(status) - len(todo), progress)
    try:
        if isinstance(executor, Local) and executor.workers == 1:
            return _in_process(folder, sweep, todo, bar, deterministic)
        return _jobs(executor, folder, sweep, todo, bar, deterministic)
    finally:
        bar.close()


def _in_process(folder: SweepFolder, sweep: Sweep, todo: list[dict], bar, deterministic) -> dict:
    failures = {}
    for index, config in enumerate(todo):
        bar.show(running=1, pending=len(todo) - index - 1)
        try:
            run_chunk(str(folder.path), sweep.experiment, config, deterministic)
        except Exception as error:  # the chunk's traceback is in failed/<key>.txt
            failures[chunk_key(sweep.experiment, config)] = f"{type(error).__name__}: {error}"
        bar.show(1, running=0, failed=len(failures))
    return failures


def _jobs(executor, folder: SweepFolder, sweep: Sweep, todo: list[dict], bar, deterministic):
    """Submit the chunks through submitit and poll their files and states until each
    job has ended; a job that ended without a result is failed, with submitit's reason."""
    submitit = _submitit()
    keys = [chunk_key(sweep.experiment, c) for c in todo]
    running: dict[str, Any] = {}
    if isinstance(executor, Slurm):
        running = _attach(submitit, folder, keys)
        start = _slurm_submitter(submitit, executor, folder, deterministic)
        limit = len(todo)
    else:
        start = _local_submitter(submitit, executor, folder, deterministic)
        limit = executor.workers
    waiting = [(k, c) for k, c in zip(keys, todo, strict=True) if k not in running]
    try:
        return _poll(folder, start, limit, running, waiting, bar)
    except KeyboardInterrupt:
        if isinstance(executor, Local):  # local jobs would outlive this process
            for job in running.values():
                job.cancel(check=False)
        raise


def _poll(folder, start, limit: int, running: dict, waiting: list, bar: _Progress) -> dict:
    """Start waiting chunks while fewer than ``limit`` run, until every job has ended."""
    from neurodyn.sweeps.jobs import ChunkJob

    slots = {key: index for index, key in enumerate(running)}
    failures: dict[str, str] = {}
    while waiting or running:
        free = [s for s in range(limit) if s not in slots.values()]
        batch = waiting[: len(free)]
        waiting = waiting[len(free) :]
        if batch:
            jobs = start(
                [(ChunkJob(), config, slot) for (_, config), slot in zip(batch, free, strict=False)]
            )
            for (key, _), job, slot in zip(batch, jobs, free, strict=False):
                running[key], slots[key] = job, slot
            _record(folder, {k: running[k].job_id for k, _ in batch})
        finished = 0
        for key, job in list(running.items()):
            if not job.done():
                continue
            del running[key], slots[key]
            finished += 1
            if not folder.done(key).is_file():
                failures[key] = _failure(folder, key, job)
        queued = sum(job.state.upper() == "PENDING" for job in running.values())
        bar.show(
            finished,
            running=len(running) - queued,
            pending=len(waiting) + queued,
            failed=len(failures),
        )
        if running:
            time.sleep(POLL_SECONDS)
    return failures


def _threads(count: int) -> list[str]:
    """Shell lines run before a job starts: its libraries' threads (PyTorch reads
    ``OMP_NUM_THREADS`` and numba ``NUMBA_NUM_THREADS`` when they start)."""
    return [f"export {name}={count}" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                                  "NUMBA_NUM_THREADS")]  # fmt: skip


def _local_submitter(submitit, executor: Local, folder: SweepFolder, deterministic) -> Callable:
    """One submitit LocalExecutor per worker slot, whose jobs start pinned to the slot's
    CPUs (``taskset``) with :meth:`Local.threads` threads each."""
    slots, count = [], executor.threads()
    for cpus in executor.shares():
        jobs = submitit.LocalExecutor(folder=str(folder.logs))
        pin = f"taskset -p -c {','.join(map(str, cpus))} $$ > /dev/null"
        jobs.update_parameters(timeout_min=10**7, setup=[*_threads(count), pin])
        slots.append(jobs)
    experiment = folder.read().experiment

    def start(calls):
        return [
            slots[slot].submit(job, str(folder.path), experiment, config, deterministic)
            for job, config, slot in calls
        ]

    return start


def _slurm_submitter(submitit, executor: Slurm, folder: SweepFolder, deterministic) -> Callable:
    jobs = submitit.SlurmExecutor(folder=str(folder.logs), max_num_timeout=executor.max_requeues)
    jobs.update_parameters(**executor.parameters(), setup=_threads(executor.cpus_per_task))
    experiment = folder.read().experiment

    def start(calls):
        try:
            with jobs.batch():  # one job array
                submitted = [
                    jobs.submit(job, str(folder.path), experiment, config, deterministic)
                    for job, config, _ in calls
                ]
        except submitit.core.utils.FailedJobError as error:  # sbatch's own message
            raise ValueError(f"sbatch refused the jobs: {' '.join(str(error).split())}") from None
        return submitted

    return start


def _record(folder: SweepFolder, job_ids: dict[str, str]) -> None:
    """Remember the job of each chunk, so that a resumed sweep waits for those still
    queued or running instead of submitting them again."""
    path = folder.path / "jobs.json"
    known = read_json_object(path) if path.is_file() else {}
    write_json(path, known | job_ids)


def _attach(submitit, folder: SweepFolder, keys: list[str]) -> dict[str, Any]:
    """The SLURM jobs of an earlier submission of these chunks that have not ended."""
    path = folder.path / "jobs.json"
    known = read_json_object(path) if path.is_file() else {}
    attached = {}
    for key in keys:
        if key in known:
            job = submitit.SlurmJob(folder=str(folder.logs), job_id=str(known[key]))
            if job.watcher.get_state(job.job_id, mode="force").upper() in _UNFINISHED:
                attached[key] = job
    return attached


def _failure(folder: SweepFolder, key: str, job) -> str:
    """Why the job of chunk ``key`` ended without a result: the chunk's own traceback if it
    wrote one, else what submitit knows (the job's state and the end of its log)."""
    if folder.failed(key).is_file():
        return folder.failure(key)
    try:
        error = job.exception()
        reason = f"{type(error).__name__}: {error}" if error else f"ended as {job.state}"
    except Exception as error:  # submitit could not read the job's outcome
        reason = f"{type(error).__name__}: {error}"
    reason = f"job {job.job_id}: " + " ".join(reason.split())[:500]
    atomic_write(folder.failed(key), reason + "\n")
    return reason
