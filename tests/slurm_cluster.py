"""A real one-node SLURM cluster (with accounting) for tests: the ``slurm_cluster`` fixture.

Use it as ``from tests.slurm_cluster import slurm_cluster`` in a test module, then take
``slurm_cluster`` as an argument. Once per session it runs ``scripts/slurm-test-cluster.sh
start`` into a fresh folder in /dev/shm or /tmp (short, for the UNIX socket paths), points
``SLURM_CONF`` at it for the session and stops the cluster at the end. The test is skipped
where the cluster cannot run (not Linux, not root, or the script cannot install SLURM: its
exit status 3); any other failure of the script is a test error showing its stderr (the tail
of the failing daemon's log).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "slurm-test-cluster.sh"


@dataclasses.dataclass(frozen=True)
class SlurmCluster:
    state_dir: Path  # configs, logs (log/), PID files (pids/) and the accounting database

    @property
    def conf(self) -> Path:
        return self.state_dir / "slurm.conf"


def _script(action: str, state_dir: Path, timeout: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            ["bash", str(SCRIPT), action, str(state_dir)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as error:
        return subprocess.CompletedProcess(error.cmd, -1, "", f"timed out after {timeout} s")


@pytest.fixture(scope="session")
def slurm_cluster():
    if not sys.platform.startswith("linux"):
        pytest.skip("the SLURM test cluster needs Linux")
    if os.geteuid() != 0:
        pytest.skip("the SLURM test cluster needs root")
    # A tmpfs spares MariaDB's slow fsyncs (start-up ~3 s instead of ~10 s); Docker's 64 MB
    # /dev/shm is too small, so only where it has room.
    shm = Path("/dev/shm")
    fast = shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 2**29
    state_dir = Path(tempfile.mkdtemp(prefix="nd-slurm-", dir=shm if fast else "/tmp"))
    started = _script("start", state_dir, timeout=900)  # an apt-get install can take minutes
    if started.returncode != 0:
        _script("stop", state_dir, timeout=60)
        if started.returncode == 3:
            shutil.rmtree(state_dir, ignore_errors=True)
            lines = started.stderr.strip().splitlines() or ["cannot start a SLURM cluster"]
            pytest.skip(lines[-1])
        pytest.fail(
            f"{SCRIPT.name} start failed (status {started.returncode}); state kept in "
            f"{state_dir}:\n{started.stderr}",
            pytrace=False,
        )
    cluster = SlurmCluster(state_dir)
    previous = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(cluster.conf)
    try:
        yield cluster
    finally:
        if previous is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = previous
        stopped = _script("stop", state_dir, timeout=120)
        if stopped.returncode != 0:
            pytest.fail(f"{SCRIPT.name} stop failed:\n{stopped.stderr}", pytrace=False)
        shutil.rmtree(state_dir, ignore_errors=True)
