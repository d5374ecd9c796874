"""Gradient flossing: gradients against finite differences and the local outer-product
rule, ensembles equal single runs, and flossing moves a small-gain network's lambda_1 to 0."""

import pytest
import torch

from neurodyn import rng
from neurodyn.analysis.lyapunov import StepDynamics, lyapunov_spectrum
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.rules.flossing import GradientFlossing, flossing_gradients, flossing_loss
from neurodyn.tasks.romo import Romo
from neurodyn.training.rate import train_rate

F64 = torch.float64


def small_network(activation: str, ensemble_size: int = 1, dtype=F64) -> LeakyRateNetwork:
    return LeakyRateNetwork(
        2,
        6,
        1,
        ensemble_size=ensemble_size,
        gain=1.3,
        alpha=0.4,
        activation=activation,
        dtype=dtype,
    )


def inputs(seed: int = 0) -> torch.Tensor:
    return torch.randn(1, 3, 40, 2, generator=torch.Generator().manual_seed(seed), dtype=F64)


def directional_difference(loss, weights: RateWeights, direction: RateWeights, eps=1e-6):
    def shifted(sign):
        return RateWeights(
            *(
                w + sign * eps * d
                for w, d in zip(weights.parameters(), direction.parameters(), strict=True)
            )
        )

    return (loss(shifted(1)) - loss(shifted(-1))) / (2 * eps)


def inner(a: RateWeights, b: RateWeights) -> float:
    return sum(float((x * y).sum()) for x, y in zip(a.parameters(), b.parameters(), strict=True))


def random_direction(net: LeakyRateNetwork) -> RateWeights:
    return RateWeights(*(torch.randn_like(p) for p in net.init(9).parameters()))


OPTIONS = {"exponents": 2, "warmup": 10}


def test_full_form_gradient_equals_finite_differences_of_the_loss():
    net = small_network("tanh")
    weights, x, direction = net.init(0), inputs(), random_direction(net)
    grads, _ = flossing_gradients(net, weights, x, form="full", **OPTIONS)
    numeric = directional_difference(
        lambda w: float(flossing_loss(net, w, x, **OPTIONS)[0].sum()), weights, direction
    )
    assert inner(grads, direction) == pytest.approx(numeric, rel=1e-6)
    assert float(grads.inputs.abs().max()) > 0  # through f'(h) of the trajectory


def test_local_form_gradient_treats_the_trajectory_as_data():
    net = small_network("tanh")
    weights, x, direction = net.init(0), inputs(), random_direction(net)
    grads, _ = flossing_gradients(net, weights, x, form="local", **OPTIONS)
    frozen = net.init(0)  # the trajectory of the unperturbed weights

    def loss_on_frozen_trajectory(w: RateWeights) -> float:
        dynamics = StepDynamics(
            lambda h, x_t: net.step(frozen, h, x_t),
            jacobian=lambda h, _: net.jacobian(w, h),
        )
        spectrum = lyapunov_spectrum(dynamics, torch.zeros(1, 3, 6, dtype=F64), x, **OPTIONS)
        return float((spectrum.exponents.mean(1) ** 2).sum())

    numeric = directional_difference(loss_on_frozen_trajectory, weights, direction)
    assert inner(grads, direction) == pytest.approx(numeric, rel=1e-6)
    assert float(grads.inputs.abs().max()) == 0 and float(grads.readout.abs().max()) == 0


