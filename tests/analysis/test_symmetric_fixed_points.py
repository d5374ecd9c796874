"""Symmetric couplings: the model, its expected number of fixed points, the local-entropy
counts by distance, and focusing BP's refusal (issue 19, thesis open question 1)."""

import math

import numpy as np
import pytest
import torch

from neurodyn.analysis.asynchronous_dynamics import relax_asynchronous
from neurodyn.analysis.fixed_points import (
    count_fixed_points,
    expected_fixed_points,
    fixed_point_entropy,
    is_fixed_point,
    random_couplings,
    random_spins,
)
from neurodyn.analysis.focusing_bp import focusing_bp
from neurodyn.analysis.local_entropy import fixed_points_by_distance, uniform_fixed_points
from neurodyn.analysis.symmetric_fixed_points import (
    expected_symmetric_fixed_points,
    log_expected_symmetric_fixed_points,
    symmetric_fixed_point_entropy,
)


def symmetric(size, count, seed, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    return random_couplings(
        size, ensemble_size=count, generator=generator, symmetric=True, dtype=dtype
    )


def every_state(size):
    codes = torch.arange(2**size)
    return ((codes[:, None] >> torch.arange(size)) & 1).double() * 2 - 1


def test_symmetric_couplings_are_symmetric_with_variance_one_over_n():
    size, count = 60, 40
    couplings = symmetric(size, count, seed=0)
    assert torch.equal(couplings, couplings.transpose(1, 2))
    assert not couplings.diagonal(dim1=1, dim2=2).any()
    rows, columns = torch.triu_indices(size, size, 1)
    upper = couplings[:, rows, columns]  # the independent entries
    # N^2 upper entries: the variance 1/N within 4 standard errors (sqrt(2/M) relative)
    assert upper.var().item() * size == pytest.approx(1.0, abs=4 * math.sqrt(2 / upper.numel()))
    assert abs(upper.mean().item()) * math.sqrt(size * upper.numel()) < 4
    same = symmetric(size, 1, seed=3)[0]
    generator = torch.Generator().manual_seed(3)
    draw = random_couplings(size, generator=generator, dtype=torch.float64)[0] * math.sqrt(size)
    assert torch.allclose(same, (draw + draw.T) / math.sqrt(2 * size))  # the same draw


def test_expectation_matches_monte_carlo_of_the_stabilities():
    """2^N P(all u_i + J_D >= 0) for s = +1 (the law does not depend on s), 4 x 10^5 draws:
    within 4 binomial standard errors at N = 3 and 6."""
    generator = np.random.default_rng(0)
    grid = np.array([0.0, 0.3, 0.6, 1.0])
    for size in (3, 6):
        draws = 400_000
        normal = generator.standard_normal((draws, size, size))
        couplings = (normal + normal.transpose(0, 2, 1)) / math.sqrt(2 * size)
        couplings[:, range(size), range(size)] = 0.0
        stabilities = couplings.sum(2)
        expectation = expected_symmetric_fixed_points(size, grid)
        for coupling, expected in zip(grid, expectation, strict=True):
            p = expected / 2**size
            measured = np.mean((stabilities + coupling >= 0).all(1))
            assert abs(measured - p) < 4 * math.sqrt(p * (1 - p) / draws), (size, coupling)


def test_expectation_matches_enumeration_and_differs_from_the_asymmetric_one():
    """Mean exact counts over 1500 networks at N = 6 and 10 within 4 standard errors; at
    N = 10 the asymmetric expectation is many standard errors off."""
    grid = np.array([0.0, 0.3, 0.6, 1.0])
    for size in (6, 10):
        counts = count_fixed_points(symmetric(size, 1500, seed=size), torch.tensor(grid)).double()
        mean = counts.mean(0).numpy()
        error = counts.std(0).numpy() / math.sqrt(counts.shape[0])
        expected = expected_symmetric_fixed_points(size, grid)
        assert np.all(np.abs(mean - expected) < 4 * error), (size, mean, expected, error)
    assert np.all((mean - expected_fixed_points(size, grid)) / error > 4)


def test_expectation_limits():
    assert expected_symmetric_fixed_points(2, 0.0) == pytest.approx(2.0)
    assert expected_symmetric_fixed_points(2, 0.4) == pytest.approx(4 * 0.5 * (1 + math.erf(0.4)))
    assert symmetric_fixed_point_entropy(0.0) == pytest.approx(0.1992, abs=1e-4)  # Tanaka-Edwards
    grid = np.array([0.0, 0.5, 1.0])
    assert np.all(symmetric_fixed_point_entropy(grid) > fixed_point_entropy(grid))
    for size in (400, 3200):  # ln E[#FP] / N tends to Sigma_sym, with a 1/N correction
        gap = log_expected_symmetric_fixed_points(size, grid) / size
        assert np.allclose(gap, symmetric_fixed_point_entropy(grid), atol=2 / size)
    with pytest.raises(ValueError, match="finite"):
        expected_symmetric_fixed_points(8, math.nan)


def test_enumeration_and_dynamics_work_unchanged_with_symmetric_couplings():
    size, count = 7, 4
    couplings = symmetric(size, count, seed=1)
    states = every_state(size).expand(count, -1, -1)
    for coupling in (0.0, 0.4):
        direct = is_fixed_point(couplings, coupling, states).sum(1)
        assert torch.equal(count_fixed_points(couplings, coupling)[:, 0], direct)
    couplings = symmetric(200, 3, seed=2, dtype=torch.float32)
    generator = torch.Generator().manual_seed(0)
    grid = torch.tensor([0.0, 0.3, 0.8])
    start = random_spins((3, 3, 200), generator=generator)
    result = relax_asynchronous(couplings, grid, start, max_sweeps=500, generator=generator)
    assert result.converged.all()  # symmetric J, J_D >= 0: the energy decreases
    assert is_fixed_point(couplings, grid, result.state).all()


def test_distance_histogram_matches_a_brute_force_count():
    size, count = 6, 3
    grid = torch.tensor([0.0, 0.5])
    generator = torch.Generator().manual_seed(4)
    for couplings in (
        symmetric(size, count, seed=5),
        random_couplings(size, ensemble_size=count, generator=generator, dtype=torch.float64),
    ):
        references = random_spins((count, 2, 3, size), generator=generator, dtype=torch.float64)
        counts = fixed_points_by_distance(couplings, grid, references)
        states = every_state(size)
        for e in range(count):
            for b, coupling in enumerate(grid.tolist()):
                fixed = states[is_fixed_point(couplings[e : e + 1], coupling, states[None])[0]]
                for r in range(3):
                    distance = ((size - fixed @ references[e, b, r]) / 2).long()
                    expected = torch.bincount(distance, minlength=size + 1)
                    assert torch.equal(counts[e, b, r], expected)


def test_uniform_fixed_points_are_fixed_points_chosen_from_the_seed():
    couplings = symmetric(8, 5, seed=6)
    grid = torch.tensor([0.0, 0.6])

    def draw(seed):
        return uniform_fixed_points(couplings, grid, generator=torch.Generator().manual_seed(seed))

    (state, found), (again, _) = draw(0), draw(0)
    assert torch.equal(state, again) and found.all()
    assert is_fixed_point(couplings, grid, state).all()
    # uniform over the fixed points: the chosen one's code over many seeds covers them all
    single = couplings[:1]
    total = int(count_fixed_points(single, 0.6))
    seen = {
        tuple(
            uniform_fixed_points(single, 0.6, generator=torch.Generator().manual_seed(s))[0]
            .flatten()
            .tolist()
        )
        for s in range(40 * total)
    }
    assert len(seen) == total


def test_focusing_bp_refuses_symmetric_couplings():
    with pytest.raises(ValueError, match="symmetric"):
        focusing_bp(symmetric(20, 2, seed=0), 0.5, generator=torch.Generator().manual_seed(0))
