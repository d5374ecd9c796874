"""Attractor analysis: VFE, relaxation, counting, orthogonality, scores, coupling structure."""

import math

import torch

from neurodyn.analysis import attractors as A
from neurodyn.networks.attractor import FreeEnergyAttractorNetwork, free_energy
from neurodyn.tasks.digits import digit_patterns


def test_free_energy_matches_the_coded_formula():
    torch.manual_seed(1)
    J = torch.randn(1, 6, 6, dtype=torch.float64) * 0.5
    m = torch.rand(1, 1, 6, dtype=torch.float64) * 2 - 1
    b = torch.randn(1, 1, 6, dtype=torch.float64)
    Jp = J[0].T  # paper layout J[i, j]
    bq = b[0, 0] + Jp @ m[0, 0]

    def lang(x):
        return 1 / math.tanh(x) - 1 / x

    complexity = sum(
        math.log(q / math.sinh(q)) + q * lang(q) - (math.log(p / math.sinh(p)) + p * lang(q))
        for p, q in zip(b[0, 0].tolist(), bq.tolist(), strict=True)
    )
    L = torch.tensor([lang(q) for q in bq.tolist()], dtype=torch.float64)
    accuracy = float(b[0, 0] @ L + L @ Jp @ L)
    assert float(free_energy(J, m, b)) == __import__("pytest").approx(
        complexity - accuracy, rel=1e-10
    )


def test_relaxation_converges_or_returns_nan():
    zero = torch.zeros(2, 5, 5)
    starts = torch.rand(2, 3, 5) - 0.5
    attractors, steps = A.find_attractors(zero, starts)
    assert torch.allclose(attractors, torch.zeros_like(attractors)) and int(steps.max()) <= 2
    never, steps = A.find_attractors(zero + 0.1, starts, max_steps=5, tolerance=0.0)
    assert torch.isnan(never).all() and int(steps.min()) == 5


def test_counting_and_orthogonality_as_coded():
    e = torch.eye(3, dtype=torch.float64)
    sixty = torch.tensor([[1.0, 0.0], [0.5, math.sqrt(3) / 2]], dtype=torch.float64)
    with_duplicate = torch.stack([e[0], e[1], e[0] * 1.001, torch.full((3,), float("nan"))])
    assert A.count_distinct(with_duplicate[None]).tolist() == [2]
    assert A.orthogonality(e[None]).tolist() == [0.0]
    assert abs(float(A.orthogonality(sixty[None])) - 30.0) < 1e-9
    assert math.isnan(float(A.orthogonality(e[:1].repeat(3, 1)[None])))


def test_data_orthogonality_reference_of_the_digits():
    patterns, _, _ = digit_patterns()
    coded, distinct = A.data_orthogonality(patterns)
    assert round(coded, 2) == 29.94 and round(distinct, 2) == 23.26


def test_asymmetry_and_coupling_correlations():
    patterns, _, _ = digit_patterns()
    hebbian = A.hebbian_matrix(patterns).float()[None]
    assert float(A.asymmetry(hebbian)) < 1e-6
    skew = torch.randn(1, 8, 8)
    assert abs(float(A.asymmetry(skew - skew.transpose(1, 2))) - 2.0) < 1e-5
    scores = A.coupling_correlations(hebbian, patterns)
    assert float(scores["hebbian"]) > 0.999 and float(scores["projector"]) < 0.99


def test_reconstruction_without_couplings_gains_nothing():
    patterns, _, _ = digit_patterns()
    network = FreeEnergyAttractorNetwork(64, ensemble_size=2)
    gains, state, trials = A.reconstruction_scores(
        network,
        network.init(),
        network.zero_state(),
        patterns,
        evidence=10.0,
        seeds=[0, 1],
        sample=False,
        trials=20,
        steps=50,
    )
    assert trials.shape == (2, 20) and state.shape == (2, 1, 64)
    assert float(gains.abs().max()) < 0.1
