"""Files written so that a crash never leaves a half-written one, and read without pickle.

:func:`atomic_write` writes to a temporary sibling and renames it over the target, so
that a process killed at any moment leaves the previous complete version; JSON holds
configs and results, safetensors tensors (with a JSON header), and nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_safetensors


def atomic_write(path: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename; a failure
    removes the temporary file, keeps the old ``path`` and (an OSError) names ``path``."""
    path, tmp = Path(path), None
    raw = data.encode() if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.filename is None:
            raise OSError(error.errno, error.strerror or str(error), str(path)) from error
        raise


def write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json_object(path: Path) -> dict:
    """The JSON object in ``path``; anything else is a ValueError naming the file."""
    try:
        value = json.loads(path.read_bytes())
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise ValueError(f"{path} is not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path} must hold a JSON object, not {type(value).__name__}")
    return value


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def read_safetensors(path: Path, what: str) -> tuple[dict[str, torch.Tensor], dict]:
    """The tensors and metadata of a safetensors file (never pickle); else a ValueError."""
    raw = path.read_bytes()
    try:
        tensors = load_safetensors(raw)
        header_len = int.from_bytes(raw[:8], "little")
        metadata = json.loads(raw[8 : 8 + header_len]).get("__metadata__") or {}
    except Exception as error:  # safetensors raises its own error types
        raise ValueError(f"{path} is not a readable {what} ({error}); delete it") from None
    return tensors, metadata
