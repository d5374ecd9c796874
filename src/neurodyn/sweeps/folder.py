"""A sweep and its folder: the whole config, its chunks, and what each chunk left on disk.

Layout::

    <sweep>/neurodyn-sweep.json    marker: experiment, the whole config, chunk size
    <sweep>/chunks/<key>/          each chunk's run folder (resumable), key = config hash
    <sweep>/done/<key>.json        a finished chunk's tidy rows (written last, atomically)
    <sweep>/failed/<key>.txt       why a chunk's last attempt failed (its traceback)
    <sweep>/logs/                  the executor's job logs (submitit)
    <sweep>/table.csv              every finished member's rows, one table
    <sweep>/result/                the whole sweep's run folder: result.json, figures/

Nothing is kept only in memory or in an executor's files: the submitting process reads
the chunks' own files, so a sweep can be gathered, shown and resumed at any time.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import neurodyn
from neurodyn import experiments
from neurodyn.config import from_dict
from neurodyn.files import config_hash, read_json_object, write_json
from neurodyn.sweeps.grid import chunk_grid

MARKER = "neurodyn-sweep.json"


@dataclass(frozen=True)
class Sweep:
    """The members of ``config`` (a whole config of ``experiment``, as a dict) split into
    chunks of at most ``chunk_size`` members along the experiment's member axes."""

    experiment: str
    config: dict
    chunk_size: int

    def __post_init__(self) -> None:
        from_dict(experiments.get(self.experiment).config, self.config)  # validates
        chunk_grid(self.grid(), self.chunk_size)  # checks the axes and the chunk size

    def member_axes(self) -> dict[str, str]:
        declared = experiments.get(self.experiment).members
        if declared is None:
            splittable = [n for n, e in experiments.EXPERIMENTS.items() if e.members is not None]
            raise ValueError(
                f"experiment {self.experiment!r} declares no member axes, so a sweep cannot "
                f"split it into chunks (experiments that can: {splittable})"
            )
        return declared.axes

    def grid(self) -> dict[str, list]:
        """Axis name -> its values in the whole config, the outermost axis first."""
        return {axis: list(self.config[name]) for axis, name in self.member_axes().items()}

    def chunks(self) -> list[dict]:
        """The config (a dict) of every chunk, in the grid's order."""
        fields = self.member_axes()
        return [
            self.config | {fields[axis]: list(values) for axis, values in chunk.items()}
            for chunk in chunk_grid(self.grid(), self.chunk_size)
        ]

    def keyed(self) -> dict[str, dict]:
        """Chunk key -> chunk config, in the grid's order."""
        return {chunk_key(self.experiment, config): config for config in self.chunks()}

    def describe(self, config: dict) -> str:
        """A chunk's members as ``axis=values`` (``gain=0.5 seed=0,1``)."""
        fields = self.member_axes()
        return " ".join(
            f"{axis}={','.join(f'{v:g}' if isinstance(v, float) else str(v) for v in config[name])}"
            for axis, name in fields.items()
        )

    def to_json(self) -> dict:
        return {
            "experiment": self.experiment,
            "config": self.config,
            "chunk_size": self.chunk_size,
            "neurodyn": neurodyn.__version__,
        }


def chunk_key(experiment: str, config: dict) -> str:
    """The name of a chunk's files: a hash of its experiment and config."""
    return config_hash({"experiment": experiment, "config": config})


class SweepFolder:
    """The files of a sweep in ``path`` (see the module's layout)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path).absolute()  # jobs may start in another folder

    def chunk(self, key: str) -> Path:
        return self.path / "chunks" / key

    def done(self, key: str) -> Path:
        return self.path / "done" / f"{key}.json"

    def failed(self, key: str) -> Path:
        return self.path / "failed" / f"{key}.txt"

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def table(self) -> Path:
        return self.path / "table.csv"

    @property
    def result(self) -> Path:
        return self.path / "result"

    def holds_sweep(self) -> bool:
        return (self.path / MARKER).is_file()

    def read(self) -> Sweep:
        """The sweep this folder holds; a clear error where it holds none."""
        if not self.holds_sweep():
            raise FileNotFoundError(
                f"{self.path} holds no sweep (it has no {MARKER}); check the folder"
            )
        stored = read_json_object(self.path / MARKER)
        try:
            return Sweep(stored["experiment"], stored["config"], stored["chunk_size"])
        except (KeyError, TypeError) as error:
            raise ValueError(f"{self.path / MARKER} is not a complete sweep ({error})") from None

    def start(self, sweep: Sweep) -> None:
        """Write ``sweep``'s marker into a new (absent or empty) folder, or check that the
        folder holds this same sweep (a rerun continues it)."""
        if self.holds_sweep():
            stored = self.read()
            if stored != sweep:
                raise FileExistsError(
                    f"{self.path} holds another sweep ({stored.experiment}, "
                    f"{len(stored.chunks())} chunks of up to {stored.chunk_size}); "
                    "rerun it with the same settings (or --resume), or choose another --out"
                )
            return
        if self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
            raise FileExistsError(
                f"{self.path} is not empty and holds no sweep; choose another --out"
            )
        write_json(self.path / MARKER, sweep.to_json())

    def status(self, sweep: Sweep) -> dict[str, str]:
        """Chunk key -> ``done``, ``failed`` or ``missing`` (not started or not finished)."""
        status = {}
        for key in sweep.keyed():
            if self.done(key).is_file():
                status[key] = "done"
            elif self.failed(key).is_file():
                status[key] = "failed"
            else:
                status[key] = "missing"
        return status

    def rows(self, key: str) -> list[dict]:
        """The tidy rows a finished chunk wrote."""
        rows = read_json_object(self.done(key)).get("rows")
        if not isinstance(rows, list):
            raise ValueError(f"{self.done(key)} holds no list of rows; delete it to rerun")
        return rows

    def write_executor(self, executor) -> None:
        """Remember the executor a sweep last ran on (``--resume`` reuses it)."""
        write_json(
            self.path / "executor.json", {"kind": executor.kind} | dataclasses.asdict(executor)
        )

    def read_executor(self) -> dict:
        path = self.path / "executor.json"
        return read_json_object(path) if path.is_file() else {}

    def write_done(self, key: str, rows: list[dict]) -> None:
        write_json(self.done(key), {"rows": rows})
        self.failed(key).unlink(missing_ok=True)

    def failure(self, key: str) -> str:
        """The last line of the failed chunk's traceback (its exception)."""
        lines = self.failed(key).read_text(encoding="utf-8", errors="replace").splitlines()
        return next((line for line in reversed(lines) if line.strip()), "failed")
