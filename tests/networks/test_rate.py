"""Leaky rate RNN: initialisation, dynamics, Jacobian against autograd, input checks."""

import math

import pytest
import torch
from torch.autograd.functional import jacobian

from neurodyn.networks.rate import LeakyRateNetwork


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_jacobian_matches_autograd(activation):
    net = LeakyRateNetwork(
        3,
        6,
        2,
        ensemble_size=2,
        gain=[0.5, 1.5],
        alpha=0.3,
        activation=activation,
        dtype=torch.float64,
    )
    weights = net.init([0, 1])
    h = torch.randn(2, 3, 6, dtype=torch.float64)
    x = torch.randn(2, 3, 3, dtype=torch.float64)
    analytic = net.jacobian(weights, h)
    for e in range(2):
        for b in range(3):

            def one(hh, e=e, b=b):
                state = h.clone()
                state[e, b] = hh
                return net.step(weights, state, x)[e, b]

            torch.testing.assert_close(jacobian(one, h[e, b]), analytic[e, b])


def test_initial_gain_and_unrolled_dynamics():
    net = LeakyRateNetwork(2, 300, 1, ensemble_size=2, gain=[0.2, 2.0], alpha=0.5)
    weights = net.init(3)
    stds = weights.recurrent.std(dim=(1, 2)) * math.sqrt(300)
    assert torch.allclose(stds, torch.tensor([0.2, 2.0]), rtol=0.02)
    assert float(weights.inputs.abs().max()) <= 1 / math.sqrt(2)
    x = torch.randn(4, 7, 2)
    outputs, hidden = net.run(weights, x)
    assert outputs.shape == (2, 4, 7, 1) and hidden.shape == (2, 4, 7, 300)
    h = torch.zeros(2, 4, 300)
    for t in range(7):
        h = 0.5 * h + 0.5 * (torch.relu(h) @ weights.recurrent + x[None, :, t] @ weights.inputs)
    torch.testing.assert_close(hidden[:, :, -1], h)


def test_detached_recurrence_keeps_the_leak_gradient():
    net = LeakyRateNetwork(1, 4, 1, alpha=0.5, dtype=torch.float64)
    weights = net.init(0)
    weights.recurrent.requires_grad_(True)
    x = torch.ones(1, 3, 1, dtype=torch.float64)
    full, _ = net.run(weights, x)
    detached, _ = net.run(weights, x, detach_recurrent=True)
    torch.testing.assert_close(full, detached)  # same forward pass
    g_full = torch.autograd.grad(full.sum(), weights.recurrent)[0]
    g_det = torch.autograd.grad(detached.sum(), weights.recurrent)[0]
    assert not torch.allclose(g_full, g_det)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"alpha": 1.0}, "alpha"),
        ({"activation": "sigmoid"}, "activation"),
        ({"hidden_size": 0}, "hidden_size"),
        ({"gain": -1.0}, ">= 0"),
    ],
)
def test_bad_configurations_are_rejected(kwargs, message):
    options = {"input_size": 1, "hidden_size": 4, "output_size": 1}
    options.update(kwargs)
    with pytest.raises(ValueError, match=message):
        LeakyRateNetwork(**options)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_jacobian_product_equals_the_jacobian_times_the_vectors(activation):
    net = LeakyRateNetwork(
        1, 6, 1, ensemble_size=2, gain=[0.5, 1.5], activation=activation, dtype=torch.float64
    )
    weights = net.init([0, 1])
    h, vectors = (
        torch.randn(2, 3, 6, dtype=torch.float64),
        torch.randn(2, 3, 6, 4, dtype=torch.float64),
    )
    expected = net.jacobian(weights, h) @ vectors
    torch.testing.assert_close(net.jacobian_product(weights, h, vectors), expected)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("dale", [False, True])
@pytest.mark.parametrize("inputs", [1, 2])  # one channel: input_drive's broadcast product
def test_speed_gradient_writes_the_residual_and_the_gradient_of_q(activation, dale, inputs):
    """F(h) - h from the step, and (J - I)^T (F(h) - h) from the Jacobian and from
    reverse-mode autograd of q = |F(h) - h|^2 / 2; the writer fills the given tensors and
    is reusable."""
    net = LeakyRateNetwork(
        inputs,
        6,
        1,
        ensemble_size=2,
        alpha=0.3,
        activation=activation,
        dale=dale,
        dtype=torch.float64,
    )
    weights = net.init([0, 1])
    x = torch.randn(2, 3, inputs, dtype=torch.float64)
    write = net.speed_gradient(weights, x)
    for _ in range(2):
        h = torch.randn(2, 3, 6, dtype=torch.float64)
        residual, gradient = torch.full_like(h, float("nan")), torch.full_like(h, float("nan"))
        write(h, residual, gradient)
        expected = net.advance(weights, h, x) - h
        torch.testing.assert_close(residual, expected)
        jump = net.jacobian(weights, h) - torch.eye(6, dtype=torch.float64)
        torch.testing.assert_close(gradient, (expected.unsqueeze(-2) @ jump).squeeze(-2))
        state = h.clone().requires_grad_(True)
        speed = 0.5 * (net.advance(weights, state, x) - state).square().sum()
        torch.testing.assert_close(gradient, torch.autograd.grad(speed, state)[0])
