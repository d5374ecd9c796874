"""Fixed points of random asymmetric networks: counts, dynamics and thresholds vs theory."""

import math

import numpy as np
import pytest
import torch

from neurodyn.analysis.asynchronous_dynamics import relax_asynchronous, sweep_order
from neurodyn.analysis.fixed_points import (
    count_fixed_points,
    crossing_point,
    expected_fixed_points,
    extrapolate_threshold,
    fixed_point_entropy,
    is_fixed_point,
    random_couplings,
    random_spins,
)


def networks(size, count, seed, dtype=torch.float64):
    return random_couplings(
        size, ensemble_size=count, generator=torch.Generator().manual_seed(seed), dtype=dtype
    )


def test_enumeration_matches_the_expected_number_of_fixed_points():
    """E[#FP] = 2^N Phi(J_D / sigma_N)^N with sigma_N^2 = (N-1)/N, within 4 standard errors;
    at N = 10 the large-N form (2 Phi(J_D))^N is measurably off (the variance correction)."""
    grid = np.array([0.0, 0.3, 0.6, 1.0])
    for size, count in ((6, 1500), (10, 1500)):
        counts = count_fixed_points(networks(size, count, seed=size), torch.tensor(grid)).double()
        mean = counts.mean(0).numpy()
        error = counts.std(0).numpy() / math.sqrt(count)
        expected = expected_fixed_points(size, grid)
        assert np.all(np.abs(mean - expected) < 4 * error), (size, mean, expected, error)
    large_size = np.exp(size * fixed_point_entropy(grid))
    assert (mean[-1] - large_size[-1]) / error[-1] > 4


def test_enumeration_counts_exactly_the_stable_configurations():
    size, count = 7, 5
    couplings = networks(size, count, seed=1)
    codes = torch.arange(2**size)
    every_state = ((codes[:, None] >> torch.arange(size)) & 1).double() * 2 - 1
    states = every_state.expand(count, -1, -1)
    for coupling in (0.0, 0.4, 1.1):
        direct = is_fixed_point(couplings, coupling, states).sum(1)
        assert torch.equal(count_fixed_points(couplings, coupling)[:, 0], direct)


def test_fixed_point_entropy_and_expected_count_limits():
    assert expected_fixed_points(12, 0.0) == pytest.approx(1.0)
    assert fixed_point_entropy(0.0) == pytest.approx(0.0, abs=1e-12)
    for coupling, value in ((0.3, 0.212), (0.5, 0.324), (1.0, 0.520)):  # spec 6.2
        assert fixed_point_entropy(coupling) == pytest.approx(value, abs=1e-3)
    assert math.log(expected_fixed_points(1000, 0.5)) / 1000 == pytest.approx(0.324, abs=1e-3)


def per_neuron_loop(couplings, self_coupling, state, order_seed, sweeps):
    """The authors' early loop: for i in permutation: h = J[i] @ s + J_D s_i; s_i = sign(h)."""
    rows = couplings.T  # rows[i, j] = J_ij
    state = state.clone()
    for sweep in range(sweeps):
        for i in sweep_order(order_seed, sweep, state.numel()).tolist():
            field = float(rows[i] @ state) + self_coupling * float(state[i])
            if field != 0.0:
                state[i] = math.copysign(1.0, field)
    return state


def test_batched_dynamics_equals_a_per_neuron_loop_with_the_same_orders():
    size, ensemble = 30, 3
    grid = torch.tensor([0.0, 0.3, 0.6, 1.0], dtype=torch.float64)
    couplings = networks(size, ensemble, seed=2)
    generator = torch.Generator().manual_seed(3)
    start = random_spins((ensemble, grid.numel(), size), generator=generator, dtype=torch.float64)
    result = relax_asynchronous(couplings, grid, start, max_sweeps=6, generator=generator)
    assert result.converged.any() and not result.converged.all()
    for e in range(ensemble):
        for b, coupling in enumerate(grid.tolist()):
            seed, sweeps = int(result.order_seeds[e, b]), int(result.sweeps[e, b])
            looped = per_neuron_loop(couplings[e], coupling, start[e, b], seed, sweeps)
            assert torch.equal(looped, result.state[e, b])
            if result.converged[e, b]:  # then no sweep of the loop changes anything
                assert torch.equal(per_neuron_loop(couplings[e], coupling, looped, seed, 1), looped)


