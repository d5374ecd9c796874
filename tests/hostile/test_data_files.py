"""Hostile data files (issue 17, class 3): MNIST on disk is checked wherever it is found.

Every case asserts its exact outcome: a ValueError (or DataNotFoundError) whose one-line
message names the file or the argument, or, through the command line, exit code 2 with
one stderr line, nothing changed outside the run folder and no run folder left behind.
The fake files are small IDX files made trusted by patching the known digests and shapes;
the user cache is in tmp_path and the network is never reached.
"""

from __future__ import annotations

import gzip
import io
import json
import os

import numpy as np
import pytest

from neurodyn.tasks import mnist
from tests.hostile.conftest import one_line_error, snapshot
from tests.tasks.test_mnist import count_hashing, fake_mnist, idx_bytes, trust

IMAGES, LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """An empty user cache in tmp_path, no $NEURODYN_DATA, no mirrors, no network."""
    monkeypatch.delenv("NEURODYN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(mnist, "MIRRORS", ())

    def no_network(*args, **kwargs):
        raise AssertionError("a test reached for the network")

    monkeypatch.setattr(mnist.urllib.request, "urlopen", no_network)


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A trusted fake MNIST (12 train, 6 test images, gzipped) in tmp_path/data, whose
    verification is recorded although its files were just written."""
    trust(monkeypatch, fake_mnist(tmp_path / "data"))
    monkeypatch.setattr(mnist, "SETTLED_NS", -(10**12))
    return tmp_path / "data"


def after_a_tick(path) -> None:
    """Wait until the file system's clock has moved past ``path``'s change time."""
    probe, changed = path.parent.parent / "probe", path.stat().st_ctime_ns
    probe.touch()
    while probe.stat().st_ctime_ns <= changed:
        probe.touch()
    probe.unlink()


def refused(data_dir, *names, error=ValueError) -> str:
    """load_mnist(data_dir) raises ``error`` with one line naming every ``names``."""
    with pytest.raises(error) as raised:
        mnist.load_mnist(data_dir)
    message = str(raised.value)
    assert "\n" not in message, message
    for name in names:
        assert str(name) in message, (name, message)
    return message


def content(folder, name=IMAGES) -> bytes:
    return gzip.decompress((folder / f"{name}.gz").read_bytes())


def flip_a_pixel(raw: bytes) -> bytes:
    return raw[:-1] + bytes([raw[-1] ^ 0xFF])


def as_floats(raw: bytes) -> bytes:
    return raw[:2] + b"\x0d\x01" + (3 * 28 * 28).to_bytes(4, "big") + bytes(3 * 28 * 28 * 4)


def bomb(path) -> bytes:
    """The file's content and 10 MB of zeros, gzipped into 20 kB (decompressed no further
    than the known size and one byte)."""
    return gzip.compress(gzip.decompress(path.read_bytes()) + bytes(10**7))


# name of the file replaced, its new IDX content (from the old), what the message says
CONTENTS = {
    "images-32x32": (IMAGES, lambda raw: idx_bytes(np.zeros((12, 32, 32))), "(12, 32, 32)"),
    "one-image-short": (IMAGES, lambda raw: idx_bytes(np.zeros((11, 28, 28))), "(11, 28, 28)"),
    "labels-2d": (LABELS, lambda raw: idx_bytes(np.zeros((12, 1))), "shape (12, 1)"),
    "label-10": (LABELS, lambda raw: idx_bytes(np.full(12, 10)), "label 10, outside 0..9"),
    "images-as-labels": (IMAGES, lambda raw: idx_bytes(np.zeros(12)), "shape (12,)"),
    "float-pixels": (IMAGES, as_floats, "float32"),
    "truncated-payload": (IMAGES, lambda raw: raw[:-100], "truncated or corrupt"),
    "truncated-header": (IMAGES, lambda raw: raw[:9], "truncated inside its header"),
    "wrong-magic": (IMAGES, lambda raw: b"\x01" + raw[1:], "bad magic number"),
    "empty": (IMAGES, lambda raw: b"", "bad magic number"),
    "trailing-garbage": (IMAGES, lambda raw: raw + b"junk", "more bytes than its header"),
    "one-pixel-altered": (IMAGES, flip_a_pixel, "SHA-256"),
}


@pytest.mark.parametrize("case", CONTENTS)
def test_wrong_content_is_refused_naming_the_file(data, case):
    name, rewrite, says = CONTENTS[case]
    (data / f"{name}.gz").write_bytes(gzip.compress(rewrite(content(data, name))))
    refused(data, data / f"{name}.gz", says)


# how the file on disk is spoiled, what the message says
FILES = {
    "truncated-gzip": (lambda path: path.write_bytes(path.read_bytes()[:-30]), "corrupt gzip"),
    "garbage-after-gzip": (lambda path: path.write_bytes(path.read_bytes() + b"xx"), "gzip"),
    "gzip-bomb": (lambda path: path.write_bytes(bomb(path)), "more bytes than its header"),
    "huge-sparse-file": (lambda path: os.truncate(path, 2**30), "far more than"),
    "a-folder": (lambda path: (path.unlink(), path.mkdir()), "cannot read"),
    "dangling-link": (lambda path: (path.unlink(), path.symlink_to(path.parent / "gone")), "read"),
}


@pytest.mark.parametrize("case", FILES)
def test_broken_file_is_refused_naming_it(data, case):
    spoil, says = FILES[case]
    spoil(data / f"{IMAGES}.gz")
    refused(data, data / f"{IMAGES}.gz", says)


def test_an_altered_uncompressed_file_is_refused(data):
    raw = flip_a_pixel(content(data))
    (data / f"{IMAGES}.gz").unlink()
    (data / IMAGES).write_bytes(raw)
    assert "delete or replace it" in refused(data, data / IMAGES, "SHA-256")


def test_a_corrupt_file_is_reported_not_skipped_for_a_good_copy(data, tmp_path):
    fake_mnist(tmp_path / "cache" / "neurodyn" / "mnist")  # a good copy further down
    (data / f"{IMAGES}.gz").write_bytes(gzip.compress(flip_a_pixel(content(data))))
    refused(data, data / f"{IMAGES}.gz", "SHA-256")


@pytest.mark.parametrize("restore_time", [False, True])
def test_a_file_altered_after_its_verification_is_refused(data, restore_time):
    mnist.load_mnist(data)  # verified and recorded
    path = data / f"{IMAGES}.gz"
    before = path.stat()
    after_a_tick(path)
    path.write_bytes(gzip.compress(flip_a_pixel(content(data))))
    assert path.stat().st_size == before.st_size
    if restore_time:  # same size and mtime: the change time and digest still tell
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    refused(data, path, "SHA-256")


def test_a_file_changed_just_before_its_verification_is_verified_again(data, monkeypatch):
    monkeypatch.setattr(mnist, "SETTLED_NS", 2 * 10**9)  # the default: data was just written
    calls = count_hashing(monkeypatch)
    mnist.load_mnist(data)
    mnist.load_mnist(data)
    assert len(calls) == 8 and not mnist.cache_dir().exists()


def test_a_record_of_another_digest_does_not_count(data, monkeypatch):
    mnist.load_mnist(data)
    monkeypatch.setitem(mnist.SHA256, IMAGES, "0" * 64)  # the known digest changed
    refused(data, data / f"{IMAGES}.gz", "expected 0000000000000000")


@pytest.mark.parametrize("record", ["{not json", "[1, 2]", '{"x": 1}', "\udcff"])
def test_a_corrupt_verification_record_means_verifying_again(data, tmp_path, monkeypatch, record):
    path = tmp_path / "cache" / "neurodyn" / mnist.VERIFIED
    path.parent.mkdir(parents=True)
    path.write_bytes(record.encode(errors="surrogateescape"))
    calls = count_hashing(monkeypatch)
    assert mnist.load_mnist(data)["test_labels"].shape == (6,) and len(calls) == 4
    assert len(json.loads(path.read_text())) == 4


def test_an_unwritable_cache_means_verifying_every_time(data, tmp_path, monkeypatch):
    (tmp_path / "blocked").write_text("a file where the cache folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "blocked"))
    calls = count_hashing(monkeypatch)
    mnist.load_mnist(data)
    mnist.load_mnist(data)
    assert len(calls) == 8


def test_a_read_only_data_folder_is_verified_and_left_alone(data, tmp_path):
    before = snapshot(data)
    for path in (data, *data.iterdir()):
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        assert mnist.load_mnist(data)["train_images"].shape == (12, 28, 28)
    finally:
        data.chmod(0o755)
    assert snapshot(data) == before and (tmp_path / "cache" / "neurodyn" / mnist.VERIFIED).exists()


@pytest.mark.parametrize("kind", ["file", "missing"])
def test_a_data_dir_that_is_not_a_folder_is_refused(tmp_path, kind):
    target = tmp_path / "target"
    if kind == "file":
        target.write_text("not a folder")
    error = ValueError if kind == "file" else mnist.DataNotFoundError
    says = "is not a folder" if kind == "file" else "does not exist"
    refused(target, "data_dir", target, says, error=error)


@pytest.mark.parametrize("kind", ["file", "missing"])
def test_a_neurodyn_data_that_is_not_a_folder_is_refused(data, tmp_path, monkeypatch, kind):
    target = tmp_path / "target"
    if kind == "file":
        target.write_text("not a folder")
    monkeypatch.setenv("NEURODYN_DATA", str(target))
    error = ValueError if kind == "file" else mnist.DataNotFoundError
    refused(None, "NEURODYN_DATA", target, error=error)


def test_missing_data_is_one_line_naming_the_file_and_the_places(tmp_path):
    (tmp_path / "empty").mkdir()
    refused(tmp_path / "empty", IMAGES, tmp_path / "empty", error=mnist.DataNotFoundError)


def test_a_mirror_serving_altered_bytes_is_refused_and_nothing_written(tmp_path, monkeypatch):
    contents = fake_mnist(tmp_path / "mirror")
    trust(monkeypatch, contents)
    altered = gzip.compress(flip_a_pixel(contents[IMAGES]))
    monkeypatch.setattr(mnist.urllib.request, "urlopen", lambda *a, **k: io.BytesIO(altered))
    with pytest.raises(mnist.DataNotFoundError, match=IMAGES):
        mnist.load_mnist(mirrors=["https://mirror.invalid/"])
    assert not (tmp_path / "cache").exists()


# each sets up a case and returns the --data-dir to pass and what the error line names
def cli_bad_data_dir(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    return tmp_path / "file", ("data_dir", tmp_path / "file", "not a folder")


def cli_missing_data_dir(tmp_path, monkeypatch):
    return tmp_path / "typo", ("data_dir", tmp_path / "typo", "does not exist")


def cli_altered_file(tmp_path, monkeypatch):
    trust(monkeypatch, fake_mnist(tmp_path / "data", train=200, test=120))
    path = tmp_path / "data" / f"{IMAGES}.gz"
    path.write_bytes(gzip.compress(flip_a_pixel(content(path.parent))))
    return path.parent, (path, "SHA-256")


def cli_images_32x32(tmp_path, monkeypatch):
    trust(monkeypatch, fake_mnist(tmp_path / "data", train=200, test=120))
    path = tmp_path / "data" / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((120, 32, 32)))))
    return path.parent, (path, "(120, 32, 32)")


def cli_environment_file(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("NEURODYN_DATA", str(tmp_path / "file"))
    return "", ("NEURODYN_DATA", tmp_path / "file")


@pytest.mark.parametrize(
    "setup",
    [
        cli_bad_data_dir,
        cli_missing_data_dir,
        cli_altered_file,
        cli_images_32x32,
        cli_environment_file,
    ],
)
def test_the_command_line_refuses_bad_data_in_one_line(neurodyn, tmp_path, monkeypatch, setup):
    data_dir, names = setup(tmp_path, monkeypatch)
    before = snapshot(tmp_path)
    outcome = neurodyn(
        "run", "steering-emnist", "--data-dir", data_dir, "--train-size", "100",
        "--test-size", "100", "--hidden-size", "20", "--epochs", "1", "--no-progress",
        "--out", tmp_path / "run",
    )  # fmt: skip
    one_line_error(outcome, *map(str, names))
    assert not (tmp_path / "run").exists()
    assert snapshot(tmp_path) == before
