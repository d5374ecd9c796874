"""Run folders: config, metrics, result, checkpoint and figures, written atomically.

Layout (design principle 5)::

    <run>/config.json              the full config, written once
    <run>/metrics.csv              one row per logged step (rewritten atomically)
    <run>/result.json              headline numbers next to the papers' values
    <run>/arrays.safetensors       arrays a figure needs beyond result.json (optional)
    <run>/checkpoint.safetensors   tensors + JSON state in the safetensors header
    <run>/figures/*.png            drawn from the files above alone (``neurodyn plot``)

Every file is written to a temporary sibling and renamed over the old one, so a run
killed at any moment leaves the previous complete version. Checkpoints are safetensors
(never pickle) and carry a hash of the config: resuming with another config is refused.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

CHECKPOINT = "checkpoint.safetensors"
ARRAYS = "arrays.safetensors"


def atomic_write(path: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


class RunFolder:
    """A results folder for one run of one experiment.

    ``resume=True`` reopens a folder whose ``config.json`` equals ``config``;
    ``overwrite=True`` deletes an existing folder first. Otherwise an existing folder is
    an error, so that no result is silently replaced.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        config: dict,
        *,
        resume: bool = False,
        overwrite: bool = False,
        extendable: tuple[str, ...] = ("epochs",),
    ):
        self.path = Path(path)
        self.config = config
        # Fields that only say how long to run may change on resume (to extend a run);
        # every other field must match, and checkpoints are bound to them.
        self.hash = config_hash({k: v for k, v in config.items() if k not in extendable})
        config_file = self.path / "config.json"
        if self.path.exists() and overwrite:
            shutil.rmtree(self.path)
        if config_file.exists():
            stored = json.loads(config_file.read_text())
            if not resume:
                raise FileExistsError(
                    f"{self.path} already holds a run; pass --resume to continue it, "
                    "--overwrite to start again, or --out to choose another folder"
                )
            changed = sorted(
                k
                for k in set(stored) | set(config)
                if stored.get(k) != config.get(k) and k not in extendable
            )
            if changed:
                raise ValueError(
                    f"cannot resume {self.path}: its config differs in {changed}; "
                    "resume with the same settings or use another --out"
                )
        self.path.mkdir(parents=True, exist_ok=True)
        write_json(config_file, config)
        (self.path / "figures").mkdir(exist_ok=True)

    @classmethod
    def open(cls, path: str | os.PathLike) -> RunFolder:
        """The existing run folder ``path`` with its stored config (``neurodyn plot`` and
        ``neurodyn show`` read it)."""
        config_file = Path(path) / "config.json"
        if not config_file.is_file():
            raise FileNotFoundError(f"{path} is not a run folder (it has no config.json)")
        return cls(path, json.loads(config_file.read_text()), resume=True)

    # -------------------------------------------------------------- files
    def figure(self, name: str) -> Path:
        return self.path / "figures" / name

    def save_figure(self, fig, name: str) -> Path:
        """Save a matplotlib figure atomically as ``figures/<name>``."""
        buffer = io.BytesIO()
        fig.savefig(
            buffer, format=Path(name).suffix.lstrip(".") or "png", dpi=120, bbox_inches="tight"
        )
        target = self.figure(name)
        atomic_write(target, buffer.getvalue())
        return target

    def write_metrics(self, rows: Sequence[dict]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write(self.path / "metrics.csv", buffer.getvalue())

    def read_metrics(self) -> list[dict]:
        path = self.path / "metrics.csv"
        if not path.exists():
            return []
        with path.open() as handle:
            return list(csv.DictReader(handle))

    def write_result(self, result: dict) -> None:
        write_json(self.path / "result.json", result)

    def read_result(self) -> dict:
        path = self.path / "result.json"
        if not path.exists():
            raise FileNotFoundError(f"{self.path} holds no result yet (no stage has finished)")
        return json.loads(path.read_text())

    def write_arrays(self, tensors: dict[str, torch.Tensor]) -> None:
        """Arrays for the figures (safetensors, atomically), next to result.json."""
        payload = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
        atomic_write(self.path / ARRAYS, save_safetensors(payload))

    def read_arrays(self) -> dict[str, torch.Tensor]:
        path = self.path / ARRAYS
        if not path.exists():
            raise FileNotFoundError(f"{self.path} holds no {ARRAYS} yet")
        return load_safetensors(path.read_bytes())

    # -------------------------------------------------------------- checkpoints
    def save_checkpoint(self, tensors: dict[str, torch.Tensor], state: dict) -> None:
        """Tensors plus a JSON ``state`` (epoch, history, ...) in one atomic file."""
        payload = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
        metadata = {"config_hash": self.hash, "state": json.dumps(state)}
        atomic_write(self.path / CHECKPOINT, save_safetensors(payload, metadata=metadata))

    def load_checkpoint(self) -> tuple[dict[str, torch.Tensor], dict] | None:
        """The last checkpoint, or ``None`` when the run has none yet."""
        path = self.path / CHECKPOINT
        if not path.exists():
            return None
        raw = path.read_bytes()
        try:
            tensors = load_safetensors(raw)
            header_len = int.from_bytes(raw[:8], "little")
            metadata = json.loads(raw[8 : 8 + header_len]).get("__metadata__", {})
        except Exception as error:  # safetensors raises its own error types
            raise ValueError(f"{path} is not a readable checkpoint ({error}); delete it") from error
        if metadata.get("config_hash") != self.hash:
            raise ValueError(f"{path} was written by another config; refusing to resume from it")
        return tensors, json.loads(metadata["state"])
