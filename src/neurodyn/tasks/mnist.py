"""MNIST-format IDX files and Entangled MNIST (spec ``steering.md`` section 4.1).

Files are looked up, in this order, in: the ``data_dir`` argument, ``$NEURODYN_DATA``,
the user cache (``$XDG_CACHE_HOME/neurodyn`` or ``~/.cache/neurodyn``); each place may
hold the files directly or in a ``mnist/`` folder, gzipped or raw. When none has them
they are downloaded into the user cache from the canonical mirrors (checked against
``SHA256`` before they are written, atomically); failing that, the error names every
place looked.

Data on disk is not trusted. ``data_dir`` and ``$NEURODYN_DATA``, when given, must be
existing folders: a missing one is an error rather than a silent fall-back to the cache,
which would hide a typo. The first copy found of each file is the one used, and it is
checked before use: its IDX header against the known shape (``SHAPES``: uint8, 28 x 28
images, 60 000 / 10 000 of them, 1-D labels), its labels against 0..9, its size against
the header, then the SHA-256 of its decompressed content against ``SHA256``. A file that
fails raises a one-line ``ValueError`` naming it; a later copy is never used instead.
A verified file is recorded in ``cache_dir() / "verified-mnist.json"`` under its resolved
path with its size, modification and change times (ns) and inode, next to the digest
verified, so that an unchanged file is not hashed again (unless it had changed within
``SETTLED_NS`` of its verification). The record lives in the user cache because the
data's folder may be read-only; a corrupt or unwritable record only means verifying again.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import os
import time
import urllib.request
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from neurodyn import rng
from neurodyn.checks import check_positive_int
from neurodyn.files import atomic_write
from neurodyn.tasks._base import ClassificationData
from neurodyn.tasks.binarised import Split, binarised_data, sign_projection, signs

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
# The shape of each file's uint8 array (labels are 0..9).
SHAPES = {
    "train-images-idx3-ubyte": (60000, 28, 28),
    "train-labels-idx1-ubyte": (60000,),
    "t10k-images-idx3-ubyte": (10000, 28, 28),
    "t10k-labels-idx1-ubyte": (10000,),
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
VERIFIED = "verified-mnist.json"
# A file changed less than this before its verification is not recorded (verified again
# next time): a change within one tick of the file system's clock leaves size and times
# as they were (git's "racily clean" rule).
SETTLED_NS = 2 * 10**9
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DataNotFoundError(FileNotFoundError):
    """Raised when a data set is in none of the places looked and cannot be downloaded."""


def _decompress(raw: bytes, path: Path, limit: int = -1) -> bytes:
    """``raw`` itself, or its gzip content (at most ``limit`` bytes when given)."""
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
            return stream.read(limit)
    except (EOFError, OSError, zlib.error) as error:
        raise ValueError(
            f"{path} is a truncated or corrupt gzip file ({error}); delete it"
        ) from error


def _parse_idx(data: bytes, path: Path, known: str | None = None) -> np.ndarray:
    """The array in the IDX bytes ``data`` (read from ``path``), checking its header and
    size, and for the ``known`` MNIST file of that name its type and shape (``SHAPES``)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number); is it the right file?")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path} is truncated inside its header; download it again")
    shape = tuple(int.from_bytes(data[4 + 4 * k : 8 + 4 * k], "big") for k in range(ndim))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    if known is not None and (dtype != np.uint8 or shape != SHAPES[known]):
        raise ValueError(
            f"{path} holds {dtype.name} of shape {shape} where {known} holds uint8 of shape "
            f"{SHAPES[known]}; is it the right file?"
        )
    expected = math.prod(shape) * dtype.itemsize
    if len(data) - header < expected:
        raise ValueError(
            f"{path} is truncated or corrupt: its header announces shape {shape} "
            f"({expected} bytes) but it holds {len(data) - header} bytes; download it again"
        )
    if len(data) - header > expected:
        raise ValueError(
            f"{path} holds more bytes than its header announces (shape {shape}, {expected} "
            "bytes); is it the right file?"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped or raw) into a NumPy array, checking its header and size."""
    path = Path(path)
    return _parse_idx(_decompress(path.read_bytes(), path), path)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "neurodyn"


def _root(value: str | os.PathLike | None, name: str) -> Path | None:
    """The folder ``value`` given as ``name`` (None when not given); it must exist."""
    if value is None or os.fspath(value) == "":
        return None
    root = Path(value).expanduser()
    if not root.exists():
        raise DataNotFoundError(
            f"{name} {root} does not exist; correct it, create it, or leave {name} unset"
        )
    if not root.is_dir():
        raise ValueError(f"{name} {root} is not a folder; give the folder holding the files")
    return root


def search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The places looked, in order (each also with a ``mnist/`` subfolder).

    ``data_dir`` and ``$NEURODYN_DATA``, when given, must be existing folders."""
    given = (_root(data_dir, "data_dir"), _root(os.environ.get("NEURODYN_DATA"), "NEURODYN_DATA"))
    roots = [*filter(None, given), cache_dir()]
    return [place for root in roots for place in (root / "mnist", root)]