def test_converged_states_are_fixed_points_and_sweeps_respect_the_budget():
    size, ensemble, batch = 200, 2, 6
    couplings = networks(size, ensemble, seed=4, dtype=torch.float32)
    generator = torch.Generator().manual_seed(5)
    grid = torch.linspace(0.4, 1.2, batch)
    start = random_spins((ensemble, batch, size), generator=generator)
    result = relax_asynchronous(couplings, grid, start, max_sweeps=40, generator=generator)
    assert result.converged[:, -1].all()  # J_D = 1.2 converges in a few sweeps
    fixed = is_fixed_point(couplings, grid, result.state)
    assert torch.equal(fixed[result.converged], torch.ones(int(result.converged.sum()), dtype=bool))
    assert torch.all(result.sweeps[~result.converged] == 40)
    assert torch.all((result.sweeps >= 1) & (result.sweeps <= 40))
    assert torch.all(result.flips <= result.sweeps * size)


def test_dynamics_is_deterministic_from_the_seed():
    couplings = networks(50, 2, seed=6, dtype=torch.float32)

    def relax(seed):
        generator = torch.Generator().manual_seed(seed)
        start = random_spins((2, 3, 50), generator=generator)
        return relax_asynchronous(couplings, 0.5, start, max_sweeps=20, generator=generator)

    first, second, other = relax(7), relax(7), relax(8)
    for name in ("state", "converged", "sweeps", "flips", "order_seeds"):
        assert torch.equal(getattr(first, name), getattr(second, name))
    assert not torch.equal(first.state, other.state)


def test_bad_inputs_give_clear_errors():
    generator = torch.Generator().manual_seed(0)
    couplings = networks(8, 2, seed=0)
    start = random_spins((2, 3, 8), generator=generator, dtype=torch.float64)
    with pytest.raises(ValueError, match="zero diagonal"):
        relax_asynchronous(couplings + torch.eye(8), 0.5, start, max_sweeps=5, generator=generator)
    with pytest.raises(ValueError, match="shape"):
        relax_asynchronous(couplings[:, :, :7], 0.5, start, max_sweeps=5, generator=generator)
    with pytest.raises(ValueError, match="-1 and \\+1"):
        relax_asynchronous(couplings, 0.5, 0 * start, max_sweeps=5, generator=generator)
    with pytest.raises(ValueError, match="initial_state must have shape"):
        relax_asynchronous(couplings, 0.5, start[:1], max_sweeps=5, generator=generator)
    with pytest.raises(ValueError, match="broadcast"):
        relax_asynchronous(couplings, [0.1, 0.2], start, max_sweeps=5, generator=generator)
    with pytest.raises(ValueError, match="max_sweeps"):
        relax_asynchronous(couplings, 0.5, start, max_sweeps=0, generator=generator)
    with pytest.raises(ValueError, match="NaN"):
        is_fixed_point(couplings * math.nan, 0.5, start)
    with pytest.raises(ValueError, match="self_coupling"):
        count_fixed_points(couplings, math.inf)
    with pytest.raises(ValueError, match="exceeds"):
        count_fixed_points(networks(25, 1, seed=0), 0.5)
    with pytest.raises(ValueError, match="size"):
        random_couplings(1, generator=generator)


def test_threshold_crossing_and_its_extrapolation_in_one_over_n():
    grid = [0.0, 0.1, 0.2, 0.3, 0.4]
    assert crossing_point(grid, [0.0, 0.25, 0.75, 1.0, 1.0]) == pytest.approx(0.15)
    assert crossing_point(grid, [0.0, 0.6, 0.2, 0.8, 1.0]) == pytest.approx(0.25)  # last crossing
    assert math.isnan(crossing_point(grid, [0.0, 0.1, 0.2, 0.3, 0.4]))
    assert math.isnan(crossing_point(grid, [0.6, 0.7, 0.8, 0.9, 1.0]))
    sizes = [100, 200, 400, 800]
    fit = extrapolate_threshold(sizes, [0.6 - 20 / n for n in sizes])
    assert fit["infinite_size"] == pytest.approx(0.6) and fit["slope"] == pytest.approx(-20)
    assert fit["points"] == 4
    assert math.isnan(extrapolate_threshold(sizes, [0.5, math.nan, math.nan, math.nan])["slope"])
