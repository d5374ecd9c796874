"""Sweeps on a real one-node SLURM cluster (tests/slurm_cluster.py) through submitit: the
same table as on this machine, a SIGKILLed array task costs only its chunk, a preempted
chunk requeues and resumes, and a finished sweep submits nothing."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from neurodyn import sweeps
from neurodyn.config import from_dict, to_dict
from neurodyn.experiments import rate_gain
from neurodyn.runs import RunFolder
from tests.slurm_cluster import slurm_cluster  # noqa: F401  (the fixture, used by name)

submitit = pytest.importorskip("submitit", reason="the SLURM executor needs neurodyn[slurm]")
pytestmark = pytest.mark.usefixtures("slurm_cluster")

# (With a time limit of 10 minutes or less submitit takes every signal for a time-out.)
SLURM = sweeps.Slurm(partition="debug", time_minutes=60)
TINY = rate_gain.RateGainConfig(
    **rate_gain.TINY_GRID | {"gains": (0.5, 1.0), "seeds": (0, 1)}, tasks=("romo",)
)  # 2 rules x 2 gains x 2 seeds: 4 chunks of 2
# Chunks of one task and its two rule stages (a few seconds each): killed or preempted in
# the second stage, once the first one's checkpoint is on disk.
LONG = rate_gain.RateGainConfig(
    **rate_gain.TINY_GRID | {"gains": (1.0,), "iterations": 2000},
    tasks=("romo", "decision", "match-sample"),
)
WAIT = 240  # seconds: the longest any sweep here may take


def in_background(path, sweep) -> tuple[threading.Thread, dict]:
    """run_sweep on SLURM in a thread; its (failures, result) land in the returned dict."""
    outcome = {}
    thread = threading.Thread(
        target=lambda: outcome.update(done=sweeps.run_sweep(path, sweep, SLURM, False)),
        daemon=True,
    )
    thread.start()
    return thread, outcome


def running_job(path, sweep, condition=lambda key: True) -> tuple[str, str]:
    """(chunk key, job id) of a chunk whose job is RUNNING and meets ``condition``."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        jobs = path / "jobs.json"
        if jobs.is_file():
            for key, job in json.loads(jobs.read_text()).items():
                state = subprocess.run(
                    ["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True, text=True
                ).stdout.strip()
                if state == "RUNNING" and condition(key):
                    return key, job
        time.sleep(0.5)
    raise AssertionError(f"no chunk of {path} ran within {WAIT} s")


def worker_pids(job: str) -> list[int]:
    """The PIDs of the Python processes that run array task ``job`` (``ARRAY_TASK``), not
    the srun that started them."""
    array, task = job.split("_")
    wanted = {f"SLURM_ARRAY_JOB_ID={array}".encode(), f"SLURM_ARRAY_TASK_ID={task}".encode()}
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes()
            environ = set((proc / "environ").read_bytes().split(b"\0"))
        except OSError:  # not a process, or it ended
            continue
        python = Path(command.split(b"\0")[0].decode()).name.startswith("python")
        if python and b"submitit.core._submit" in command and wanted <= environ:
            pids.append(int(proc.name))
    assert pids, f"no process of job {job}"
    return pids


def in_second_stage(folder: sweeps.SweepFolder, key: str) -> bool:
    """Whether chunk ``key`` has saved its first stage and is not done."""
    checkpoint = folder.chunk(key) / "checkpoint.safetensors"
    return checkpoint.is_file() and not folder.done(key).exists()


def finished(thread: threading.Thread, outcome: dict) -> tuple[dict, dict | None]:
    thread.join(WAIT)
    assert not thread.is_alive(), f"the sweep did not end within {WAIT} s"
    return outcome["done"]


def one_ensemble_table(tmp_path, config) -> str:
    path = tmp_path / "one"
    rate_gain.run(config, RunFolder(path, to_dict(config)), False)
    sweeps.gather.write_table(path / "t.csv", sweeps.run_table("rate-gain", RunFolder.open(path)))
    return (path / "t.csv").read_text()


def uninterrupted_rows(tmp_path, sweep, key) -> list[dict]:
    """The rows of chunk ``key`` run in this process without interruption."""
    config = sweep.keyed()[key]
    path = tmp_path / "uninterrupted"
    typed = from_dict(rate_gain.RateGainConfig, config)
    rate_gain.run(typed, RunFolder(path, config), False)
    return json.loads(json.dumps(rate_gain.member_rows(typed, RunFolder.open(path))))


def test_a_slurm_sweep_equals_the_local_one_and_a_rerun_submits_nothing(tmp_path, monkeypatch):
    sweep = sweeps.Sweep("rate-gain", to_dict(TINY), 2)
    assert len(sweep.chunks()) == 4
    failures, result = sweeps.run_sweep(tmp_path / "slurm", sweep, SLURM, False)
    assert failures == {}
    local = sweeps.run_sweep(tmp_path / "local", sweep, sweeps.Local(), False)
    assert local == (failures, result)
    table = (tmp_path / "slurm" / "table.csv").read_text()
    assert table == (tmp_path / "local" / "table.csv").read_text()
    assert table == one_ensemble_table(tmp_path, TINY), "the table differs from one ensemble's"
    assert len(json.loads((tmp_path / "slurm" / "jobs.json").read_text())) == 4

    def refuse(*args, **kwargs):
        raise AssertionError("a finished sweep submitted a job")

    monkeypatch.setattr(submitit.SlurmExecutor, "submit", refuse)
    assert sweeps.run_sweep(tmp_path / "slurm", sweep, SLURM, False) == (failures, result)
    assert (tmp_path / "slurm" / "table.csv").read_text() == table


def test_a_killed_array_task_costs_only_its_chunk(tmp_path):
    path, sweep = tmp_path / "sweep", sweeps.Sweep("rate-gain", to_dict(LONG), 2)
    folder = sweeps.SweepFolder(path)
    thread, outcome = in_background(path, sweep)
    key, job = running_job(path, sweep, lambda k: in_second_stage(folder, k))
    for pid in worker_pids(job):  # as the kernel's OOM killer would
        os.kill(pid, signal.SIGKILL)
    failures, result = finished(thread, outcome)
    assert list(failures) == [key] and result is None
    assert f"job {job}" in failures[key]
    status = folder.status(sweep)
    assert status[key] == "failed" and list(status.values()).count("done") == 2
    kept = {k: folder.done(k).stat().st_mtime_ns for k, s in status.items() if s == "done"}
    before = json.loads((path / "jobs.json").read_text())

    failures, result = sweeps.run_sweep(path, sweep, SLURM, False)  # the --resume
    after = json.loads((path / "jobs.json").read_text())
    assert failures == {} and result is not None
    assert {k for k in after if after[k] != before[k]} == {key}  # only it was resubmitted
    assert {k: folder.done(k).stat().st_mtime_ns for k in kept} == kept
    assert folder.rows(key) == uninterrupted_rows(tmp_path, sweep, key), "numbers differ"


def test_a_preempted_chunk_requeues_and_resumes_from_its_checkpoint(tmp_path):
    config = dataclasses.replace(LONG, tasks=("romo",))
    path, sweep = tmp_path / "sweep", sweeps.Sweep("rate-gain", to_dict(config), 2)
    (key,) = sweep.keyed()
    folder = sweeps.SweepFolder(path)
    thread, outcome = in_background(path, sweep)
    _, job = running_job(path, sweep, lambda k: in_second_stage(folder, k))
    subprocess.run(["scancel", "--signal=USR2", job], check=True, timeout=30)  # preemption
    failures, result = finished(thread, outcome)
    assert failures == {} and result is not None
    assert f"{key} interrupted, requeued" in (path / "requeued.log").read_text()
    assert folder.rows(key) == uninterrupted_rows(tmp_path, sweep, key), "numbers differ"


def test_a_refused_submission_is_one_clear_error(tmp_path):
    sweep = sweeps.Sweep("rate-gain", to_dict(TINY), 2)
    with pytest.raises(ValueError, match="sbatch refused the jobs: .*[Pp]artition"):
        sweeps.run_sweep(tmp_path, sweep, sweeps.Slurm(partition="nowhere"), False)
    assert sweeps.SweepFolder(tmp_path).status(sweep) == dict.fromkeys(sweep.keyed(), "missing")
