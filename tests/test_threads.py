"""Threads follow the CPUs a process may use (issue 22): the limits, and the command.

``available_cpus`` is read from a patched affinity, fake cgroup files (v2 and v1) and
``SLURM_CPUS_PER_TASK``; the smallest limit wins. The command, run in a subprocess pinned
to one CPU with ``OMP_NUM_THREADS`` unset, records 1 thread in its run folder's marker;
``--threads 2`` records 2; ``SLURM_CPUS_PER_TASK=1`` in a SLURM job records 1; a bad
``--threads`` is one clear error line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from neurodyn import threads
from neurodyn.sweeps import Local

NO_JOB: dict[str, str] = {}


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A fake machine of 8 CPUs whose cgroup files live under ``tmp_path``; returns a
    function that writes one (relative path, text)."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.setattr(threads, "CGROUP_ROOT", tmp_path / "cgroup")
    monkeypatch.setattr(threads, "PROC_CGROUP", tmp_path / "proc-self-cgroup")
    (tmp_path / "proc-self-cgroup").write_text("0::/\n")

    def write(relative: str, text: str) -> None:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    return write


def test_the_affinity_alone(machine):
    assert threads.cpu_limits(NO_JOB) == {"affinity": 8, "cgroup": None, "slurm": None}
    assert threads.available_cpus(NO_JOB) == 8


@pytest.mark.parametrize(
    "cpu_max, expected", [("max 100000", 8), ("300000 100000", 3), ("150000 100000", 2)]
)
def test_a_cgroup_v2_quota_is_rounded_up(machine, cpu_max, expected):
    machine("cgroup/cgroup.controllers", "cpu memory\n")
    machine("cgroup/cpu.max", cpu_max + "\n")
    assert threads.available_cpus(NO_JOB) == expected


def test_the_smallest_quota_on_the_way_to_the_root_applies(machine):
    machine("proc-self-cgroup", "0::/job/step\n")
    machine("cgroup/cgroup.controllers", "cpu\n")
    machine("cgroup/job/cpu.max", "200000 100000\n")
    machine("cgroup/job/step/cpu.max", "max 100000\n")
    assert threads.cgroup_cpus() == 2


def test_a_cgroup_v1_quota(machine):
    machine("proc-self-cgroup", "4:cpu,cpuacct:/docker/abc\n3:memory:/docker/abc\n")
    machine("cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "250000\n")
    machine("cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n")
    assert threads.available_cpus(NO_JOB) == 3
    machine("cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1\n")  # no limit
    assert threads.available_cpus(NO_JOB) == 8


def test_unreadable_cgroup_files_are_no_limit(machine):
    machine("cgroup/cgroup.controllers", "cpu\n")
    machine("cgroup/cpu.max", "garbage\n")
    assert threads.cgroup_cpus() is None


def test_slurm_counts_inside_a_job_only_and_the_smallest_limit_wins(machine):
    job = {"SLURM_JOB_ID": "7", "SLURM_CPUS_PER_TASK": "4"}
    assert threads.available_cpus(job) == 4
    assert threads.available_cpus({"SLURM_CPUS_PER_TASK": "4"}) == 8  # not in a job
    machine("cgroup/cgroup.controllers", "cpu\n")
    machine("cgroup/cpu.max", "200000 100000\n")
    assert threads.cpu_limits(job) == {"affinity": 8, "cgroup": 2, "slurm": 4}
    assert threads.available_cpus(job) == 2
    with pytest.raises(ValueError, match="SLURM_CPUS_PER_TASK must be a positive integer"):
        threads.available_cpus({"SLURM_JOB_ID": "7", "SLURM_CPUS_PER_TASK": "four"})


def test_the_thread_count_chosen_and_why(machine):
    assert threads.thread_count(3, {"OMP_NUM_THREADS": "1"}) == (3, "--threads")
    assert threads.thread_count(None, {"OMP_NUM_THREADS": "2"}) == (2, "OMP_NUM_THREADS")
    count, why = threads.thread_count(None, {"OMP_NUM_THREADS": "x"})
    assert count == 8 and "affinity 8" in why
    with pytest.raises(ValueError, match="threads must be an integer >= 1"):
        threads.thread_count(0, NO_JOB)


def test_local_workers_get_their_share_of_the_threads(machine, monkeypatch):
    assert [len(s) for s in Local(workers=2).shares()] == [4, 4]
    assert Local(workers=2).threads() == 4
    monkeypatch.setenv("SLURM_JOB_ID", "7")
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "4")  # fewer CPUs than the affinity
    assert Local(workers=2).threads() == 2
    with pytest.raises(ValueError, match=r"--workers must lie in \[1, 4\]"):
        Local(workers=5)


# ---------------------------------------------------------------- the command
TINY = ["--dataset", "prototypes", "--input-bits", "20", "--train-size", "40"]
TINY += ["--test-size", "20", "--hidden-size", "10", "--epochs", "1", "--no-progress"]
SRC = str(Path(__file__).resolve().parents[1] / "src")
MAIN = "import sys; from neurodyn.cli import main; sys.exit(main(sys.argv[1:]))"  # `neurodyn`


def command(tmp_path: Path, *extra: str, pin: bool = True, **environ: str) -> list[int]:
    """Run ``neurodyn run`` in a fresh process (pinned to one of this process's CPUs,
    OMP_NUM_THREADS unset) and return the thread counts its run folder records."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "SLURM_"))}
    env |= {"PYTHONPATH": os.pathsep.join(filter(None, [SRC, env.get("PYTHONPATH")]))}
    cpu = min(os.sched_getaffinity(0))
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-c", MAIN, "run", "steering-emnist", "--out", str(out)]
        + TINY
        + list(extra),
        env=env | environ,
        preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if pin else None,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((out / "neurodyn-run.json").read_text())["threads"]


def test_the_command_pinned_to_one_cpu_runs_on_one_thread(tmp_path):
    assert command(tmp_path) == [1]


def test_threads_overrides(tmp_path):
    assert command(tmp_path, "--threads", "2") == [2]


def test_slurm_cpus_per_task_sets_the_threads(tmp_path):
    assert command(tmp_path, pin=False, SLURM_JOB_ID="1", SLURM_CPUS_PER_TASK="1") == [1]


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_a_bad_thread_count_is_one_clear_error(value, tmp_path, capsys):
    from neurodyn import cli

    args = ["run", "steering-emnist", "--out", str(tmp_path / "run"), *TINY, "--threads", value]
    assert cli.main(args) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("neurodyn: error: argument --threads: must be a positive integer")
    assert len(error.splitlines()) == 1 and repr(value) in error
    assert not (tmp_path / "run").exists()