def _locate(name: str, places: Sequence[Path]) -> Path | None:
    """The first ``name.gz`` or ``name`` in ``places``; anything there by that name counts
    (a folder or a dangling link is reported when read, not skipped)."""
    for place in places:
        for candidate in (place / f"{name}.gz", place / name):
            if os.path.lexists(candidate):
                return candidate
    return None


def _download(name: str, target_dir: Path, mirrors: Sequence[str]) -> Path | None:
    for mirror in mirrors:
        try:
            with urllib.request.urlopen(f"{mirror}{name}.gz", timeout=60) as response:
                payload = response.read()
            content = gzip.decompress(payload)
        except (EOFError, OSError, zlib.error):
            continue
        if hashlib.sha256(content).hexdigest() != SHA256[name]:
            continue
        target = target_dir / f"{name}.gz"
        try:
            atomic_write(target, payload)
        except OSError as error:
            raise ValueError(f"cannot save the download of {name} as {target}: {error}") from error
        return target
    return None


def _locate_all(data_dir: str | os.PathLike | None, mirrors: Sequence[str] | None) -> dict:
    mirrors = MIRRORS if mirrors is None else mirrors
    places = search_dirs(data_dir)
    found = {}
    for key, name in FILES.items():
        path = _locate(name, places) or _download(name, cache_dir() / "mnist", mirrors)
        if path is None:
            raise DataNotFoundError(
                f"MNIST file {name}(.gz) not found in {', '.join(map(str, places))} and not "
                f"downloaded from {', '.join(mirrors) or 'any mirror'}; put the four MNIST IDX "
                "files in one of those folders, or pass data_dir= / set NEURODYN_DATA"
            )
        found[key] = path
    return found


def _stamp(handle) -> list[int]:
    """What identifies this version of an open file: size, modification and change times
    (ns), inode (the change time also moves when a tampered file's mtime is put back)."""
    stat = os.fstat(handle.fileno())
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def _read_known(path: Path, name: str, verified: dict, fresh: dict) -> np.ndarray:
    """The array of the MNIST file ``name`` at ``path``, checked (see the module's doc);
    the digest is skipped when ``verified`` records this version, else added to ``fresh``."""
    shape, expected = SHAPES[name], SHA256[name]
    size = 4 + 4 * len(shape) + math.prod(shape)
    try:
        with path.open("rb") as handle:
            stamp = _stamp(handle)
            if stamp[0] > 2 * size + 4096:
                raise ValueError(
                    f"{path} holds {stamp[0]} bytes, far more than {name} ({size}); delete it"
                )
            raw = handle.read()
    except OSError as error:
        raise ValueError(f"cannot read {path} ({error.strerror or error}); replace it") from error
    content = _decompress(raw, path, size + 1)  # one byte more tells that there are more
    array = _parse_idx(content, path, name)
    if "labels" in name and array.size and int(array.max()) > 9:
        raise ValueError(f"{path} holds label {int(array.max())}, outside 0..9; replace it")
    key, record = str(path.resolve()), {"stamp": stamp, "sha256": expected}
    if verified.get(key) != record:
        digest = hashlib.sha256(content).hexdigest()
        if digest != expected:
            raise ValueError(
                f"{path} is not the published {name}: the SHA-256 of its content is "
                f"{digest[:16]}..., expected {expected[:16]}...; delete or replace it, or "
                "point data_dir / NEURODYN_DATA at a good copy"
            )
        if time.time_ns() - max(stamp[1:3]) > SETTLED_NS:
            fresh[key] = record
    return array


