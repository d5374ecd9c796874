"""Run folders: config, metrics, result, checkpoint and figures, written atomically.

Layout (design principle 5)::

    <run>/neurodyn-run.json        marker: this is a neurodyn run folder (experiment, version,
                                   the thread counts, precision and determinism it ran with)
    <run>/config.json              the full config (rewritten only when a resume extends it)
    <run>/metrics.csv              one row per logged step (rewritten atomically)
    <run>/result.json              headline numbers next to the papers' values
    <run>/arrays.safetensors       arrays a figure needs beyond result.json (optional)
    <run>/checkpoint.safetensors   tensors + JSON state in the safetensors header
    <run>/figures/*.png            drawn from the files above alone (``neurodyn plot``)

Every file is written to a temporary sibling and renamed over the old one, so a run
killed at any moment leaves the previous complete version. Checkpoints are safetensors
(never pickle) and carry a hash of the config: resuming with another config is refused.
The marker's ``threads`` lists the PyTorch thread counts of the sessions that wrote to the
run (its start, then each resume that used another count), read from
``torch.get_num_threads()`` at each session's first write: how the run was computed, which
explains its timings, kept apart from ``config.json`` so that resuming on another thread
count (or an older run folder without it) compares and hashes the same config. Likewise
``float32_matmul_precision`` and ``deterministic`` record the float32 matmul precision
(``"highest"`` under :func:`neurodyn.precision.full_precision`) and whether PyTorch's
deterministic algorithms were on; after a resume with other settings, the weakest of the
sessions (the lowest precision; deterministic only if every session was).
A :class:`RunFolder` checks what it can when it is made and writes nothing then: the
folder, the marker and ``config.json`` are written (and an old run deleted) at the first
write of a file, once the experiment has validated its config and loaded its data.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors.torch import save as save_safetensors

import neurodyn
from neurodyn.files import atomic_write, config_hash, read_json_object, read_safetensors, write_json
from neurodyn.precision import matmul_precision
from neurodyn.run_files import (
    ARRAYS,
    CHECKPOINT,
    CONFIG,
    FIGURES,
    MARKER,
    METRICS,
    RESULT,
    STATE_KEY,
    check_creatable,
    foreign,
    is_temporary,
    listing,
)

# Float32 matmul precisions from the weakest ("mixed": PyTorch's settings disagree).
PRECISIONS = ("mixed", "medium", "high", "highest")


def _settings() -> dict:
    """How this session computes: its float32 matmul precision and determinism."""
    return {
        "float32_matmul_precision": matmul_precision(),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
    }


def _shorter(stored: dict, config: dict, fields: Sequence[str]) -> list[str]:
    """The numeric ``fields`` that ``config`` sets lower than ``stored``."""
    numeric = [k for k in fields if all(type(c.get(k)) in (int, float) for c in (stored, config))]
    return [name for name in numeric if config[name] < stored[name]]


class RunFolder:
    """A results folder for one run of one experiment.

    ``resume=True`` continues the run in ``path`` (an error where there is none), whose
    ``config.json`` must equal ``config`` but for the ``extendable`` fields, which may
    grow (never shrink). ``overwrite=True`` replaces a run folder, and only a folder
    holding nothing but run files (its marker included); the old run is deleted at the
    first write, so a run that fails before it keeps the old one. Otherwise ``path``
    must be absent or empty, so that no result is silently replaced. ``experiment`` is
    the registered name stored in the marker (``neurodyn show`` and ``plot`` read it).
    ``defaults``: the config class's default values; on resume, a field that the stored
    ``config.json`` lacks (added to the experiment after the run started) and that is at
    its default is left out of the comparison, the checkpoint's hash and ``config.json``:
    the run computed what that default does, so it resumes across the upgrade.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        config: dict,
        *,
        resume: bool = False,
        overwrite: bool = False,
        extendable: tuple[str, ...] = ("epochs",),
        experiment: str | None = None,
        defaults: dict | None = None,
    ):
        self._setup(Path(path), config, tuple(extendable), experiment)
        self._defaults = defaults or {}
        if resume and overwrite:
            raise ValueError("--resume and --overwrite exclude each other: choose one")
        if self.path.exists() and not self.path.is_dir():
            raise FileExistsError(f"{self.path} is a file, not a run folder; choose another --out")
        check_creatable(self.path)
        if not self.path.exists() or not any(self.path.iterdir()):
            if resume:
                raise FileNotFoundError(
                    f"nothing to resume in {self.path}: it holds no run (check --out, or "
                    "drop --resume to start one)"
                )
            return
        strangers = foreign(self.path)
        if not (self.path / MARKER).is_file():
            raise FileExistsError(
                f"{self.path} is not a neurodyn run folder (it has no {MARKER} and holds "
                f"{listing(strangers or sorted(p.name for p in self.path.iterdir()))}); "
                f"{'--overwrite deletes only run folders; ' if overwrite else ''}"
                "choose another --out"
            )
        marker = read_json_object(self.path / MARKER)
        started = (self.path / CONFIG).is_file()  # else a start that failed before config.json
        if resume:
            if not started:
                raise FileNotFoundError(f"nothing to resume in {self.path}: it has no {CONFIG}")
            self._check_resumable(marker, read_json_object(self.path / CONFIG))
            return
        if started and not overwrite:
            raise FileExistsError(
                f"{self.path} already holds a run; pass --resume to continue it, "
                "--overwrite to start again, or --out to choose another folder"
            )
        self._refuse_strangers(strangers, "overwrite it" if started else "start a run in it")
        self._clear = True  # the run files found here go at the first write

    def _refuse_strangers(self, strangers: list[str], action: str) -> None:
        if strangers:
            raise FileExistsError(
                f"{self.path} holds files that a neurodyn run does not write "
                f"({listing(strangers)}); "
                f"refusing to {action}: move them away or choose another --out"
            )

    def _check_resumable(self, marker: dict, stored: dict) -> None:
        previous = marker.get("experiment")
        if None not in (previous, self.experiment) and previous != self.experiment:
            raise ValueError(
                f"cannot resume {self.path}: it holds a run of {previous!r}, "
                f"not {self.experiment!r}"
            )
        added = [
            k
            for k, v in self.config.items()
            if k not in stored and k in self._defaults and v == self._defaults[k]
        ]
        if added:  # fields newer than the run, at the value the run computed with
            kept = {k: v for k, v in self.config.items() if k not in added}
            self._setup(self.path, kept, self.extendable, self.experiment)
        config = self.config
        changed = sorted(
            k
            for k in set(stored) | set(config)
            if stored.get(k) != config.get(k) and k not in self.extendable
        )
        if changed:
            raise ValueError(
                f"cannot resume {self.path}: its config differs in {changed}; "
                "resume with the same settings or use another --out"
            )
        shorter = _shorter(stored, config, self.extendable)
        if shorter:
            was = ", ".join(f"{name} = {stored[name]}" for name in shorter)
            raise ValueError(
                f"cannot resume {self.path} with fewer {', '.join(shorter)}: it was set up "
                f"with {was}; a resume may only extend a run (use another --out)"
            )
        self._rewrite_config = stored != config

    @staticmethod
    def holds_run(path: str | os.PathLike) -> bool:
        """Whether ``path`` holds a run that ``resume=True`` can continue."""
        return (Path(path) / MARKER).is_file() and (Path(path) / CONFIG).is_file()

    @classmethod
    def open(cls, path: str | os.PathLike) -> RunFolder:
        """The existing run folder ``path`` with its stored config (``neurodyn plot`` and
        ``neurodyn show`` read it); ``experiment`` is the marker's (None without one)."""
        path = Path(path)
        if not (path / CONFIG).is_file():
            raise FileNotFoundError(f"{path} is not a run folder (it has no {CONFIG})")
        config = read_json_object(path / CONFIG)
        marker = read_json_object(path / MARKER) if (path / MARKER).is_file() else {}
        folder = cls.__new__(cls)
        folder._setup(path, config, ("epochs",), marker.get("experiment"))
        folder._ready = True
        return folder

    def _setup(self, path: Path, config: dict, extendable: tuple, experiment: str | None):
        self.path, self.config, self.experiment = path, config, experiment
        # Fields that only say how long to run may grow on resume (to extend a run);
        # every other field must match, and checkpoints are bound to them.
        self.extendable = extendable
        self.hash = config_hash({k: v for k, v in config.items() if k not in extendable})
        self._ready = False  # the marker and config.json are on disk
        self._clear = False  # delete the run files found here at the first write
        self._rewrite_config = True

    def _prepare(self) -> None:
        """At the first write: delete the old run (``overwrite``) or a failed start's
        leftovers, create the folder, write the marker and config.json."""
        if self._ready:
            return
        if self._clear:
            self._refuse_strangers(foreign(self.path), "overwrite it")
            self._delete_run_files()
        created = []
        probe = self.path
        while not probe.exists():
            created.append(probe)
            probe = probe.parent
        fresh = not (self.path / MARKER).is_file()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            leftovers = [*self.path.iterdir()]  # temporary files of a killed write
            if (self.path / FIGURES).is_dir():
                leftovers += (self.path / FIGURES).iterdir()
            for leftover in leftovers:
                if leftover.is_file() and is_temporary(leftover.name):
                    leftover.unlink()
            if fresh:
                marker = {"experiment": self.experiment, "neurodyn": neurodyn.__version__}
                session = {"threads": [torch.get_num_threads()], **_settings()}
                write_json(self.path / MARKER, marker | session)
            else:
                self._note_session()
            if self._rewrite_config:
                write_json(self.path / CONFIG, self.config)
        except BaseException:
            if fresh:  # leave the disk as it was
                (self.path / MARKER).unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    for folder in created:
                        folder.rmdir()
            raise
        self._ready = True

    def _note_session(self) -> None:
        """Add this session's thread count to the marker's ``threads`` if it is new there,
        and weaken its precision and determinism to this session's where they are weaker
        (a marker written before neurodyn recorded one of them is left without it)."""
        marker = read_json_object(self.path / MARKER)
        noted = dict(marker)
        counts = marker.get("threads")
        if isinstance(counts, list) and torch.get_num_threads() not in counts:
            noted["threads"] = [*counts, torch.get_num_threads()]
        now = _settings()
        if marker.get("deterministic") is True:
            noted["deterministic"] = now["deterministic"]
        stored = marker.get("float32_matmul_precision")
        if stored in PRECISIONS and PRECISIONS.index(now["float32_matmul_precision"]) < (
            PRECISIONS.index(stored)
        ):
            noted["float32_matmul_precision"] = now["float32_matmul_precision"]
        if noted != marker:
            write_json(self.path / MARKER, noted)

    def _delete_run_files(self) -> None:
        """Delete the run files, config.json first (then a kill leaves a failed start)."""
        (self.path / CONFIG).unlink(missing_ok=True)
        figures = self.path / FIGURES
        if figures.is_dir():
            for figure in figures.iterdir():
                figure.unlink()
            figures.rmdir()
        for entry in self.path.iterdir():
            if entry.name != MARKER:
                entry.unlink()
        (self.path / MARKER).unlink(missing_ok=True)
        self._clear = False

    def _write(self, name: str, data: bytes | str) -> Path:
        self._prepare()
        atomic_write(self.path / name, data)
        return self.path / name

    def _existing(self, name: str) -> Path | None:
        """``path / name`` if it holds this run's file (not an old run's being replaced)."""
        path = self.path / name
        return None if self._clear or not path.is_file() else path

    def figure(self, name: str) -> Path:
        return self.path / FIGURES / name

    def save_figure(self, fig, name: str) -> Path:
        """Save a matplotlib figure atomically as ``figures/<name>``."""
        buffer = io.BytesIO()
        kind = Path(name).suffix.lstrip(".") or "png"
        fig.savefig(buffer, format=kind, dpi=120, bbox_inches="tight")
        return self._write(f"{FIGURES}/{name}", buffer.getvalue())

    def write_metrics(self, rows: Sequence[dict]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        self._write(METRICS, buffer.getvalue())

    def read_metrics(self) -> list[dict]:
        path = self._existing(METRICS)
        if path is None:
            return []
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                return list(csv.DictReader(handle))
        except (csv.Error, ValueError) as error:
            raise ValueError(f"{path} is not a readable CSV file ({error})") from None

    def write_result(self, result: dict) -> None:
        self._write(RESULT, json.dumps(result, indent=2) + "\n")

    def read_result(self) -> dict:
        path = self._existing(RESULT)
        if path is None:
            raise FileNotFoundError(f"{self.path} holds no result yet (no stage has finished)")
        return read_json_object(path)

    def write_arrays(self, tensors: dict[str, torch.Tensor]) -> None:
        """Arrays for the figures (safetensors, atomically), next to result.json."""
        payload = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
        self._write(ARRAYS, save_safetensors(payload))

    def read_arrays(self) -> dict[str, torch.Tensor]:
        path = self._existing(ARRAYS)
        if path is None:
            raise FileNotFoundError(f"{self.path} holds no {ARRAYS} yet")
        return read_safetensors(path, "safetensors file")[0]

    def save_checkpoint(self, tensors: dict[str, torch.Tensor], state: dict) -> None:
        """Tensors plus a JSON ``state`` (epoch, history, ...) in one atomic file, the state
        as the UTF-8 bytes of the uint8 tensor ``STATE_KEY``: safetensors caps its header at
        100 MB, and a sweep's joined state (4 800 members' loss curves) is larger."""
        if STATE_KEY in tensors:
            raise ValueError(f"{STATE_KEY!r} is reserved for the checkpoint's state")
        payload = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
        encoded = bytearray(json.dumps(state).encode())  # never empty: at least "{}"
        payload[STATE_KEY] = torch.frombuffer(encoded, dtype=torch.uint8)
        self._write(CHECKPOINT, save_safetensors(payload, metadata={"config_hash": self.hash}))

    def load_checkpoint(self) -> tuple[dict[str, torch.Tensor], dict] | None:
        """The last checkpoint, or ``None`` when the run has none yet. Older checkpoints,
        with the state in the header's metadata, are read too, so that their runs resume."""
        path = self._existing(CHECKPOINT)
        if path is None:
            return None
        tensors, metadata = read_safetensors(path, "checkpoint")
        if metadata.get("config_hash") != self.hash:
            raise ValueError(f"{path} was written by another config; refusing to resume from it")
        encoded = tensors.pop(STATE_KEY, None)
        try:
            state = json.loads(metadata["state"] if encoded is None else bytes(encoded.numpy()))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path} holds no readable state; delete it") from None
        return tensors, state
