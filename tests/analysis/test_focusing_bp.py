"""Focusing BP returns verified fixed points, deterministically, and rejects bad settings."""

import pytest
import torch

from neurodyn.analysis.fixed_points import is_fixed_point, random_couplings
from neurodyn.analysis.focusing_bp import FocusingBPSettings, focusing_bp


def couplings(size=100, count=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return random_couplings(size, ensemble_size=count, generator=generator)


def test_reported_successes_are_fixed_points():
    weights = couplings()
    grid = torch.tensor([0.0, 0.3, 0.6, 1.0])
    result = focusing_bp(weights, grid, generator=torch.Generator().manual_seed(1))
    assert result.state.shape == (4, 4, 100) and result.state.dtype == weights.dtype
    assert torch.equal(
        is_fixed_point(weights, grid, result.state)[result.success],
        torch.ones(int(result.success.sum()), dtype=torch.bool),
    )
    assert result.success[:, 2:].all()  # far above the threshold (spec 6.5)
    assert not result.success[:, 0].any()  # J_D = 0: about one isolated fixed point
    budget = FocusingBPSettings().max_iterations
    assert torch.all(result.iterations[~result.success] == budget)
    assert torch.all(result.iterations[result.success] < budget)


def test_focusing_bp_is_deterministic_from_the_seed():
    weights = couplings(size=60, count=2)

    def solve(seed):
        return focusing_bp(weights, 0.4, batch=3, generator=torch.Generator().manual_seed(seed))

    first, second = solve(2), solve(2)
    assert torch.equal(first.state, second.state)
    assert torch.equal(first.iterations, second.iterations)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"replicas": 0.5}, "replicas"),
        ({"coupling_step": -0.1}, "coupling_step"),
        ({"damping": 1.0}, "damping"),
        ({"max_iterations": 0}, "max_iterations"),
        ({"initial_field": 0.0}, "initial_field"),
    ],
)
def test_bad_settings_give_clear_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        FocusingBPSettings(**changes)


def test_bad_couplings_give_clear_errors():
    with pytest.raises(ValueError, match="zero diagonal"):
        focusing_bp(couplings() + torch.eye(100), 0.5, generator=torch.Generator())
