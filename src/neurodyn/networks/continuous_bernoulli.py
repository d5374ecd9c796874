"""The continuous-Bernoulli distribution on [-1, 1] (Spisak & Friston 2025, arXiv 2505.22749).

p(sigma | theta) = theta exp(theta sigma) / (2 sinh theta), uniform at theta = 0; spec
``free-energy-attractor.md`` section 1. The functions are stable for every real theta
in float32 and float64: below |theta| = 0.3 they use Taylor series (truncation error
< 1e-11), which avoids the cancellation in coth(theta) - 1/theta.
"""

from __future__ import annotations

import math

import torch

_SERIES = 0.3


def _split(theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mask of |theta| < 0.3, theta with those entries replaced by 1 for the closed form)."""
    small = theta.abs() < _SERIES
    return small, torch.where(small, torch.ones_like(theta), theta)


def langevin(theta: torch.Tensor) -> torch.Tensor:
    """Mean of the distribution, L(theta) = coth(theta) - 1/theta (L(0) = 0, slope 1/3)."""
    small, safe = _split(theta)
    t2 = theta * theta
    series = theta * (
        1 / 3
        - t2
        * (1 / 45 - t2 * (2 / 945 - t2 * (1 / 4725 - t2 * (2 / 93555 - t2 * 1382 / 638512875))))
    )
    return torch.where(small, series, 1 / torch.tanh(safe) - 1 / safe)


def langevin_derivative(theta: torch.Tensor) -> torch.Tensor:
    """L'(theta) = 1/theta^2 - 1/sinh^2(theta): the variance of sigma (Fisher information)."""
    small, safe = _split(theta)
    t2 = theta * theta
    series = 1 / 3 - t2 * (
        1 / 15 - t2 * (2 / 189 - t2 * (1 / 675 - t2 * (2 / 10395 - t2 * 15202 / 638512875)))
    )
    decay = torch.exp(-2 * safe.abs())  # 1/sinh^2 = 4 e^{-2|t|} / (1 - e^{-2|t|})^2
    return torch.where(small, series, 1 / safe**2 - 4 * decay / (1 - decay) ** 2)


def log_partition(theta: torch.Tensor) -> torch.Tensor:
    """psi(theta) = ln(2 sinh(theta) / theta) (psi(0) = ln 2)."""
    small, safe = _split(theta)
    t2 = theta * theta
    series = math.log(2) + t2 * (
        1 / 6 - t2 * (1 / 180 - t2 * (1 / 2835 - t2 * (1 / 37800 - t2 / 467775)))
    )
    a = safe.abs()
    return torch.where(small, series, a + torch.log1p(-torch.exp(-2 * a)) - torch.log(a))


def sample(theta: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A sample of CB(theta) for every entry, with uniforms drawn from ``generator``."""
    u = torch.rand(theta.shape, generator=generator, dtype=theta.dtype, device=theta.device)
    return sample_with(theta, u)


def sample_with(theta: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """Inverse-CDF sample of CB(theta) for given uniforms u in (0, 1).

    With a = |theta| and g = +-1 the sign of theta (of its zero too),
    sigma = g (1 + log1p(w expm1(-2a)) / a) where w = u for theta < 0 and 1 - u otherwise:
    exact to rounding for any small or large |theta|. a is offset by 1e-30, so theta = 0
    gives the uniform 2u - 1 as its limit; no ``torch.where`` (slow for small tensors).
    """
    info = torch.finfo(theta.dtype)
    u = uniform.to(theta.dtype).clamp(info.tiny, 1 - info.eps)
    a = theta.abs() + 1e-30
    sign = torch.copysign(torch.ones((), dtype=theta.dtype, device=theta.device), theta)
    w = 0.5 + sign * (0.5 - u)
    sigma = sign * (1 + torch.log1p(w * torch.expm1(-2 * a)) / a)
    return sigma.clamp(-1.0, 1.0)
