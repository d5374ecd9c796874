"""Finite-size forms of the accessibility threshold J_a(N), fitted with errors.

Scardecchia (arXiv 2510.11984, chapter 3) calls the J_D above which the asynchronous
dynamics reach fixed points "size dependent" without saying how; issue 19 asks which form
holds. Three forms are fitted by weighted least squares (``scipy.optimize.curve_fit``
with the thresholds' standard errors, ``absolute_sigma=True``):

    inverse      J_a(N) = a + b / N            (a finite limit approached as 1/N)
    logarithmic  J_a(N) = a + b ln N           (no finite limit)
    power        J_a(N) = a - b N^(-c)         (a finite limit approached as N^-c)

The power form nests the inverse one (c = 1) and nears the logarithmic one as c -> 0
with b c fixed, so it can fit either; the inverse and logarithmic forms are the two
alternatives. Each fit reports its parameters with standard errors and chi^2 per degree
of freedom:
a form that describes the data has chi^2 / dof near 1 (with errors from the bootstrap over
networks of :func:`bootstrap_threshold`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from neurodyn.analysis.fixed_points import crossing_point

FORMS = {
    "inverse": (lambda n, a, b: a + b / n, ("a", "b"), (0.5, -30.0)),
    "logarithmic": (lambda n, a, b: a + b * np.log(n), ("a", "b"), (0.0, 0.1)),
    "power": (lambda n, a, b, c: a - b * n ** (-c), ("a", "b", "c"), (1.0, 2.0, 0.3)),
}


def threshold_error(
    self_couplings: Sequence[float],
    converged: torch.Tensor,
    *,
    resamples: int = 200,
    seed: int = 0,
) -> float:
    """Standard error of the 1/2 crossing of the convergence probability (``converged``
    (G, E, R): G values of J_D, E networks, R starts each): the bootstrap over networks
    (resamples that never cross left out) and, in quadrature, the grid's resolution
    spacing / sqrt(12) at the crossing. Where all networks switch within one grid step,
    as at large N, the interpolated crossing is only known to within that step, which
    the bootstrap alone would report as an error of 0. NaN where the curve never crosses."""
    x = np.asarray(self_couplings, dtype=float)
    per_network = converged.double().mean(2)  # (G, E)
    crossing = crossing_point(x, per_network.mean(1).tolist())
    if not math.isfinite(crossing):
        return math.nan
    generator = torch.Generator().manual_seed(seed)
    networks = per_network.shape[1]
    draws = torch.randint(0, networks, (resamples, networks), generator=generator)
    curves = per_network[:, draws].mean(2).T  # (resamples, G)
    crossings = np.array([crossing_point(x, c.tolist()) for c in curves])
    finite = crossings[np.isfinite(crossings)]
    bootstrap = float(finite.std(ddof=1)) if finite.size > 1 else 0.0
    step = np.searchsorted(x, crossing)
    spacing = x[min(max(step, 1), x.size - 1)] - x[min(max(step, 1), x.size - 1) - 1]
    return math.hypot(bootstrap, spacing / math.sqrt(12))


def threshold_fits(
    sizes: Sequence[int], thresholds: Sequence[float], errors: Sequence[float]
) -> dict:
    """The three forms of the module docstring fitted to J_a(N) +- errors: per form the
    parameters and their standard errors, chi^2 / dof, or None where the points do not
    determine it (fewer points than parameters + 1, or the fit fails)."""
    from scipy.optimize import curve_fit  # here: importing neurodyn stays fast

    n, j, e = (np.asarray(v, dtype=float) for v in (sizes, thresholds, errors))
    keep = np.isfinite(j) & np.isfinite(e) & (e > 0)
    n, j, e = n[keep], j[keep], e[keep]
    fits = {}
    for name, (form, names, start) in FORMS.items():
        dof = n.size - len(names)
        if dof < 1:
            fits[name] = None
            continue
        try:
            values, covariance = curve_fit(
                form, n, j, p0=start, sigma=e, absolute_sigma=True, maxfev=20000
            )
        except RuntimeError:  # no convergence
            fits[name] = None
            continue
        chi2 = float((((form(n, *values) - j) / e) ** 2).sum())
        fits[name] = {
            "parameters": dict(zip(names, map(float, values), strict=True)),
            "errors": dict(zip(names, map(float, np.sqrt(np.diag(covariance))), strict=True)),
            "chi2_per_dof": chi2 / dof,
            "dof": dof,
        }
    return fits
