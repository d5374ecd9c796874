"""Hostile run folders (issue 17, classes 1 and 2): ``--overwrite`` and ``--resume`` aimed
at folders that are not runs, runs that do not fit, starts that fail, full disks.

Every case runs inside tmp_path as the working directory (so ``--out .`` hits tmp_path)
and asserts its exact outcome: exit code 2 with one stderr line naming the field or file
and the whole tree unchanged, or exit code 0 with nothing changed outside the run folder
and a run folder whose files agree with each other.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import shutil

import pytest

from neurodyn import experiments, files
from neurodyn.config import to_dict
from tests.hostile import test_command_line
from tests.hostile.conftest import one_line_error, snapshot
from tests.test_kill_resume import comparable

NAME = "steering-emnist"
RUN = ("run", NAME, "--config", "tiny.json", "--no-progress")
NO_DATA = ("--dataset", "entangled-mnist", "--data-dir", "nodata")
RUN_FILES = {"neurodyn-run.json", "config.json", "result.json", "metrics.csv"}
RUN_FILES |= {"checkpoint.safetensors", "figures"}
# the working directory with the tiny config and a user's files; a finished tiny run
workspace, finished = test_command_line.workspace, test_command_line.finished
refused = test_command_line.refused  # exit 2, one line naming names, no file changed


def succeeds(neurodyn, root, *args, out="run"):
    """``neurodyn(*args)`` exits 0, changes nothing outside ``out``, leaves a run there."""
    before = snapshot(root, skip=root / out)
    outcome = neurodyn(*args)
    assert outcome.code == 0, outcome.err
    assert snapshot(root, skip=root / out) == before
    assert {p.name for p in (root / out).iterdir()} == RUN_FILES
    config = json.loads((root / out / "config.json").read_text())
    assert json.loads((root / out / "result.json").read_text())["config"] == config
    return outcome


# ---------------------------------------------------------------- --overwrite: data loss
def _user_files(folder, finished):
    folder.mkdir(exist_ok=True)
    (folder / "thesis.tex").write_text("years of work\n")


def _run_files_and_a_stranger(folder, finished):
    shutil.copytree(finished, folder)
    (folder / "keep.txt").write_text("mine\n")


def _no_marker(folder, finished):
    shutil.copytree(finished, folder)
    (folder / "neurodyn-run.json").unlink()


def _marker_and_a_subfolder(folder, finished):
    shutil.copytree(finished, folder)
    (folder / "data").mkdir()


def _stranger_among_the_figures(folder, finished):
    shutil.copytree(finished, folder)
    (folder / "figures" / "drawing.svg").write_text("<svg/>")


def _a_symlink(folder, finished):
    shutil.copytree(finished, folder)
    (folder / "result.json").unlink()
    (folder / "result.json").symlink_to(folder.parent / "notes.txt")


def _forged_marker_only(folder, finished):
    _user_files(folder, finished)
    (folder / "neurodyn-run.json").write_text('{"experiment": "steering-emnist"}')
    (folder / "config.json").write_text("{}")


OVERWRITE_TARGETS = {
    "a folder of user files": (_user_files, "out", ["thesis.tex"]),
    "run files and a stranger": (_run_files_and_a_stranger, "out", ["keep.txt"]),
    "run files without the marker": (_no_marker, "out", ["neurodyn-run.json"]),
    "a marker and a subfolder": (_marker_and_a_subfolder, "out", ["data"]),
    "a stranger among the figures": (_stranger_among_the_figures, "out", ["drawing.svg"]),
    "a symbolic link": (_a_symlink, "out", ["result.json"]),
    "a forged marker among user files": (_forged_marker_only, "out", ["thesis.tex"]),
}


@pytest.mark.parametrize("case", OVERWRITE_TARGETS)
def test_overwrite_refuses_what_is_not_a_run_folder(case, workspace, neurodyn, finished):
    make, out, names = OVERWRITE_TARGETS[case]
    make(workspace / out, finished)
    refused(neurodyn, workspace, *RUN, "--out", out, "--overwrite", names=[out, *names])


@pytest.mark.parametrize("out", [".", "data", "data/..", "notes.txt", "tiny.json", "{root}"])
def test_overwrite_never_empties_a_working_folder(out, workspace, neurodyn):
    out = out.format(root=workspace)
    refused(neurodyn, workspace, *RUN, "--out", out, "--overwrite", names=[out])


def test_overwrite_never_empties_the_parent_folder(workspace, neurodyn, monkeypatch):
    monkeypatch.chdir(workspace / "data")
    run = ("run", NAME, "--config", "../tiny.json", "--out", "..", "--overwrite")
    refused(neurodyn, workspace, *run, names=[".."])


def test_overwrite_keeps_the_old_run_when_the_new_start_fails(workspace, neurodyn, finished):
    shutil.copytree(finished, workspace / "run")
    refused(neurodyn, workspace, *RUN, "--out", "run", "--overwrite", *NO_DATA, names=["nodata"])
    refused(neurodyn, workspace, *RUN, "--out", "run", "--overwrite", "--epochs", "-1",
            names=["epochs"])  # fmt: skip


def test_overwrite_and_resume_exclude_each_other(workspace, neurodyn, finished):
    shutil.copytree(finished, workspace / "run")
    args = ("--out", "run", "--overwrite", "--resume")
    refused(neurodyn, workspace, *RUN, *args, names=["--resume", "--overwrite"])


def test_overwrite_replaces_a_run_folder_and_only_it(workspace, neurodyn, finished):
    shutil.copytree(finished, workspace / "run")
    (workspace / "run" / "arrays.safetensors").write_bytes(b"an older run's arrays")
    (workspace / "run" / ".result.json.abc123.tmp").write_bytes(b"a killed write")
    succeeds(neurodyn, workspace, *RUN, "--out", "run", "--overwrite", "--epochs", "3")
    assert json.loads((workspace / "run" / "result.json").read_text())["config"]["epochs"] == 3


def test_a_resume_removes_the_leftovers_of_killed_writes_figures_too(workspace, neurodyn, finished):
    shutil.copytree(finished, workspace / "run")
    leftovers = [workspace / "run" / ".result.json.k1.tmp"]
    leftovers.append(workspace / "run" / "figures" / ".curves.png.k2.tmp")
    for leftover in leftovers:
        leftover.parent.mkdir(exist_ok=True)
        leftover.write_bytes(b"a killed write")
    succeeds(neurodyn, workspace, *RUN, "--out", "run", "--resume")
    assert not [path for path in leftovers if path.exists()]


def test_overwrite_of_another_experiments_run(workspace, neurodyn, finished):
    shutil.copytree(finished, workspace / "run")
    tiny = to_dict(experiments.get("steering-depth").tiny())
    (workspace / "depth.json").write_text(json.dumps(tiny))
    args = ("run", "steering-depth", "--config", "depth.json", "--out", "run", "--no-progress")
    succeeds(neurodyn, workspace, *args, "--overwrite")
    marker = json.loads((workspace / "run" / "neurodyn-run.json").read_text())
    assert marker["experiment"] == "steering-depth"


# ---------------------------------------------------------------- plain starts
def test_a_start_in_a_folder_of_user_files_is_refused(workspace, neurodyn):
    refused(neurodyn, workspace, *RUN, "--out", "data", names=["data", "neurodyn-run.json"])
    refused(neurodyn, workspace, *RUN, "--out", ".", names=["neurodyn-run.json"])


def test_a_start_in_a_file_is_refused(workspace, neurodyn):
    refused(neurodyn, workspace, *RUN, "--out", "notes.txt", names=["notes.txt"])
    refused(neurodyn, workspace, *RUN, "--out", "notes.txt/run", names=["notes.txt"])


def test_a_start_in_an_empty_folder_is_allowed(workspace, neurodyn):
    (workspace / "run").mkdir()
    succeeds(neurodyn, workspace, *RUN, "--out", "run")


def test_a_second_start_is_refused(workspace, neurodyn, finished):
    shutil.copytree(finished, workspace / "run")
    refused(neurodyn, workspace, *RUN, "--out", "run", names=["run", "--resume"])


@pytest.mark.parametrize("bad", [NO_DATA, ("--epochs", "0"), ("--device", "foo")])
def test_a_failed_start_leaves_nothing_and_can_be_rerun(bad, workspace, neurodyn):
    refused(neurodyn, workspace, *RUN, "--out", "run", *bad, names=[bad[-1]])
    assert not (workspace / "run").exists()
    succeeds(neurodyn, workspace, *RUN, "--out", "run")


def test_the_leftover_of_a_killed_start_is_reused(workspace, neurodyn):
    (workspace / "run").mkdir()
    (workspace / "run" / "neurodyn-run.json").write_text('{"experiment": "rate-gain"}')
    (workspace / "run" / ".config.json.x1y2.tmp").write_text("{")
    refused(neurodyn, workspace, *RUN, "--out", "run", "--resume", names=["config.json"])
    succeeds(neurodyn, workspace, *RUN, "--out", "run")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_parent_is_refused_before_the_run(workspace, neurodyn):
    (workspace / "locked").mkdir()
    (workspace / "locked").chmod(0o555)
    try:
        refused(neurodyn, workspace, *RUN, "--out", "locked/run", names=["locked"])
    finally:
        (workspace / "locked").chmod(0o755)


def test_a_refused_write_is_one_line(workspace, neurodyn, monkeypatch):
    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(files.tempfile, "mkstemp", read_only)
    refused(neurodyn, workspace, *RUN, "--out", "run", names=["run", "Permission denied"])


# ---------------------------------------------------------------- --resume
def test_resume_without_a_run_is_an_error(workspace, neurodyn):
    refused(neurodyn, workspace, *RUN, "--out", "rnu", "--resume", names=["rnu"])
    (workspace / "empty").mkdir()
    refused(neurodyn, workspace, *RUN, "--out", "empty", "--resume", names=["empty"])
    refused(neurodyn, workspace, *RUN, "--out", "data", "--resume", names=["data"])
    refused(neurodyn, workspace, *RUN, "--out", ".", "--resume", names=["neurodyn-run.json"])


RESUME_MISFITS = {
    "fewer epochs": (("--epochs", "1"), ["epochs"]),
    "another width": (("--hidden-size", "31"), ["hidden_size"]),
    "other seeds": (("--seeds", "5,6"), ["seeds"]),
    "another data seed": (("--data-seed", "3"), ["data_seed"]),
}


@pytest.mark.parametrize("case", RESUME_MISFITS)
def test_resume_refuses_a_config_that_does_not_fit(case, workspace, neurodyn, finished):
    extra, names = RESUME_MISFITS[case]
    shutil.copytree(finished, workspace / "run")
    refused(neurodyn, workspace, *RUN, "--out", "run", "--resume", *extra, names=names)


def test_resume_refuses_a_run_of_another_experiment(workspace, neurodyn, finished):
    shutil.copytree(finished, workspace / "run")
    args = ("run", "reservoir-emnist", "--config", "tiny.json", "--out", "run", "--resume")
    refused(neurodyn, workspace, *args, names=["steering-emnist", "reservoir-emnist"])


def test_resume_extends_a_run_and_its_files_agree(workspace, neurodyn, finished):
    shutil.copytree(finished, workspace / "run")
    succeeds(neurodyn, workspace, *RUN, "--out", "run", "--resume", "--epochs", "3")
    result = json.loads((workspace / "run" / "result.json").read_text())
    assert result["config"]["epochs"] == 3 and {m["epochs"] for m in result["members"]} == {3}
    succeeds(neurodyn, workspace, *RUN, "--out", "longer", "--epochs", "3", out="longer")
    assert comparable(workspace / "run") == comparable(workspace / "longer")


def test_stages_refuse_to_be_extended(workspace, neurodyn):
    tiny = to_dict(experiments.get("free-energy-capacity").tiny())
    (workspace / "capacity.json").write_text(json.dumps(tiny))
    args = ("run", "free-energy-capacity", "--config", "capacity.json", "--out", "run")
    assert neurodyn(*args, "--no-progress").code == 0
    more = str(tiny["epochs"] + 1)
    refused(neurodyn, workspace, *args, "--resume", "--epochs", more, names=["epochs"])


CORRUPT = {
    "config.json not JSON": ("config.json", b"{", ["config.json"]),
    "config.json a list": ("config.json", b"[]", ["config.json", "list"]),
    "marker not JSON": ("neurodyn-run.json", b"\xff", ["neurodyn-run.json"]),
    "checkpoint garbage": ("checkpoint.safetensors", b"garbage", ["checkpoint.safetensors"]),
    "checkpoint truncated": ("checkpoint.safetensors", None, ["checkpoint.safetensors"]),
}


@pytest.mark.parametrize("case", CORRUPT)
def test_resume_refuses_corrupt_files(case, workspace, neurodyn, finished):
    name, content, names = CORRUPT[case]
    shutil.copytree(finished, workspace / "run")
    target = workspace / "run" / name
    target.write_bytes(target.read_bytes()[:100] if content is None else content)
    refused(neurodyn, workspace, *RUN, "--out", "run", "--resume", names=names)


class _Trap:
    def __reduce__(self):
        return (open, ("unpickled.txt", "w"))


def test_resume_never_unpickles_a_checkpoint(workspace, neurodyn, finished):
    shutil.copytree(finished, workspace / "run")
    (workspace / "run" / "checkpoint.safetensors").write_bytes(pickle.dumps(_Trap()))
    refused(neurodyn, workspace, *RUN, "--out", "run", "--resume", names=["checkpoint"])
    assert not (workspace / "unpickled.txt").exists()


# ---------------------------------------------------------------- a full disk
def full_disk_at(monkeypatch, write: int) -> None:
    """Make the ``write``-th atomic write (counted from now) fail with ENOSPC, inside
    atomic_write (after its temporary file exists)."""
    count, fsync = [0], os.fsync

    def full(fd):
        count[0] += 1
        if count[0] == write:
            raise OSError(errno.ENOSPC, "No space left on device")
        fsync(fd)

    monkeypatch.setattr(files.os, "fsync", full)


@pytest.mark.parametrize("write", [1, 2, 3, 5, 8])
def test_a_full_disk_is_one_line_leaves_whole_files_and_resumes(
    write, workspace, neurodyn, monkeypatch
):
    """write 1 is the marker, 2 config.json, then checkpoint, metrics, result per epoch."""
    (workspace / "run").mkdir()
    succeeds(neurodyn, workspace, *RUN, "--out", "whole", out="whole")
    with monkeypatch.context() as patch:
        full_disk_at(patch, write)
        before = snapshot(workspace, skip=workspace / "run")
        outcome = neurodyn(*RUN, "--out", "run")
    one_line_error(outcome, "run", "No space left on device")
    assert snapshot(workspace, skip=workspace / "run") == before
    left = {p.name for p in (workspace / "run").iterdir()}
    assert not [name for name in left if name.endswith(".tmp")]
    if write <= 2:  # the start failed before config.json: nothing stays, start again
        assert left == set()
        succeeds(neurodyn, workspace, *RUN, "--out", "run")
    else:
        for name in left & {"config.json", "result.json", "neurodyn-run.json"}:
            json.loads((workspace / "run" / name).read_text())  # whole, not cut off
        succeeds(neurodyn, workspace, *RUN, "--out", "run", "--resume")
    assert comparable(workspace / "run") == comparable(workspace / "whole")
