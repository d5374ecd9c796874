"""The data sets of the steering experiments: their config fields refuse what no data set
holds, and load_data gives each data set as its loader does."""

import dataclasses

import pytest
import torch

from neurodyn.experiments._steering_data import TINY_DATA, EntangledMNISTFields, load_data


def test_sizes_are_bounded_per_data_set():
    EntangledMNISTFields(dataset="mnist1d", train_size=4000, test_size=1000)
    with pytest.raises(ValueError, match=r"'train_size' must be <= 4000 .* for mnist1d, got 4001"):
        EntangledMNISTFields(dataset="mnist1d", train_size=4001, test_size=1000)
    with pytest.raises(ValueError, match=r"'test_size' must be <= 1000 .* for mnist1d, got 10000"):
        EntangledMNISTFields(dataset="mnist1d", train_size=4000)
    for dataset in ("entangled-mnist", "mnist-pixels"):
        with pytest.raises(ValueError, match=rf"'train_size' must be <= 60000 .* for {dataset}"):
            EntangledMNISTFields(dataset=dataset, input_bits=784, train_size=60001)
    EntangledMNISTFields(dataset="prototypes", train_size=100000)  # drawn, as many as asked


def test_mnist_pixels_must_read_784_bits():
    EntangledMNISTFields(dataset="mnist-pixels", input_bits=784)
    with pytest.raises(ValueError, match="'input_bits' must be 784 for mnist-pixels.*set input"):
        EntangledMNISTFields(dataset="mnist-pixels")


def test_mnist1d_through_load_data():
    pytest.importorskip("mnist1d", reason="needs pip install 'neurodyn[mnist1d]'")
    from neurodyn.tasks.mnist1d import mnist1d

    fields = EntangledMNISTFields(
        dataset="mnist1d", input_bits=50, train_size=4000, test_size=300, data_seed=4
    )
    data = load_data(fields)
    expected = mnist1d(50, seed=4, test_size=300)  # 4000: all of them, no subset drawn
    assert torch.equal(data.train_inputs, expected.train_inputs)
    assert torch.equal(data.test_inputs, expected.test_inputs)
    assert data.train_inputs.shape == (4000, 50) and data.test_inputs.shape == (300, 50)
    permuted = load_data(fields, permutation_seed=1)
    order = (permuted.test_inputs.T[:, None] == data.test_inputs.T[None]).all(-1)
    assert bool(order.any(1).all()) and not torch.equal(permuted.test_inputs, data.test_inputs)
    assert torch.equal(permuted.test_labels, data.test_labels)


def test_prototypes_are_unchanged():
    fields = EntangledMNISTFields(**TINY_DATA)
    data = load_data(fields)
    assert data.train_inputs.shape == (100, 20)
    assert torch.equal(load_data(dataclasses.replace(fields)).test_inputs, data.test_inputs)