def _verified_record() -> dict:
    try:
        record = json.loads((cache_dir() / VERIFIED).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _remember(fresh: dict) -> None:
    """Add the ``fresh`` verifications to the record (dropping files that are gone)."""
    if not fresh:
        return
    record = {key: value for key, value in _verified_record().items() if os.path.exists(key)}
    try:
        atomic_write(cache_dir() / VERIFIED, json.dumps({**record, **fresh}, indent=1))
    except OSError:
        pass  # an unwritable cache only costs a verification next time


def _load_checked(paths: dict[str, Path]) -> dict[str, np.ndarray]:
    verified, fresh = _verified_record(), {}
    arrays = {key: _read_known(path, FILES[key], verified, fresh) for key, path in paths.items()}
    _remember(fresh)
    return arrays


def find_mnist(
    data_dir: str | os.PathLike | None = None, *, mirrors: Sequence[str] | None = None
) -> dict[str, Path]:
    """Paths of the four MNIST files, each verified, downloading into the user cache when
    needed (from ``mirrors``, by default ``MIRRORS``)."""
    paths = _locate_all(data_dir, mirrors)
    _load_checked(paths)
    return paths


def load_mnist(
    data_dir: str | os.PathLike | None = None, *, mirrors: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """Raw MNIST, verified: uint8 images (P, 28, 28) and labels (P,) for train and test."""
    arrays = _load_checked(_locate_all(data_dir, mirrors))
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"MNIST {split} files disagree: images {images.shape}, labels {labels.shape}"
            )
    return arrays


def pixel_permutation(seed: int) -> torch.Tensor:
    """A fixed bijection of the 784 pixels, drawn from ``seed`` (permuted MNIST)."""
    return torch.randperm(28 * 28, generator=rng.generator(seed, "permutation"))


def entangled_mnist(
    bits: int = 100,
    *,
    seed: int = 17,
    data_dir: str | os.PathLike | None = None,
    train_size: int | None = None,
    test_size: int | None = None,
    permutation: torch.Tensor | None = None,
) -> ClassificationData:
    """Entangled MNIST: x_tilde = sign(x R) with one R in R^{784 x bits}, R_ij ~ N(0, 1).

    Pixels are scaled to [0, 1] and flattened; the same projection (drawn from ``seed``)
    is used for train and test; sign(0) is taken as +1 (only an all-black image projects
    to exactly 0). ``train_size``/``test_size`` keep a random subset (the spec's smaller
    variants); by default all 60 000 / 10 000 images are used. ``permutation`` (784,), a
    bijection of the pixels (:func:`pixel_permutation`), reorders every image's pixels
    before the same projection: the same images and subsets, permuted.
    """
    check_positive_int("bits", bits)
    if permutation is not None and not torch.equal(
        torch.sort(torch.as_tensor(permutation)).values, torch.arange(28 * 28)
    ):
        raise ValueError("permutation must hold each of the 784 pixel indices once")
    train, test = _pixels(load_mnist(data_dir))
    if permutation is not None:
        train, test = ((pixels[:, permutation], labels) for pixels, labels in (train, test))
    gen = rng.generator(seed, "task")
    encode = sign_projection(28 * 28, bits, gen)
    return binarised_data(
        "entangled-mnist",
        train,
        test,
        encode,
        generator=gen,
        train_size=train_size,
        test_size=test_size,
    )


def mnist_pixels(
    *,
    seed: int = 17,
    data_dir: str | os.PathLike | None = None,
    train_size: int | None = None,
    test_size: int | None = None,
) -> ClassificationData:
    """Full-resolution MNIST as +-1 inputs: x_tilde_i = +1 where pixel_i / 255 >= 0.5, else
    -1, for all 784 pixels (no projection, no bottleneck). ``train_size``/``test_size``
    keep random subsets drawn from ``seed`` as in :func:`entangled_mnist` (default: all
    60 000 / 10 000 images)."""
    train, test = _pixels(load_mnist(data_dir))
    return binarised_data(
        "mnist-pixels",
        train,
        test,
        lambda pixels: signs(pixels - 0.5),
        generator=rng.generator(seed, "task"),
        train_size=train_size,
        test_size=test_size,
    )


def _pixels(raw: dict[str, np.ndarray]) -> tuple[Split, Split]:
    """The train and test splits of raw MNIST: pixels / 255 (P, 784) float64, labels int64."""
    return tuple(
        (
            torch.from_numpy(raw[f"{split}_images"].reshape(-1, 28 * 28) / 255.0),
            torch.from_numpy(raw[f"{split}_labels"].astype(np.int64)),
        )
        for split in ("train", "test")
    )
