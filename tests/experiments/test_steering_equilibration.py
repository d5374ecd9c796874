"""steering-equilibration: its data sets are what they say; the tiny run is reproducible."""

import dataclasses
import json
import os

import pytest
import torch

from neurodyn import cli
from neurodyn.config import to_dict
from neurodyn.experiments._steering_data import load_data
from neurodyn.experiments.steering_equilibration import datasets, tiny
from neurodyn.tasks import mnist


def test_held_out_class_is_absent_from_training_and_is_the_held_out_set():
    config = tiny()
    trained, sets = datasets(config)
    data = load_data(config)
    assert not bool((trained.train_labels == config.held_out_class).any())
    assert not bool((trained.test_labels == config.held_out_class).any())
    held = data.test_labels == config.held_out_class
    assert torch.equal(sets["held-out"], data.test_inputs[held])
    assert torch.equal(sets["in-distribution"], data.test_inputs[~held])
    assert sets["random"].shape == sets["in-distribution"].shape
    assert set(sets["random"].unique().tolist()) == {-1.0, 1.0}


def test_permuted_prototypes_are_the_test_patterns_under_one_fixed_bit_permutation():
    config = tiny()
    _, sets = datasets(config)
    inside, permuted = sets["in-distribution"], sets["permuted"]
    # the one bijection that maps every in-distribution pattern onto its permuted copy
    matches = (permuted.T[:, None, :] == inside.T[None, :, :]).all(-1)  # (new bit, old bit)
    assert bool(matches.any(1).all())
    assert torch.equal(datasets(config)[1]["permuted"], permuted)  # fixed by the seed


def test_pixel_permutation_is_a_fixed_bijection():
    first = mnist.pixel_permutation(0)
    assert torch.equal(torch.sort(first).values, torch.arange(784))
    assert torch.equal(mnist.pixel_permutation(0), first)
    assert not torch.equal(mnist.pixel_permutation(1), first)


@pytest.mark.skipif(not os.environ.get("NEURODYN_DATA"), reason="needs MNIST in $NEURODYN_DATA")
def test_permuted_mnist_projects_the_same_images_with_permuted_pixels():
    plain = mnist.entangled_mnist(20, seed=3, train_size=50, test_size=40)
    order = mnist.pixel_permutation(5)
    permuted = mnist.entangled_mnist(20, seed=3, train_size=50, test_size=40, permutation=order)
    assert torch.equal(plain.test_labels, permuted.test_labels)
    raw = mnist.load_mnist()
    keep = torch.randperm(10000, generator=_subset_generator(3, 60000))[:40]
    pixels = torch.from_numpy(raw["test_images"].reshape(10000, -1)[keep.numpy()] / 255.0)
    projection = torch.randn(784, 20, generator=mnist.rng.generator(3, "task"), dtype=torch.float64)
    expected = torch.where(pixels[:, order] @ projection >= 0, 1.0, -1.0)
    assert torch.equal(permuted.test_inputs, expected)
    with pytest.raises(ValueError, match="784 pixel indices"):
        mnist.entangled_mnist(20, permutation=torch.zeros(784, dtype=torch.long))


def _subset_generator(seed: int, train: int) -> torch.Generator:
    """The task stream of entangled_mnist after its projection and its train subset."""
    gen = mnist.rng.generator(seed, "task")
    torch.randn(784, 20, generator=gen, dtype=torch.float64)
    torch.randperm(train, generator=gen)
    return gen


def test_tiny_run_is_reproducible_from_the_seed(tmp_path, capsys):
    settings = tmp_path / "tiny.json"
    settings.write_text(json.dumps(to_dict(dataclasses.replace(tiny(), epochs=4))))
    results = []
    for name in ("first", "second"):
        out = tmp_path / name
        args = ["run", "steering-equilibration", "--out", str(out), "--config", str(settings)]
        assert cli.main([*args, "--no-progress"]) == 0, capsys.readouterr().err
        results.append(json.loads((out / "result.json").read_text()))
    first, second = results
    assert first == second
    assert {"auroc.random.sweeps", "auroc.held-out.max_logit"} <= set(first["mean"])
    member = first["members"][0]
    training = first["training"]["seed0"]["final_test_accuracy"]
    assert member["readout_accuracy"] == pytest.approx(training, abs=1e-6)
    capsys.readouterr()
