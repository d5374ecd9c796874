"""How many CPUs this process may use, for choosing a thread count (reads, never sets).

PyTorch starts as many threads as the machine has physical cores, not as many CPUs as a
container or a SLURM job owns: on a shared 64-core node a 4-CPU job would run 32+
threads, and a busy core slows every thread that waits for it. Three limits may apply,
and each is an upper bound, so the smallest wins:

1. the CPU affinity (``os.sched_getaffinity``: ``taskset``, a cpuset cgroup, SLURM's
   binding);
2. the CPU quota of the process's cgroup (v2 ``cpu.max``, v1 ``cpu.cfs_quota_us`` /
   ``cpu.cfs_period_us``; ``docker --cpus``, Kubernetes limits), rounded up, over the
   process's cgroup and its ancestors;
3. ``SLURM_CPUS_PER_TASK`` inside a SLURM job (``SLURM_JOB_ID`` set).

Nothing here changes a setting: the ``neurodyn`` command sets its thread count from
:func:`available_cpus`, and a script that uses neurodyn as a library may do the same with
passing ``neurodyn.threads.available_cpus()`` to ``torch.set_num_threads``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from neurodyn.checks import check_positive_int

# Where the cgroup files are read (module constants so that tests can point them elsewhere).
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        return None


def _cgroup_paths() -> dict[str, str]:
    """{controller: cgroup path} of this process (``""`` is the v2 unified hierarchy)."""
    paths = {}
    for line in (_read(PROC_CGROUP) or "").splitlines():
        _, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path or "/"
    return paths


def _up_from(mount: Path, path: str) -> list[Path]:
    """``mount / path`` and every ancestor up to ``mount`` itself: a limit anywhere on the
    way applies (inside a container the mount may already be the process's own cgroup)."""
    relative = PurePosixPath(path).relative_to("/") if path.startswith("/") else PurePosixPath()
    return [mount / part for part in (relative, *relative.parents)]


def _quota(quota: str | None, period: str | None) -> int | None:
    """CPUs of a quota per period, rounded up (None: no limit or unreadable)."""
    try:
        quota_us, period_us = int(quota), int(period)  # "max" or -1: no limit
    except (TypeError, ValueError):
        return None
    if quota_us <= 0 or period_us <= 0:
        return None
    return max(1, math.ceil(quota_us / period_us))


def cgroup_cpus() -> int | None:
    """The CPU quota of this process's cgroups (v2 and v1), rounded up; None if none."""
    paths, limits = _cgroup_paths(), []
    if "" in paths and (CGROUP_ROOT / "cgroup.controllers").is_file():  # v2, unified
        for folder in _up_from(CGROUP_ROOT, paths[""]):
            quota, _, period = (_read(folder / "cpu.max") or "").partition(" ")
            limits.append(_quota(quota, period))
    if "cpu" in paths:  # v1: the cpu controller's own mount
        for mount in (CGROUP_ROOT / "cpu", CGROUP_ROOT / "cpu,cpuacct"):
            for folder in _up_from(mount, paths["cpu"]):
                limits.append(
                    _quota(_read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us"))
                )
    found = [limit for limit in limits if limit is not None]
    return min(found) if found else None


def slurm_cpus(environ: Mapping[str, str] | None = None) -> int | None:
    """``SLURM_CPUS_PER_TASK`` inside a SLURM job, else None; a malformed value is an error
    (SLURM writes a positive integer, so another value was set by hand)."""
    environ = os.environ if environ is None else environ
    value = environ.get("SLURM_CPUS_PER_TASK")
    if value is None or "SLURM_JOB_ID" not in environ:
        return None
    if not value.strip().isdigit() or int(value) < 1:
        raise ValueError(f"SLURM_CPUS_PER_TASK must be a positive integer, got {value!r}")
    return int(value)


def affinity_cpus() -> int:
    """The CPUs this process may run on (its affinity; the machine's count where the
    platform has no affinity)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_limits(environ: Mapping[str, str] | None = None) -> dict[str, int | None]:
    """Each limit on the CPUs of this process: ``affinity``, ``cgroup`` and ``slurm``
    (None where a limit does not apply)."""
    return {"affinity": affinity_cpus(), "cgroup": cgroup_cpus(), "slurm": slurm_cpus(environ)}


def _smallest(limits: dict[str, int | None]) -> int:
    return max(1, min(value for value in limits.values() if value is not None))


def available_cpus(environ: Mapping[str, str] | None = None) -> int:
    """The number of CPUs this process may use: the smallest of its affinity, its cgroup
    quota and ``SLURM_CPUS_PER_TASK`` (see the module's docstring), at least 1."""
    return _smallest(cpu_limits(environ))


def thread_count(
    requested: int | None = None, environ: Mapping[str, str] | None = None
) -> tuple[int, str]:
    """The thread count for a process and why: ``requested`` (``--threads``) if given, else
    a valid ``OMP_NUM_THREADS`` (an explicit choice of the user or of a sweep executor),
    else :func:`available_cpus`."""
    environ = os.environ if environ is None else environ
    if requested is not None:
        return check_positive_int("threads", requested), "--threads"
    omp = environ.get("OMP_NUM_THREADS", "").strip()
    if omp.isdigit() and int(omp) >= 1:
        return int(omp), "OMP_NUM_THREADS"
    limits = cpu_limits(environ)
    named = ", ".join(f"{name} {value}" for name, value in limits.items() if value is not None)
    return _smallest(limits), f"the CPUs this process may use: {named}"
