"""Full float32 precision and deterministic algorithms: set inside, the caller's settings
restored afterwards (also after an exception), applied by the library's entry points and
by every experiment run, and recorded in the run folder's marker."""

from __future__ import annotations

import inspect
import json
import os

import pytest
import torch

from neurodyn import analysis, cli, precision, training
from neurodyn.analysis.attractors import find_attractors
from neurodyn.networks.attractor import FreeEnergyAttractorNetwork
from neurodyn.rules.free_energy import FreeEnergyRule
from tests.hostile.conftest import neurodyn  # noqa: F401  (a fixture)


def legacy() -> tuple:
    return (
        torch.get_float32_matmul_precision(),
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
    )


@pytest.fixture
def caller():
    """A caller on TF32 ("medium": bfloat16 oneDNN matmuls on the CPU); put back after."""
    before = legacy()
    torch.set_float32_matmul_precision("medium")
    torch.backends.cudnn.allow_tf32 = True
    yield ("medium", True, True)
    torch.set_float32_matmul_precision(before[0])
    torch.backends.cudnn.allow_tf32 = before[2]


@pytest.mark.parametrize("setting", ["medium", "high"])
def test_highest_inside_and_the_callers_setting_after(caller, setting):
    torch.set_float32_matmul_precision(setting)
    with precision.full_precision():
        assert legacy() == ("highest", False, False)
    assert legacy() == (setting, True, True)


def test_restored_after_an_exception_and_as_a_decorator(caller):
    @precision.full_precision()
    def inside():
        assert legacy() == ("highest", False, False)
        raise KeyError("boom")

    with pytest.raises(KeyError):
        inside()
    assert legacy() == caller
    with precision.full_precision(), precision.full_precision():  # nested
        assert precision.matmul_precision() == "highest"
    assert legacy() == caller


@pytest.mark.skipif(not hasattr(torch.backends, "fp32_precision"), reason="PyTorch < 2.9")
def test_the_newer_fp32_precision_settings_are_restored_too():
    matmul = torch.backends.cuda.matmul
    before = matmul.fp32_precision
    matmul.fp32_precision = "tf32"  # the older getters now refuse to answer
    try:
        assert precision.matmul_precision() == "mixed"
        with precision.full_precision():
            assert matmul.fp32_precision == "ieee"
            assert torch.backends.mkldnn.matmul.fp32_precision == "ieee"
        assert matmul.fp32_precision == "tf32"
    finally:
        matmul.fp32_precision = before


ENTRY_POINTS = [
    training.train,
    training.train_epoch,
    training.evaluate,
    training.train_rate,
    training.learn_patterns,
    training.train_until_stored,
    analysis.lyapunov_spectrum,
    analysis.find_fixed_points,
    find_attractors,
]


@pytest.mark.parametrize("function", ENTRY_POINTS, ids=lambda f: f.__name__)
def test_the_entry_points_run_in_full_precision(function):
    assert inspect.unwrap(function) is not function  # wrapped by full_precision()


def test_a_training_loop_computes_in_full_precision_and_restores(caller):
    seen = []
    network = FreeEnergyAttractorNetwork(4, ensemble_size=1)
    training.learn_patterns(
        network,
        FreeEnergyRule(0.01),
        network.init(),
        torch.tensor([[1.0, -1.0, 1.0, -1.0]]),
        evidence=1.0,
        epochs=2,
        steps_per_epoch=1,
        seeds=[0],
        on_block=lambda *_: seen.append(legacy()),
    )
    assert seen and set(seen) == {("highest", False, False)}
    assert legacy() == caller


@pytest.fixture
def no_workspace(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)


def test_deterministic_algorithms_inside_and_restored(no_workspace):
    assert not torch.are_deterministic_algorithms_enabled()
    with pytest.raises(KeyError), cli.deterministic():
        assert torch.are_deterministic_algorithms_enabled()
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
        raise KeyError("boom")
    assert not torch.are_deterministic_algorithms_enabled()
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ


def test_a_workspace_setting_of_the_user_is_kept(monkeypatch):
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")
    with cli.deterministic():
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"


TINY = ["--dataset", "prototypes", "--input-bits", "20", "--train-size", "40"]
TINY += ["--test-size", "20", "--hidden-size", "10", "--epochs", "1", "--no-progress"]


def marker(folder) -> dict:
    return json.loads((folder / "neurodyn-run.json").read_text())


@pytest.mark.parametrize("flag", [[], ["--deterministic"]])
def test_a_run_records_its_precision_and_determinism(
    neurodyn,  # noqa: F811
    tmp_path,
    caller,
    flag,
    no_workspace,
):
    out = tmp_path / "run"
    assert neurodyn("run", "steering-emnist", "--out", out, *TINY, *flag).code == 0
    recorded = marker(out)
    assert recorded["float32_matmul_precision"] == "highest"
    assert recorded["deterministic"] is bool(flag)
    assert legacy() == caller and not torch.are_deterministic_algorithms_enabled()
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ


def test_a_resume_keeps_the_weakest_settings(neurodyn, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    assert neurodyn("run", "steering-emnist", "--out", out, *TINY, "--deterministic").code == 0
    extended = [*TINY[:-3], "--epochs", "2", "--no-progress"]
    assert neurodyn("run", "steering-emnist", "--out", out, *extended, "--resume").code == 0
    assert marker(out)["deterministic"] is False


def test_a_sweep_passes_deterministic_to_its_chunks(neurodyn, tmp_path):  # noqa: F811
    out = tmp_path / "sweep"
    flags = ["--tasks", "romo", "--rules", "bptt", "--learning-rates", "3e-3", "--hidden-size"]
    flags += ["8", "--iterations", "10", "--log-every", "10", "--test-trials", "10"]
    flags += ["--chunk-size", "1", "--out", out, "--deterministic", "--no-progress"]
    done = neurodyn("sweep", "rate-gain", "--grid", "gain=0.5,1", "--seeds", "0", *flags)
    assert done.code == 0, done.err
    chunks = sorted((out / "chunks").iterdir())
    assert len(chunks) == 2 and all(marker(chunk)["deterministic"] is True for chunk in chunks)
    assert not torch.are_deterministic_algorithms_enabled()