def test_for_relu_the_local_and_full_forms_agree():
    net = small_network("relu", ensemble_size=2)
    weights, x = net.init([0, 1]), inputs().expand(2, -1, -1, -1)
    local, loss_local = flossing_gradients(net, weights, x, form="local", **OPTIONS)
    full, loss_full = flossing_gradients(net, weights, x, form="full", **OPTIONS)
    torch.testing.assert_close(loss_local, loss_full)
    for a, b in zip(local.parameters(), full.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_detached_basis_gives_the_outer_product_of_pre_and_postsynaptic_vectors():
    net, warmup = small_network("relu"), 10
    weights, x = net.init(2), inputs(3)
    grads, loss = flossing_gradients(net, weights, x, exponents=1, warmup=warmup, detach_basis=True)
    _, hidden = net.run(weights, x)
    previous = torch.cat([torch.zeros(1, 3, 1, 6, dtype=F64), hidden[:, :, :-1]], dim=2)
    q = torch.linalg.qr(torch.randn(6, 1, generator=rng.generator(0, "evaluation")).double())[0]
    q = q[:, 0].expand(1, 3, 6)
    total, counted = 0.0, 40 - warmup
    outer_products = []
    for t in range(40):
        pushed = net.jacobian_product(weights, previous[:, :, t], q.unsqueeze(-1))[..., 0]
        norm = pushed.norm(dim=-1, keepdim=True)
        if t >= warmup:
            total += float(norm.log().sum())
            presynaptic = net.rate_derivative(previous[:, :, t]) * q
            outer_products.append(
                (1 - net.alpha) * torch.einsum("ebj,ebi->ji", presynaptic, pushed / norm**2)
            )
        q = pushed / norm
    exponent = total / (3 * counted)
    expected = 2 * exponent / (3 * counted) * sum(outer_products)
    assert float(loss[0]) == pytest.approx(exponent**2, rel=1e-10)
    torch.testing.assert_close(grads.recurrent[0], expected, rtol=1e-9, atol=1e-12)


def test_ensemble_flossing_equals_single_runs_with_per_member_learning_rates():
    gains, rates, seeds = [0.2, 1.0], [1e-2, 3e-3], [0, 1]
    rule = GradientFlossing(exponents=1)
    net = LeakyRateNetwork(1, 8, 2, ensemble_size=2, gain=gains, alpha=0.5)
    options = {"rule": rule, "iterations": 3, "batch_size": 2}
    weights, losses = train_rate(
        net, net.init(seeds), Romo(), learning_rate=rates, seeds=seeds, **options
    )
    for e in range(2):
        alone = LeakyRateNetwork(1, 8, 2, gain=gains[e], alpha=0.5)
        single, single_losses = train_rate(
            alone, alone.init(seeds[e]), Romo(), learning_rate=rates[e], seeds=[seeds[e]], **options
        )
        assert torch.equal(single.recurrent[0], weights.recurrent[e])
        assert torch.equal(single_losses[:, 0], losses[:, e])


def max_exponent(net: LeakyRateNetwork, weights: RateWeights) -> float:
    keys = rng.member_keys([0], "evaluation")
    streams = Romo().sample_member_streams(8, 4, keys, 0)
    spectrum = lyapunov_spectrum(
        StepDynamics.of_network(net, weights), torch.zeros(1, 8, 16), streams, warmup=56
    )
    return float(spectrum.maximum.mean())


def test_flossing_moves_the_max_exponent_of_a_small_gain_network_towards_zero():
    net = LeakyRateNetwork(1, 16, 2, gain=0.2, alpha=0.5)
    weights = net.init(0)
    flossed, losses = train_rate(
        net,
        weights,
        Romo(),
        rule=GradientFlossing(),
        iterations=40,
        learning_rate=1e-2,
        seeds=[0],
        batch_size=4,
    )
    before, after = max_exponent(net, weights), max_exponent(net, flossed)
    assert before < -0.4
    assert abs(after) < 0.25 * abs(before)
    assert float(losses[-5:].mean()) < 0.1 * float(losses[:5].mean())


@pytest.mark.parametrize(
    "options, message",
    [
        ({"form": "global"}, "form"),
        ({"exponents": 0}, "exponents"),
        ({"trials": 2, "warmup_trials": 2}, "leaves none"),
    ],
)
def test_bad_flossing_settings_are_rejected(options, message):
    with pytest.raises(ValueError, match=message):
        GradientFlossing(**options)
