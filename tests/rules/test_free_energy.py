"""Free-energy rule: against a per-weight loop, ensembles, determinism, the paper variant."""

import math

import pytest
import torch

from neurodyn.networks import continuous_bernoulli as cb
from neurodyn.networks.attractor import FreeEnergyAttractorNetwork
from neurodyn.rules.free_energy import FreeEnergyRule
from neurodyn.tasks.digits import digit_patterns, two_bars
from neurodyn.training import learn_patterns


def langevin(x: float) -> float:
    return 1 / math.tanh(x) - 1 / x if x != 0 else 0.0


def test_step_matches_a_loop_over_units_and_weights():
    """The authors' AttractorNetwork.update, one node and one weight at a time (float64)."""
    torch.manual_seed(0)
    N, beta, rate = 5, 0.7, 0.05
    network = FreeEnergyAttractorNetwork(N, precision=beta, dtype=torch.float64)
    J = torch.randn(N, N, dtype=torch.float64) * 0.4  # J[i, j]: from j to i
    J.fill_diagonal_(0)
    sigma = torch.rand(N, dtype=torch.float64) * 2 - 1
    bias = torch.randn(N, dtype=torch.float64)
    u = torch.rand(N, dtype=torch.float64)
    rule = FreeEnergyRule(learning_rate=rate)
    couplings, new = rule.step(
        network, J.T[None].clone(), sigma[None, None], bias[None, None], uniform=u[None, None]
    )
    h = [sum(float(J[i, j] * sigma[j]) for j in range(N)) for i in range(N)]
    expected_sigma = [
        float(
            cb.sample_with(torch.tensor(beta * (float(bias[i]) + h[i]), dtype=torch.float64), u[i])
        )
        for i in range(N)
    ]
    expected_J = J.clone()
    for i in range(N):
        for j in range(N):
            if i != j:
                expected_J[i, j] += rate * (
                    expected_sigma[i] * expected_sigma[j] - langevin(h[i]) * expected_sigma[j]
                )
    torch.testing.assert_close(new[0, 0], torch.tensor(expected_sigma, dtype=torch.float64))
    torch.testing.assert_close(couplings[0].T, expected_J)


def test_paper_prediction_uses_bias_and_precision():
    network = FreeEnergyAttractorNetwork(4, precision=0.5, dtype=torch.float64)
    J = torch.zeros(1, 4, 4, dtype=torch.float64)
    sigma = torch.full((1, 1, 4), 0.3, dtype=torch.float64)
    bias = torch.tensor([[[1.0, -2.0, 0.5, 0.0]]], dtype=torch.float64)
    new = network.step(J, sigma, bias)[0]  # deterministic: L(0.5 b)
    paper, _ = FreeEnergyRule(1.0, prediction="paper").step(network, J, sigma, bias)
    code, _ = FreeEnergyRule(1.0).step(network, J, sigma, bias)
    off = ~torch.eye(4, dtype=torch.bool)
    # deterministic update with the paper's prediction: the error new - L(theta) is zero
    assert torch.allclose(paper[0][off], torch.zeros(12, dtype=torch.float64))
    expected = new[0, 0][:, None] * new[0, 0][None, :]  # h = 0: prediction L(0) = 0
    torch.testing.assert_close(code[0][off], expected[off])


def test_couplings_keep_a_zero_diagonal_and_inputs_are_checked():
    network = FreeEnergyAttractorNetwork(25)
    J, _ = learn_patterns(
        network,
        FreeEnergyRule(0.01),
        network.init(),
        two_bars(),
        evidence=30.0,
        epochs=20,
        steps_per_epoch=10,
        seeds=[0],
    )
    assert torch.all(J.diagonal(dim1=1, dim2=2) == 0) and J.abs().sum() > 0
    with pytest.raises(ValueError, match="patterns"):
        learn_patterns(
            network,
            FreeEnergyRule(),
            network.init(),
            torch.ones(3, 24),
            evidence=1.0,
            epochs=1,
            steps_per_epoch=1,
            seeds=[0],
        )
    with pytest.raises(ValueError, match="NaN"):
        learn_patterns(
            network,
            FreeEnergyRule(),
            network.init(),
            torch.full((2, 25), float("nan")),
            evidence=1.0,
            epochs=1,
            steps_per_epoch=1,
            seeds=[0],
        )
    with pytest.raises(ValueError, match="prediction"):
        FreeEnergyRule(prediction="future")
    with pytest.raises(ValueError, match="size"):
        FreeEnergyAttractorNetwork(1)


def test_ensemble_members_equal_their_runs_beside_others_and_runs_are_deterministic():
    """Bit for bit against the member trained beside a different partner; to rounding
    against its lone run (E = 1), for which MKL on Intel CPUs fuses the accumulation of
    the coupling update (``baddbmm`` with a batch of one becomes ``addmm``)."""
    patterns, _, _ = digit_patterns()
    evidence, precision, seeds = [11.0, 6.0, 11.0], [0.1668, 0.0278, 0.5], [0, 1, 2]
    rates = [0.001, 0.002, 0.001]

    def learn(members):
        network = FreeEnergyAttractorNetwork(
            64, ensemble_size=len(members), precision=[precision[e] for e in members]
        )
        return learn_patterns(
            network,
            FreeEnergyRule([rates[e] for e in members]),
            network.init(),
            patterns,
            evidence=[evidence[e] for e in members],
            epochs=30,
            steps_per_epoch=10,
            seeds=[seeds[e] for e in members],
        )

    J, state = learn([0, 1, 2])
    for e in range(3):
        J2, state2 = learn([e, (e + 1) % 3])
        assert torch.equal(J2[0], J[e]) and torch.equal(state2[0], state[e])
        J1, _ = learn([e])
        torch.testing.assert_close(J1[0], J[e], rtol=0, atol=1e-6)
    again, _ = learn([0, 1, 2])
    assert torch.equal(again, J)


def test_resuming_from_an_epoch_gives_the_same_couplings():
    patterns, _, _ = digit_patterns()
    network = FreeEnergyAttractorNetwork(64, precision=0.2)
    rule = FreeEnergyRule(0.001)
    whole, whole_state = learn_patterns(
        network,
        rule,
        network.init(),
        patterns,
        evidence=5.0,
        epochs=100,
        steps_per_epoch=3,
        seeds=[4],
    )
    half, state = learn_patterns(
        network,
        rule,
        network.init(),
        patterns,
        evidence=5.0,
        epochs=70,
        steps_per_epoch=3,
        seeds=[4],
    )
    rest, rest_state = learn_patterns(
        network,
        rule,
        half,
        patterns,
        evidence=5.0,
        epochs=100,
        steps_per_epoch=3,
        seeds=[4],
        state=state,
        start_epoch=70,
    )
    assert torch.equal(rest, whole) and torch.equal(rest_state, whole_state)
