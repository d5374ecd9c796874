"""What a run folder holds: the names of its files and the checks on a folder's entries.

:mod:`neurodyn.runs` writes these files; this module names them and tells a run's own
files (and the temporary files of a killed write) from anything else in a folder, so
that ``--overwrite`` deletes only a run's files.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

MARKER = "neurodyn-run.json"
CONFIG = "config.json"
RESULT = "result.json"
METRICS = "metrics.csv"
CHECKPOINT = "checkpoint.safetensors"
STATE_KEY = "__state__"  # the checkpoint tensor holding its JSON state
ARRAYS = "arrays.safetensors"
FIGURES = "figures"
RUN_FILES = (MARKER, CONFIG, RESULT, METRICS, ARRAYS, CHECKPOINT)


def is_temporary(name: str) -> bool:
    """A leftover of :func:`atomic_write` (``.NAME.XXXX.tmp``) of a run file or figure."""
    if not (name.startswith(".") and name.endswith(".tmp")):
        return False
    return ".png." in name or any(name.startswith(f".{known}.") for known in RUN_FILES)


def foreign(folder: Path) -> list[str]:
    """The entries of ``folder`` that a run does not write (``--overwrite`` refuses them)."""
    strangers = []
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            strangers.append(entry.name)
        elif entry.name == FIGURES and entry.is_dir():
            strangers += [
                f"{FIGURES}/{figure.name}"
                for figure in sorted(entry.iterdir())
                if figure.is_symlink()
                or not figure.is_file()
                or not (figure.suffix == ".png" or is_temporary(figure.name))
            ]
        elif not entry.is_file() or not (entry.name in RUN_FILES or is_temporary(entry.name)):
            strangers.append(entry.name)
    return strangers


def check_creatable(path: Path) -> None:
    """``path`` can be written: its nearest existing ancestor is a writable folder."""
    probe = path
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder, cannot hold one", str(probe))
    if not os.access(probe, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "cannot write the run folder there", str(probe))


def listing(names: list[str]) -> str:
    return ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
