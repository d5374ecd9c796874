"""Shared tools of the hostile-input tests: run the command line in-process, take a
snapshot of a folder tree, and assert the shape of a clear error.

Every case asserts its exact outcome: exit code 2 with one line on stderr that names the
field or file, or a ValueError / TypeError that names the argument; cases that touch the
file system also assert that nothing outside the run folder changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from neurodyn import cli


@dataclass
class Outcome:
    code: int
    out: str
    err: str


@pytest.fixture
def neurodyn(capsys):
    """``neurodyn(*args)``: run the command in this process; returns its Outcome."""

    def run(*args: str) -> Outcome:
        capsys.readouterr()
        code = cli.main([str(a) for a in args])
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


def snapshot(root: Path, *, skip: Path | None = None) -> dict[str, str]:
    """Every file and folder under ``root`` (but ``skip``) with the digest of its bytes."""
    state = {}
    for path in sorted(root.rglob("*")):
        if skip is not None and (path == skip or skip in path.parents):
            continue
        key = str(path.relative_to(root))
        state[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def one_line_error(outcome: Outcome, *names: str) -> None:
    """Exit code 2 and a single stderr line ``neurodyn: error: ...`` naming every ``names``."""
    assert outcome.code == 2, (outcome.code, outcome.err)
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neurodyn: error: "), outcome.err
    for name in names:
        assert name in lines[0], (name, lines[0])
