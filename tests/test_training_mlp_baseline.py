"""The backprop MLP baseline: it learns a separable problem, is reproducible from its
seeds, trains each seed as if alone, and refuses bad arguments."""

import pytest
import torch

from neurodyn.tasks import ClassificationData
from neurodyn.training.mlp_baseline import train_mlp


def teacher_data(seed: int = 0, inputs: int = 30, classes: int = 4) -> ClassificationData:
    """+-1 inputs labelled by the argmax of a random linear teacher: linearly separable."""
    gen = torch.Generator().manual_seed(seed)
    teacher = torch.randn(inputs, classes, generator=gen)
    x = torch.randint(0, 2, (800, inputs), generator=gen).float() * 2 - 1
    labels = (x @ teacher).argmax(-1)
    return ClassificationData("teacher", x[:600], labels[:600], x[600:], labels[600:], classes)


SETTINGS = {"hidden_size": 64, "epochs": 30, "batch_size": 32}


def test_learns_a_separable_problem():
    result = train_mlp(teacher_data(), learning_rates=(3e-3,), seeds=(0, 1), **SETTINGS)
    assert result.test_accuracy.shape == (1, 2, 30) and result.train_accuracy.shape == (1, 2, 30)
    assert float(result.train_accuracy[..., -1].min()) > 0.97
    assert float(result.test_accuracy[..., -1].min()) > 0.85
    assert float(result.test_accuracy[..., 0].max()) < float(result.test_accuracy[..., -1].min())


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_reproducible_and_each_seed_trains_as_if_alone(activation):
    data, rates = teacher_data(1), (1e-3, 1e-2)
    options = SETTINGS | {"epochs": 4, "activation": activation}
    state = torch.get_rng_state()
    together = train_mlp(data, learning_rates=rates, seeds=(3, 5), **options)
    assert torch.equal(torch.get_rng_state(), state)  # no global random numbers drawn
    again = train_mlp(data, learning_rates=rates, seeds=(3, 5), **options)
    alone = train_mlp(data, learning_rates=rates[1:], seeds=(5,), **options)
    assert torch.equal(together.test_accuracy, again.test_accuracy)
    assert torch.equal(together.train_accuracy, again.train_accuracy)
    assert torch.equal(together.test_accuracy[1:, 1:], alone.test_accuracy)
    assert not torch.equal(together.test_accuracy[:, 0], together.test_accuracy[:, 1])


def test_bad_arguments_are_refused():
    data = teacher_data()
    good = {"learning_rates": (1e-3,), "seeds": (0,)} | SETTINGS
    for change, message in [
        ({"learning_rates": ()}, "learning_rates must list positive numbers"),
        ({"learning_rates": (-1e-3,)}, "learning rate must be a finite number >= 0.0"),
        ({"learning_rates": (0.0,)}, "learning_rates must list positive numbers"),
        ({"batch_size": 601}, "batch_size = 601 exceeds the 600 training examples"),
        ({"hidden_size": 0}, "hidden_size must be an integer >= 1"),
        ({"activation": "sigmoid"}, "activation must be one of"),
        ({"seeds": (-1,)}, "seeds"),
    ]:
        with pytest.raises(ValueError, match=message):
            train_mlp(data, **(good | change))
    with pytest.raises(TypeError, match="ClassificationData"):
        train_mlp(data.train_inputs, **good)
