"""kill -9 at a random point of a run, then ``--resume``: the same final files as a run
that was never interrupted (design principle 5).

``neurodyn run NAME`` runs in a subprocess; once its checkpoint has been replaced a
seeded number of times, a seeded delay later it gets SIGKILL (while it still runs), and
``neurodyn run NAME --resume`` finishes it in this process. result.json, metrics.csv,
arrays.safetensors, checkpoint.safetensors, config.json and the marker must then equal
those of an uninterrupted run bit for bit, but for wall-clock timings (keys and columns
named ``*seconds*``: metrics.csv's ``seconds``, the checkpoint's copy of those rows, and
free-energy-regimes' ``train_seconds`` / ``evaluate_seconds`` in result.json).

The experiments killed cover both ways of checkpointing: per-epoch training
(``steering-emnist``; ``steering-depth`` and the baseline presets share its code) and
resumable stages (``steering-phase-transition``: relaxations, focusing BP and
enumerations; ``free-energy-regimes``: stages of learning and scoring; the other staged
experiments share that code). The kill point is the n-th new
checkpoint (n seeded, in the first half of the run) plus a seeded delay of up to 10 ms;
the test checks that the killed folder was cut short. ``free-energy-orthogonal`` and
``free-energy-sequence`` do not checkpoint: they compute in one go and write their
files at the end, so a killed run leaves no result, and a rerun computes the same
numbers from the same seeds.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load as load_safetensors

from neurodyn import cli, experiments
from neurodyn.config import to_dict

FILES = ("neurodyn-run.json", "config.json", "result.json", "metrics.csv")
TENSOR_FILES = ("arrays.safetensors", "checkpoint.safetensors")


def _untimed(value):
    """``value`` without the entries whose key names a wall-clock time."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if "seconds" not in k}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _tensors(path: Path) -> dict:
    raw = path.read_bytes()
    header = json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])
    metadata = header.get("__metadata__") or {}
    state = _untimed(json.loads(metadata["state"])) if "state" in metadata else None
    tensors = {
        name: (str(t.dtype), tuple(t.shape), t.contiguous().view(-1).view(torch.uint8))
        for name, t in load_safetensors(raw).items()
    }
    return {
        "metadata": {**metadata, "state": state},
        "tensors": {
            k: (dtype, shape, bytes(data.numpy())) for k, (dtype, shape, data) in tensors.items()
        },
    }


def comparable(folder: Path) -> dict:
    """The final files of a run folder as values to compare, timings left out."""
    files = {}
    for name in FILES:
        path = folder / name
        if not path.exists():
            continue
        if name.endswith(".csv"):
            with path.open(newline="") as handle:
                files[name] = _untimed(list(csv.DictReader(handle)))
        else:
            files[name] = _untimed(json.loads(path.read_text()))
    for name in TENSOR_FILES:
        if (folder / name).exists():
            files[name] = _tensors(folder / name)
    return files


def _versions(path: Path, seen: set, process: subprocess.Popen, count: int) -> None:
    """Wait until ``path`` has been (re)written ``count`` times (every atomic replacement
    is a new file) while ``process`` runs."""
    deadline = time.monotonic() + 120
    while len(seen) < count and process.poll() is None and time.monotonic() < deadline:
        try:
            status = path.stat()
            seen.add((status.st_ino, status.st_mtime_ns, status.st_size))
        except FileNotFoundError:
            pass
        time.sleep(0.002)


LONGER = {  # tiny configs, some lengthened to about a second; checkpoint writes in a run
    "steering-emnist": ({"epochs": 20, "train_size": 200}, 21),
    "steering-phase-transition": ({"sizes": (30, 60, 90)}, 5),
    "free-energy-regimes": ({}, 7),
}


@pytest.mark.parametrize("name", LONGER)
def test_kill_minus_nine_then_resume_gives_the_same_files(name, tmp_path):
    changes, writes = LONGER[name]
    config = to_dict(replace(experiments.get(name).tiny(), **changes))
    settings = tmp_path / "config.json"
    settings.write_text(json.dumps(config))
    run = ["run", name, "--config", str(settings), "--no-progress"]
    assert cli.main([*run, "--out", str(tmp_path / "whole")]) == 0

    chance = random.Random(f"kill {name}")
    after, delay = chance.randint(1, writes // 2), chance.uniform(0.0, 0.01)
    killed = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "neurodyn.cli", *run, "--out", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _versions(killed / "checkpoint.safetensors", set(), process, after)
        time.sleep(delay)
        running = process.poll() is None
        if running:
            os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        _, err = process.communicate()
    assert running, f"the run ended before the kill point ({err.decode()[-500:]})"
    assert comparable(killed) != comparable(tmp_path / "whole")  # it was cut short

    assert cli.main([*run, "--out", str(killed), "--resume"]) == 0
    assert comparable(killed) == comparable(tmp_path / "whole")
    assert not list(killed.rglob("*.tmp"))  # the leftovers of a killed write are gone
