"""Continuous Bernoulli: mean, variance, log-partition and sampler vs numerical integration."""

import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad

from neurodyn.networks import continuous_bernoulli as cb

THETAS = [-40.0, -3.0, -0.31, -0.29, -1e-4, 0.0, 1e-7, 0.05, 0.299, 0.301, 1.0, 7.0, 300.0]


def moments(theta: float) -> tuple[float, float, float]:
    """log Z, mean and variance of p(s) ~ exp(theta s) on [-1, 1] by quadrature."""
    shift = abs(theta)  # exp(theta s - |theta|) stays finite
    z = quad(lambda s: math.exp(theta * s - shift), -1, 1, limit=200)[0]
    mean = quad(lambda s: s * math.exp(theta * s - shift), -1, 1, limit=200)[0] / z
    second = quad(lambda s: s * s * math.exp(theta * s - shift), -1, 1, limit=200)[0] / z
    log_z = math.log(z) + shift
    # psi = ln(2 sinh(theta) / theta) = ln Z - ln|theta| ... Z here is int exp(theta s) ds
    return log_z, mean, second - mean**2


@pytest.mark.parametrize("theta", THETAS)
@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-10), (torch.float32, 2e-6)])
def test_langevin_derivative_and_log_partition_match_integration(theta, dtype, tolerance):
    log_z, mean, variance = moments(theta)
    t = torch.tensor([theta], dtype=dtype)
    assert float(cb.langevin(t)) == pytest.approx(mean, abs=tolerance)
    assert float(cb.langevin_derivative(t)) == pytest.approx(variance, abs=tolerance)
    # psi(theta) = ln(2 sinh theta / theta) = ln of the integral of exp(theta s) over [-1, 1]
    assert float(cb.log_partition(t)) == pytest.approx(log_z, abs=tolerance * max(1, abs(log_z)))


@pytest.mark.parametrize("theta", [-3.0, -0.01, 0.0, 0.2, 2.0, 50.0])
def test_sampler_matches_the_density(theta):
    draws = cb.sample(
        torch.full((200_000,), theta, dtype=torch.float64), torch.Generator().manual_seed(1)
    ).numpy()
    assert draws.min() >= -1 and draws.max() <= 1
    _, mean, variance = moments(theta)
    assert abs(draws.mean() - mean) < 4 * math.sqrt(variance / draws.size)
    # the empirical CDF against the exact one at a few points (Kolmogorov-Smirnov scale)
    for s in np.linspace(-0.9, 0.9, 7):
        if theta == 0:
            exact = (s + 1) / 2
        else:
            exact = math.expm1(theta * (s + 1)) / math.expm1(2 * theta)
        assert abs((draws <= s).mean() - exact) < 0.005


def test_inverse_cdf_at_the_extremes_stays_in_range():
    theta = torch.tensor([-500.0, -1e-30, 1e-30, 500.0])
    for u in (1e-12, 0.5, 1 - 1e-12):
        s = cb.sample_with(theta, torch.full_like(theta, u))
        assert torch.isfinite(s).all() and (s.abs() <= 1).all()
