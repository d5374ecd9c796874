"""Finite-size fits of J_a(N): each form recovers its own parameters from noiseless points,
a finite limit and none are told apart, and the threshold's error is the bootstrap over
networks (shrinking with more of them) and the grid's resolution in quadrature."""

import math

import numpy as np
import pytest
import torch

from neurodyn.analysis.threshold_fits import FORMS, threshold_error, threshold_fits

SIZES = [100, 200, 400, 800, 1600, 3200]


@pytest.mark.parametrize(
    "form, parameters",
    [("inverse", (0.7, -45.0)), ("logarithmic", (-0.3, 0.12)), ("power", (0.9, 2.5, 0.35))],
)
def test_each_form_recovers_its_parameters(form, parameters):
    function = FORMS[form][0]
    thresholds = [float(function(n, *parameters)) for n in SIZES]
    fits = threshold_fits(SIZES, thresholds, [0.01] * len(SIZES))
    found = list(fits[form]["parameters"].values())
    np.testing.assert_allclose(found, parameters, rtol=1e-3)
    assert fits[form]["chi2_per_dof"] < 1e-6


@pytest.mark.parametrize(
    "form, parameters, other",
    [("inverse", (0.7, -45.0), "logarithmic"), ("logarithmic", (-0.3, 0.12), "inverse")],
)
def test_a_limit_and_no_limit_are_told_apart(form, parameters, other):
    """(The power form nests the inverse one at c = 1 and nears the logarithmic one as
    c -> 0, so only these two are compared.)"""
    thresholds = [float(FORMS[form][0](n, *parameters)) for n in SIZES]
    fits = threshold_fits(SIZES, thresholds, [0.01] * len(SIZES))
    assert fits[other]["chi2_per_dof"] > 1.0


def test_too_few_points_leave_a_form_undetermined():
    fits = threshold_fits([100, 200, 400], [0.2, 0.3, math.nan], [0.01, 0.01, 0.01])
    assert fits["power"] is None and fits["inverse"] is None  # 2 finite points: dof 0


def test_error_is_the_bootstrap_and_the_grid_resolution_in_quadrature():
    grid = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    floor = 0.2 / math.sqrt(12)
    generator = torch.Generator().manual_seed(0)

    def bootstrap_part(networks):
        probability = torch.tensor(grid).view(-1, 1, 1).expand(-1, networks, 4)
        converged = torch.rand(probability.shape, generator=generator) < probability
        error = threshold_error(grid, converged, resamples=300, seed=1)
        return math.sqrt(error**2 - floor**2)

    small, large = bootstrap_part(10), bootstrap_part(160)
    assert 0 < large < small / 2  # about 1 / sqrt(16) of it
    step = torch.tensor(grid).view(-1, 1, 1).expand(-1, 20, 1) > 0.5  # all switch at 0.5
    assert threshold_error(grid, step) == pytest.approx(floor)
