"""MNIST-1D through the sign-projection front end: the package's data set, projected."""

import random
import sys

import numpy as np
import pytest
import torch

from neurodyn import rng

pytest.importorskip("mnist1d", reason="needs pip install 'neurodyn[mnist1d]'")
from neurodyn.tasks import mnist1d  # noqa: E402


def test_sequences_are_the_packages_default_split():
    (train_x, train_y), (test_x, test_y) = mnist1d.mnist1d_sequences()
    assert train_x.shape == (4000, 40) and test_x.shape == (1000, 40)
    assert train_x.dtype == torch.float64 and train_y.dtype == torch.int64
    assert set(train_y.unique().tolist()) == set(range(10)) == set(test_y.unique().tolist())
    # make_dataset centres and scales the whole set (train and test together)
    pooled = torch.cat([train_x, test_x])
    assert abs(float(pooled.mean())) < 1e-9 and abs(float(pooled.std(correction=0)) - 1) < 1e-9


def test_inputs_are_the_sign_of_one_seeded_projection():
    data = mnist1d.mnist1d(32, seed=5)
    (train_x, train_y), (test_x, test_y) = mnist1d.mnist1d_sequences()
    projection = torch.randn(40, 32, generator=rng.generator(5, "task"), dtype=torch.float64)
    assert torch.equal(data.train_inputs, torch.where(train_x @ projection >= 0, 1.0, -1.0))
    assert torch.equal(data.test_inputs, torch.where(test_x @ projection >= 0, 1.0, -1.0))
    assert torch.equal(data.train_labels, train_y) and torch.equal(data.test_labels, test_y)
    assert data.train_inputs.dtype == torch.float32 and data.num_classes == 10
    assert set(data.train_inputs.unique().tolist()) == {-1.0, 1.0}
    assert not torch.equal(mnist1d.mnist1d(32, seed=6).train_inputs, data.train_inputs)


def test_subsets_are_random_reproducible_and_bounded():
    data = mnist1d.mnist1d(100, seed=3, train_size=300, test_size=120)
    again = mnist1d.mnist1d(100, seed=3, train_size=300, test_size=120)
    assert data.train_inputs.shape == (300, 100) and data.test_inputs.shape == (120, 100)
    assert torch.equal(data.train_inputs, again.train_inputs)
    assert torch.equal(data.test_labels, again.test_labels)
    whole = mnist1d.mnist1d(100, seed=3)
    # the subset rows are rows of the whole split, not the first ones
    rows = (data.train_inputs[:, None] == whole.train_inputs[None]).all(-1)
    assert bool(rows.any(1).all()) and not torch.equal(data.train_inputs, whole.train_inputs[:300])
    with pytest.raises(ValueError, match="train_size=4001 exceeds the 4000 train examples"):
        mnist1d.mnist1d(100, train_size=4001)
    with pytest.raises(ValueError, match="bits must be an integer >= 1"):
        mnist1d.mnist1d(0)


def test_generating_the_data_leaves_the_global_random_states_alone():
    mnist1d._generated.cache_clear()
    random.seed(11)
    np.random.seed(11)
    expected = (random.random(), np.random.rand())
    random.seed(11)
    np.random.seed(11)
    mnist1d.mnist1d_sequences()  # make_dataset seeds both with 42 and draws from them
    assert (random.random(), np.random.rand()) == expected


def test_a_missing_package_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mnist1d", None)
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    mnist1d._generated.cache_clear()
    try:
        with pytest.raises(ImportError, match=r"pip install 'neurodyn\[mnist1d\]'"):
            mnist1d.mnist1d()
    finally:
        mnist1d._generated.cache_clear()
