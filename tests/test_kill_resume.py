"""kill -9 at a random point of a run, then ``--resume``: the same final files as a run
that was never interrupted (design principle 5), for every registered experiment that
checkpoints.

The files of a run folder change only where a write is renamed into place
(``os.replace`` in :func:`neurodyn.files.atomic_write`), so every point at which a run can
be killed is equivalent to one just before or just after one of those renames (before:
the temporary file of that write is left behind). The test runs the tiny config once,
counting its writes into the run folder; then, in a subprocess, SIGKILLs the run at a
seeded one of them (after its marker and config exist), before or after the rename
(seeded too), and finishes it with ``neurodyn run NAME --resume`` in this process.
result.json, metrics.csv, arrays.safetensors, checkpoint.safetensors, config.json and the
marker must then equal those of the uninterrupted run bit for bit, but for wall-clock
timings (keys and columns named ``*seconds*``). ``free-energy-orthogonal`` and
``free-energy-sequence`` write no checkpoint: they compute in one go and write at the
end, so a killed run leaves no result and a rerun computes the same numbers.
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load as load_safetensors

from neurodyn import cli, experiments
from neurodyn.config import to_dict
from neurodyn.runs import STATE_KEY

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
    loaded = load_safetensors(raw)
    # the JSON state: in the uint8 tensor STATE_KEY (older checkpoints: in the metadata)
    encoded = loaded.pop(STATE_KEY, None)
    text = bytes(encoded.numpy()).decode() if encoded is not None else metadata.get("state")
    state = _untimed(json.loads(text)) if text is not None else None
    tensors = {
        name: (str(t.dtype), tuple(t.shape), t.contiguous().view(-1).view(torch.uint8))
        for name, t in loaded.items()
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


# Runs the command line, SIGKILLing itself at the n-th rename into the run folder,
# "before" or "after" it (argv: n, when, folder, the command's arguments).
KILLER = """
import os, signal, sys
target, when, folder = int(sys.argv[1]), sys.argv[2], os.path.realpath(sys.argv[3])
rename, count = os.replace, [0]

def replace(source, destination, *args, **options):
    inside = os.path.realpath(destination).startswith(folder + os.sep)
    count[0] += inside
    if inside and count[0] == target and when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    rename(source, destination, *args, **options)
    if inside and count[0] == target:
        os.kill(os.getpid(), signal.SIGKILL)

os.replace = replace
from neurodyn.cli import main
sys.exit(main(sys.argv[4:]))
"""


def _writes_into(folder: Path, monkeypatch) -> list[int]:
    """Patch os.replace to count renames into ``folder``; returns the live count."""
    rename, count = os.replace, [0]

    def replace(source, destination, *args, **options):
        count[0] += Path(os.path.realpath(destination)).is_relative_to(folder.resolve())
        rename(source, destination, *args, **options)

    monkeypatch.setattr(os, "replace", replace)
    return count


@pytest.mark.parametrize("name", experiments.names())
def test_kill_minus_nine_then_resume_gives_the_same_files(name, tmp_path, monkeypatch):
    settings = tmp_path / "config.json"
    settings.write_text(json.dumps(to_dict(experiments.get(name).tiny())))
    run = ["run", name, "--config", str(settings), "--no-progress"]
    whole = tmp_path / "whole"
    writes = _writes_into(whole, monkeypatch)
    assert cli.main([*run, "--out", str(whole)]) == 0
    monkeypatch.undo()
    if not (whole / "checkpoint.safetensors").exists():
        pytest.skip(f"{name} writes no checkpoint: it computes in one go and writes at the end")
    chance = random.Random(f"kill {name}")
    # the marker and config.json are the first two writes: kill after the run exists
    target, when = chance.randint(3, writes[0] - 1), chance.choice(("before", "after"))
    killed = tmp_path / "killed"
    done = subprocess.run(
        [sys.executable, "-c", KILLER, str(target), when, str(killed), *run, "--out", str(killed)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == -9, (target, when, done.returncode, done.stderr[-2000:])

    assert cli.main([*run, "--out", str(killed), "--resume"]) == 0
    assert comparable(killed) == comparable(whole), (target, when)
    assert not list(killed.rglob("*.tmp"))  # the leftovers of a killed write are gone
