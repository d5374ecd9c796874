"""IDX loader, data lookup and download, Entangled MNIST, prototypes."""

import gzip
import hashlib
import json
import os
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from neurodyn import rng
from neurodyn.tasks import mnist
from neurodyn.tasks.patterns import prototype_patterns

REAL_DATA = os.environ.get("NEURODYN_DATA")


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    return header + array.astype(np.uint8).tobytes()


def fake_mnist(folder: Path, train=12, test=6, compress=True, seed=0) -> dict[str, bytes]:
    draws = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": draws.integers(0, 256, (train, 28, 28)),
        "train-labels-idx1-ubyte": draws.integers(0, 10, train),
        "t10k-images-idx3-ubyte": draws.integers(0, 256, (test, 28, 28)),
        "t10k-labels-idx1-ubyte": draws.integers(0, 10, test),
    }
    folder.mkdir(parents=True, exist_ok=True)
    contents = {}
    for name, array in arrays.items():
        raw = idx_bytes(array)
        contents[name] = raw
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)
    return contents


def trust(monkeypatch, contents: dict[str, bytes]) -> None:
    """Make the fake files the known ones: their digests and shapes in the module's tables."""
    monkeypatch.setattr(
        mnist, "SHA256", {name: hashlib.sha256(raw).hexdigest() for name, raw in contents.items()}
    )
    shapes = {
        name: tuple(int.from_bytes(raw[4 + 4 * k : 8 + 4 * k], "big") for k in range(raw[3]))
        for name, raw in contents.items()
    }
    monkeypatch.setattr(mnist, "SHAPES", shapes)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No NEURODYN_DATA, an empty user cache, and no network."""
    monkeypatch.delenv("NEURODYN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trip(tmp_path, compress):
    fake_mnist(tmp_path, compress=compress)
    suffix = ".gz" if compress else ""
    images = mnist.read_idx(tmp_path / f"train-images-idx3-ubyte{suffix}")
    assert images.shape == (12, 28, 28) and images.dtype == np.uint8


def test_truncated_and_corrupt_files_give_clear_errors(tmp_path):
    contents = fake_mnist(tmp_path, compress=False)
    raw = contents["train-images-idx3-ubyte"]
    (tmp_path / "short").write_bytes(raw[:-100])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        mnist.read_idx(tmp_path / "short")
    (tmp_path / "short.gz").write_bytes(gzip.compress(raw)[:-50])
    with pytest.raises(ValueError, match="truncated or corrupt gzip"):
        mnist.read_idx(tmp_path / "short.gz")
    (tmp_path / "notidx").write_bytes(b"hello world, not an idx file")
    with pytest.raises(ValueError, match="not an IDX file"):
        mnist.read_idx(tmp_path / "notidx")
    (tmp_path / "header").write_bytes(raw[:9])
    with pytest.raises(ValueError, match="header"):
        mnist.read_idx(tmp_path / "header")


def test_lookup_order_argument_then_environment_then_cache(isolated, monkeypatch):
    trust(monkeypatch, fake_mnist(isolated / "arg"))
    fake_mnist(isolated / "env" / "mnist", compress=False)
    fake_mnist(isolated / "cache" / "neurodyn" / "mnist")
    monkeypatch.setenv("NEURODYN_DATA", str(isolated / "env"))
    assert mnist.find_mnist(isolated / "arg")["train_images"].parent == isolated / "arg"
    assert mnist.find_mnist()["train_images"].parent == isolated / "env" / "mnist"
    monkeypatch.delenv("NEURODYN_DATA")
    assert mnist.find_mnist()["train_images"].parent == isolated / "cache" / "neurodyn" / "mnist"


def test_missing_data_names_every_place_looked(isolated):
    (isolated / "empty").mkdir()
    with pytest.raises(mnist.DataNotFoundError) as error:
        mnist.find_mnist(isolated / "empty", mirrors=[(isolated / "mirror").as_uri() + "/"])
    message = str(error.value)
    assert str(isolated / "empty") in message and str(isolated / "cache") in message
    assert "NEURODYN_DATA" in message and "\n" not in message
    # a data_dir that does not exist is an error of its own, not a fall-back to the cache
    with pytest.raises(mnist.DataNotFoundError, match="data_dir .*nowhere does not exist"):
        mnist.find_mnist(isolated / "nowhere", mirrors=())


def test_download_checks_sha256(isolated, monkeypatch):
    mirror = isolated / "mirror"
    trust(monkeypatch, fake_mnist(mirror))
    found = mnist.find_mnist(mirrors=[mirror.as_uri() + "/"])
    assert found["test_labels"].parent == isolated / "cache" / "neurodyn" / "mnist"
    # a mirror serving different bytes is rejected
    cache = isolated / "cache" / "neurodyn" / "mnist"
    for file in cache.iterdir():
        file.unlink()
    monkeypatch.setattr(mnist, "SHA256", {name: "0" * 64 for name in mnist.FILES.values()})
    with pytest.raises(mnist.DataNotFoundError):
        mnist.find_mnist(mirrors=[mirror.as_uri() + "/"])
    assert not any(cache.iterdir())


def test_entangled_mnist_is_a_shared_seeded_sign_projection(isolated, monkeypatch):
    contents = fake_mnist(isolated / "data")
    trust(monkeypatch, contents)
    data = mnist.entangled_mnist(16, seed=5, data_dir=isolated / "data")
    pixels = np.frombuffer(contents["t10k-images-idx3-ubyte"][16:], np.uint8).reshape(6, 784)
    projection = torch.randn(784, 16, generator=rng.generator(5, "task"), dtype=torch.float64)
    expected = torch.where(torch.from_numpy(pixels / 255.0) @ projection >= 0, 1.0, -1.0)
    assert torch.equal(data.test_inputs, expected.float())
    assert data.train_inputs.shape == (12, 16) and set(data.train_inputs.unique().tolist()) == {
        -1,
        1,
    }
    again = mnist.entangled_mnist(16, seed=5, data_dir=isolated / "data")
    assert torch.equal(again.train_inputs, data.train_inputs)
    subset = mnist.entangled_mnist(16, seed=5, data_dir=isolated / "data", train_size=5)
    assert subset.train_inputs.shape == (5, 16)
    with pytest.raises(ValueError, match="exceeds"):
        mnist.entangled_mnist(16, data_dir=isolated / "data", train_size=50)


def count_hashing(monkeypatch) -> list[int]:
    """Count the SHA-256 digests that the mnist module computes from now on."""
    calls = []

    def sha256(data=b""):
        calls.append(len(data))
        return hashlib.sha256(data)

    monkeypatch.setattr(mnist, "hashlib", types.SimpleNamespace(sha256=sha256))
    return calls


def test_verification_is_recorded_so_a_second_load_hashes_nothing(isolated, monkeypatch):
    trust(monkeypatch, fake_mnist(isolated / "data"))
    monkeypatch.setattr(mnist, "SETTLED_NS", -(10**12))  # the files just written count as old
    calls = count_hashing(monkeypatch)
    first = mnist.load_mnist(isolated / "data", mirrors=())
    assert len(calls) == 4
    record = json.loads((isolated / "cache" / "neurodyn" / mnist.VERIFIED).read_text())
    assert sorted(record) == sorted(str(p.resolve()) for p in (isolated / "data").iterdir())
    again = mnist.load_mnist(isolated / "data", mirrors=())
    assert len(calls) == 4 and all(np.array_equal(first[k], again[k]) for k in first)


@pytest.mark.skipif(not REAL_DATA, reason="needs the real MNIST files (NEURODYN_DATA)")
def test_real_mnist_files_verify_once(isolated, monkeypatch):
    monkeypatch.setenv("NEURODYN_DATA", REAL_DATA)  # isolated removed it
    calls = count_hashing(monkeypatch)
    assert mnist.load_mnist(mirrors=())["train_images"].shape == (60000, 28, 28)
    assert len(calls) == 4
    paths = mnist.find_mnist(mirrors=())
    assert len(calls) == 4 and all(isolated not in p.parents for p in paths.values())


def test_prototype_patterns_flip_the_requested_fraction():
    data = prototype_patterns(input_size=200, train_per_class=50, flip_probability=0.2, seed=1)
    assert data.train_inputs.shape == (500, 200)
    same_class = data.train_inputs[data.train_labels == 0]
    agreement = (same_class[:, None] == same_class[None]).float().mean()
    assert abs(float(agreement) - (0.8**2 + 0.2**2)) < 0.02
    with pytest.raises(ValueError, match="flip_probability"):
        prototype_patterns(flip_probability=0.7)


def test_mnist_pixels_threshold_every_pixel_at_one_half(isolated, monkeypatch):
    contents = fake_mnist(isolated / "data")
    trust(monkeypatch, contents)
    data = mnist.mnist_pixels(seed=5, data_dir=isolated / "data")
    pixels = np.frombuffer(contents["t10k-images-idx3-ubyte"][16:], np.uint8).reshape(6, 784)
    assert torch.equal(
        data.test_inputs, torch.from_numpy(np.where(pixels >= 128, 1.0, -1.0)).float()
    )
    assert data.train_inputs.shape == (12, 784) and data.name == "mnist-pixels"
    subset = mnist.mnist_pixels(seed=5, data_dir=isolated / "data", train_size=5, test_size=3)
    again = mnist.mnist_pixels(seed=5, data_dir=isolated / "data", train_size=5, test_size=3)
    assert subset.train_inputs.shape == (5, 784) and subset.test_inputs.shape == (3, 784)
    assert torch.equal(subset.train_inputs, again.train_inputs)
    # the subset is drawn as entangled_mnist draws it: after nothing (no projection)
    keep = torch.randperm(12, generator=rng.generator(5, "task"))[:5]
    assert torch.equal(subset.train_inputs, data.train_inputs[keep])
    with pytest.raises(ValueError, match="test_size=7 exceeds the 6 test examples"):
        mnist.mnist_pixels(data_dir=isolated / "data", test_size=7)
