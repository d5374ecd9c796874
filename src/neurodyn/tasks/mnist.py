"""MNIST-format IDX files and Entangled MNIST (spec ``steering.md`` section 4.1).

Files are looked up, in this order, in: the ``data_dir`` argument, ``$NEURODYN_DATA``,
the user cache (``$XDG_CACHE_HOME/neurodyn`` or ``~/.cache/neurodyn``); each place may
hold the files directly or in a ``mnist/`` folder, gzipped or raw. When none has them
they are downloaded into the user cache from the canonical mirrors and verified by the
SHA-256 of their decompressed content; failing that, the error names every place looked.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from neurodyn import rng
from neurodyn.checks import check_positive_int
from neurodyn.tasks._base import ClassificationData

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# SHA-256 of the decompressed IDX content (independent of how the file was compressed).
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DataNotFoundError(FileNotFoundError):
    """Raised when a data set is in none of the places looked and cannot be downloaded."""


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError) as error:
        raise ValueError(
            f"{path} is a truncated or corrupt gzip file ({error}); delete it"
        ) from error


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped or raw) into a NumPy array, checking its header and size."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number); is it the right file?")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path} is truncated inside its header; download it again")
    shape = tuple(int.from_bytes(data[4 + 4 * k : 8 + 4 * k], "big") for k in range(ndim))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(
            f"{path} is truncated or corrupt: its header announces shape {shape} "
            f"({expected} bytes) but it holds {len(data) - header} bytes; download it again"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "neurodyn"


def search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The places looked, in order (each also with a ``mnist/`` subfolder)."""
    roots = [Path(p) for p in (data_dir, os.environ.get("NEURODYN_DATA")) if p]
    roots.append(cache_dir())
    return [place for root in roots for place in (root / "mnist", root)]


def _locate(name: str, places: Sequence[Path]) -> Path | None:
    for place in places:
        for candidate in (place / f"{name}.gz", place / name):
            if candidate.is_file():
                return candidate
    return None


def _download(name: str, target_dir: Path, mirrors: Sequence[str]) -> Path | None:
    target_dir.mkdir(parents=True, exist_ok=True)
    for mirror in mirrors:
        try:
            with urllib.request.urlopen(f"{mirror}{name}.gz", timeout=60) as response:
                payload = response.read()
        except OSError:
            continue
        try:
            content = gzip.decompress(payload)
        except (EOFError, OSError):
            continue
        if hashlib.sha256(content).hexdigest() != SHA256[name]:
            continue
        target = target_dir / f"{name}.gz"
        partial = target.with_suffix(".gz.part")
        partial.write_bytes(payload)
        os.replace(partial, target)
        return target
    return None


def find_mnist(
    data_dir: str | os.PathLike | None = None, *, mirrors: Sequence[str] = MIRRORS
) -> dict[str, Path]:
    """Paths of the four MNIST files, downloading into the user cache when needed."""
    places = search_dirs(data_dir)
    found = {}
    for key, name in FILES.items():
        path = _locate(name, places) or _download(name, cache_dir() / "mnist", mirrors)
        if path is None:
            looked = "\n  ".join(str(p) for p in places)
            raise DataNotFoundError(
                f"MNIST file {name}(.gz) not found. Looked in:\n  {looked}\n"
                f"and could not download it from {', '.join(mirrors)}. Put the four MNIST "
                "IDX files in one of those folders, or pass data_dir= / set NEURODYN_DATA."
            )
        found[key] = path
    return found


def load_mnist(data_dir: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """Raw MNIST: uint8 images (P, 28, 28) and labels (P,) for train and test."""
    arrays = {key: read_idx(path) for key, path in find_mnist(data_dir).items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"MNIST {split} files disagree: images {images.shape}, labels {labels.shape}"
            )
    return arrays


def entangled_mnist(
    bits: int = 100,
    *,
    seed: int = 17,
    data_dir: str | os.PathLike | None = None,
    train_size: int | None = None,
    test_size: int | None = None,
) -> ClassificationData:
    """Entangled MNIST: x_tilde = sign(x R) with one R in R^{784 x bits}, R_ij ~ N(0, 1).

    Pixels are scaled to [0, 1] and flattened; the same projection (drawn from ``seed``)
    is used for train and test; sign(0) is taken as +1 (only an all-black image projects
    to exactly 0). ``train_size``/``test_size`` keep a random subset (the spec's smaller
    variants); by default all 60 000 / 10 000 images are used.
    """
    check_positive_int("bits", bits)
    raw = load_mnist(data_dir)
    gen = rng.generator(seed, "task")
    projection = torch.randn(28 * 28, bits, generator=gen, dtype=torch.float64)

    def project(images: np.ndarray, labels: np.ndarray, size: int | None, split: str):
        pixels = torch.from_numpy(images.reshape(images.shape[0], -1).astype(np.float64) / 255.0)
        z = pixels @ projection
        inputs = torch.where(z >= 0, 1.0, -1.0).float()
        targets = torch.from_numpy(labels.astype(np.int64))
        if size is not None:
            check_positive_int(f"{split}_size", size)
            if size > inputs.shape[0]:
                raise ValueError(
                    f"{split}_size={size} exceeds the {inputs.shape[0]} {split} images"
                )
            keep = torch.randperm(inputs.shape[0], generator=gen)[:size]
            inputs, targets = inputs[keep], targets[keep]
        return inputs, targets

    train_x, train_y = project(raw["train_images"], raw["train_labels"], train_size, "train")
    test_x, test_y = project(raw["test_images"], raw["test_labels"], test_size, "test")
    return ClassificationData("entangled-mnist", train_x, train_y, test_x, test_y, 10)
