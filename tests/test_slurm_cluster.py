"""Real jobs on the one-node test cluster (tests/slurm_cluster.py); every wait is bounded."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.slurm_cluster import slurm_cluster  # noqa: F401 (the fixture, used by name)

pytestmark = pytest.mark.usefixtures("slurm_cluster")

TIMEOUT = 60  # seconds, for any job to reach the state a test waits for


def slurm(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=30).stdout


def wait_for_state(job: str, command: tuple[str, ...], want: tuple[str, ...]) -> str:
    """Poll ``command`` (squeue or sacct, printing one state) until it starts with ``want``."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        state = slurm(*command, "-j", job).strip()
        if state.startswith(want):
            return state
        assert time.monotonic() < deadline, f"job {job} still {state!r} after {TIMEOUT} s"
        time.sleep(0.2)


def accounted(job: str, *want: str) -> str:
    return wait_for_state(job, ("sacct", "-n", "-X", "-P", "-o", "State"), want)


def test_sbatch_job_completes(tmp_path):
    out = tmp_path / "job.out"
    job = slurm("sbatch", "--parsable", "-o", str(out), "--wrap", "sleep 1; echo hi").strip()
    assert accounted(job, "COMPLETED", "FAILED", "CANCELLED") == "COMPLETED"
    assert out.read_text() == "hi\n"


def test_job_array_runs_every_task(tmp_path):
    pattern = str(tmp_path / "task-%a.out")
    job = slurm(
        "sbatch", "--parsable", "--array=0-1", "-o", pattern, "--wrap", "echo $SLURM_ARRAY_TASK_ID"
    )
    job = job.strip()
    for task in ("0", "1"):
        assert accounted(f"{job}_{task}", "COMPLETED", "FAILED", "CANCELLED") == "COMPLETED"
        assert (tmp_path / f"task-{task}.out").read_text() == f"{task}\n"


def test_cancelled_job_reaches_a_final_state(tmp_path):
    job = slurm("sbatch", "--parsable", "-o", str(tmp_path / "job.out"), "--wrap", "sleep 300")
    job = job.strip()
    wait_for_state(job, ("squeue", "-h", "-o", "%T"), ("RUNNING",))
    slurm("scancel", job)
    assert accounted(job, "CANCELLED", "COMPLETED", "FAILED").startswith("CANCELLED")
