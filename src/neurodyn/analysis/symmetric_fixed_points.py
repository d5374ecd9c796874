"""Expected number of fixed points of random symmetric networks with self-coupling.

The thesis's open question 1 (Scardecchia, arXiv 2510.11984, p. 100-102; issue 19): the
model of :mod:`neurodyn.analysis.fixed_points` with symmetric couplings, J_ij = J_ji ~
N(0, 1/N) for i < j independent, zero diagonal and the self-coupling J_D apart
(``random_couplings(..., symmetric=True)``). Derivation (own; the thesis has none):

* For a fixed s the stabilities u_i = s_i sum_{j != i} J_ij s_j are linear in the
  Gaussian couplings, hence jointly Gaussian with mean 0. The map J_ij -> s_i s_j J_ij
  keeps the law of the symmetric ensemble, so their law does not depend on s.
* Var u_i = sum_{j != i} E[J_ij^2] = (N - 1) / N. For i != k the only coupling in both
  sums is J_ik = J_ki, entering u_i as s_i s_k J_ik and u_k as s_k s_i J_ki, so
  Cov(u_i, u_k) = E[J_ik^2] = 1 / N > 0: correlation rho = 1 / (N - 1). (For asymmetric J
  the u_i are independent, which gives spec 6.2's 2^N Phi(J_D / sigma_N)^N.)
* An equicorrelated Gaussian vector with this covariance is u_i = z_0 / sqrt(N) +
  sigma z_i with z_0, z_i i.i.d. N(0, 1) and sigma^2 = (N - 2) / N. A state is a fixed
  point iff u_i + J_D >= 0 for all i (spec 6.1), so, conditioning on z_0,

      E[#FP] = 2^N E_{z_0}[ Phi((J_D + z_0 / sqrt(N)) / sigma)^N ]      (N >= 3),

  and E[#FP] = 4 Phi(sqrt(2) J_D) at N = 2 (u_1 = u_2 = J_12).
* The integral is computed by Gauss-Hermite quadrature (``numpy.polynomial.hermite_e``)
  centred on the maximum z* of g(z) = N ln Phi((J_D + z / sqrt N) / sigma) - z^2 / 2 and
  scaled by its curvature, in log space, so that it stays accurate at large N where the
  integrand peaks at z* ~ sqrt(N).
* For large N (z_0 = sqrt(N) x, a saddle point in x) the annealed entropy per spin is

      Sigma_sym(J_D) = ln 2 + max_x [ln Phi(J_D + x) - x^2 / 2],

  Sigma_sym(0) = 0.1992, the Tanaka-Edwards count of one-spin-flip stable states of the
  Sherrington-Kirkpatrick model (J. Phys. F 10, 2769 (1980)); Sigma_sym(J_D) >
  ln 2 + ln Phi(J_D), the asymmetric value: the positive correlation of the stabilities
  makes all of them non-negative together more likely.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial import hermite_e
from scipy.special import log_ndtr, logsumexp

from neurodyn.checks import check_positive_int

QUADRATURE_NODES = 64
BISECTION_STEPS = 200


def _mills(a: np.ndarray) -> np.ndarray:
    """r(a) = phi(a) / Phi(a), the derivative of ln Phi, in log space."""
    return np.exp(-0.5 * a * a - 0.5 * math.log(2 * math.pi) - log_ndtr(a))


def _saddle(slope, upper: np.ndarray) -> np.ndarray:
    """The root in [0, upper] of a decreasing ``slope`` positive at 0 and negative at upper."""
    low, high = np.zeros_like(upper), upper.copy()
    for _ in range(BISECTION_STEPS):
        middle = 0.5 * (low + high)
        positive = slope(middle) > 0
        low, high = np.where(positive, middle, low), np.where(positive, high, middle)
    return 0.5 * (low + high)


def log_expected_symmetric_fixed_points(
    size: int, self_coupling: float | np.ndarray
) -> float | np.ndarray:
    """ln E[#FP] of the symmetric model at N = ``size`` (module docstring)."""
    check_positive_int("size", size, minimum=2)
    coupling = np.asarray(self_coupling, dtype=float)
    if not np.all(np.isfinite(coupling)):
        raise ValueError("self_coupling must be finite")
    if size == 2:
        return math.log(4.0) + log_ndtr(math.sqrt(2.0) * coupling)
    root, sigma = math.sqrt(size), math.sqrt((size - 2) / size)

    def argument(z, offset=coupling):
        return (offset + z / root) / sigma

    peak = _saddle(
        lambda z: root * _mills(argument(z)) / sigma - z,
        root * _mills(coupling / sigma) / sigma + 1.0,
    )
    a = argument(peak)
    curvature = _mills(a) * (a + _mills(a)) / sigma**2 + 1.0  # -g''(z*)
    scale = 1.0 / np.sqrt(curvature)
    nodes, weights = hermite_e.hermegauss(QUADRATURE_NODES)
    shape = (1,) * coupling.ndim + (-1,)
    z = peak[..., None] + scale[..., None] * nodes.reshape(shape)
    exponent = size * log_ndtr(argument(z, coupling[..., None])) - 0.5 * z * z  # g(z)
    terms = exponent + 0.5 * nodes.reshape(shape) ** 2
    integral = logsumexp(terms, b=weights.reshape(shape), axis=-1)
    return size * math.log(2.0) + np.log(scale / math.sqrt(2 * math.pi)) + integral


def expected_symmetric_fixed_points(
    size: int, self_coupling: float | np.ndarray
) -> float | np.ndarray:
    """E[#FP] = 2^N E_{z_0}[Phi((J_D + z_0 / sqrt N) / sqrt((N - 2) / N))^N] for symmetric
    J_ij = J_ji ~ N(0, 1/N) (module docstring); exact at every N up to the quadrature."""
    return np.exp(log_expected_symmetric_fixed_points(size, self_coupling))


def symmetric_fixed_point_entropy(self_coupling: float | np.ndarray) -> float | np.ndarray:
    """Annealed entropy per spin of the symmetric model at large N,
    Sigma_sym(J_D) = ln 2 + max_x [ln Phi(J_D + x) - x^2 / 2]; Sigma_sym(0) = 0.1992
    (Tanaka and Edwards 1980)."""
    coupling = np.asarray(self_coupling, dtype=float)
    if not np.all(np.isfinite(coupling)):
        raise ValueError("self_coupling must be finite")
    best = _saddle(lambda x: _mills(coupling + x) - x, _mills(coupling) + 1.0)
    return math.log(2.0) + log_ndtr(coupling + best) - 0.5 * best * best
