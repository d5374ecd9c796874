"""Storage capacity: the Hebbian Hopfield reference, the search for a learned capacity
and its scaling with width.

* **Hebbian reference.** Hopfield (1982); Amit, Gutfreund & Sompolinsky (1985): with
  Hebbian couplings J = X^T X / N (zero diagonal) the stored +-1 patterns stay (nearly)
  stable under zero-temperature dynamics up to about 0.138 N patterns.
  :func:`hebbian_retention` measures it directly, as the overlap m = s . xi / N reached by
  asynchronous sign dynamics started at each stored pattern, batched over independent
  pattern sets.
* **Capacity search.** P_max, the largest number of associations a learner stores, found
  for several independent instances (seeds) at once by a (k+1)-section search: each
  round tests k candidates evenly spaced inside every instance's bracket
  (lower = largest P known stored, upper = smallest P known not stored) in one batched
  call; k = 1 is bisection. Storage is assumed monotone in P; a stored P above a failed
  one is ignored.
* **Scaling.** The thesis reports the slope of P_max against the width H per depth L
  (0.38 at L = 2 to 0.86 at L = 7; spec ``steering.md`` 4.3): :func:`capacity_slope` fits
  P_max = a H + b by least squares for every seed and gives the mean slope with its
  standard error over seeds, and the log-log exponent of the seed-mean curve.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from neurodyn.checks import check_positive_int, check_tensor


def hebbian_couplings(patterns: torch.Tensor) -> torch.Tensor:
    """J = X^T X / N with zero diagonal for pattern sets (S, K, N): (S, N, N), symmetric."""
    check_tensor("patterns", patterns, (None, None, None), axes="(S, K, N)", finite=True)
    if not patterns.is_floating_point():
        raise ValueError(f"patterns must be floating point (+-1 values), got {patterns.dtype}")
    n = patterns.shape[-1]
    couplings = patterns.transpose(1, 2) @ patterns / n
    return couplings - torch.diag_embed(torch.diagonal(couplings, dim1=1, dim2=2))


def hebbian_retention(
    patterns: torch.Tensor, *, sweeps: int = 20, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Overlap with its pattern of the state reached from each pattern: (S, K).

    Random-order asynchronous updates s_i <- sign(sum_j J_ij s_j) (ties keep s_i), one
    order per sweep shared by the batch, for ``sweeps`` sweeps or until nothing flips.
    """
    check_positive_int("sweeps", sweeps)
    couplings = hebbian_couplings(patterns)
    state = patterns.clone()
    n = patterns.shape[-1]
    for _ in range(sweeps):
        before = state.clone()
        for i in torch.randperm(n, generator=generator).tolist():
            field = torch.einsum("skj,sj->sk", state, couplings[:, :, i])
            state[..., i] = torch.where(field == 0, state[..., i], torch.sign(field))
        if torch.equal(before, state):
            break
    return (state * patterns).mean(-1)


def search_candidates(
    lower: int, upper: int, count: int, *, minimum: int = 1, tolerance: int = 1
) -> list[int]:
    """The P values one round tests in the bracket (lower, upper): up to ``count`` distinct
    integers evenly spaced strictly inside it and >= ``minimum``; [] once it is resolved
    (upper - lower <= ``tolerance``, or no integer >= ``minimum`` inside)."""
    low, high = max(lower + 1, minimum), upper - 1
    if low > high or upper - lower <= tolerance:
        return []
    if high - low + 1 <= count:
        return list(range(low, high + 1))
    inside = np.linspace(lower, upper, count + 2)[1:-1].round().astype(int)
    return sorted({int(p) for p in np.clip(inside, low, high)})


def narrow_bracket(
    lower: int, upper: int, candidates: Sequence[int], stored: Sequence[bool]
) -> tuple[int, int]:
    """The bracket after a round: upper = smallest failed P, lower = largest stored P below it."""
    upper = min([upper, *(p for p, ok in zip(candidates, stored, strict=True) if not ok)])
    lower = max([lower, *(p for p, ok in zip(candidates, stored, strict=True) if ok and p < upper)])
    return lower, upper


def search_capacity(
    stores: Callable[[list[list[int]]], list[list[bool]]],
    lower: Sequence[int],
    upper: Sequence[int],
    *,
    candidates: int = 1,
    minimum: int = 1,
    tolerance: int = 1,
    on_round: Callable[[list[int], list[int]], None] | None = None,
) -> tuple[list[int], list[int]]:
    """Narrow the brackets (lower[s], upper[s]) of independent instances to ``tolerance``.

    ``lower`` must be stored (or trivially so, e.g. 0) and ``upper`` not stored (or an
    untested ceiling). Each round calls ``stores`` once with every unresolved instance's
    candidate list (empty lists for resolved ones) and expects one bool per candidate;
    ``on_round(lower, upper)`` sees the brackets after each round (to checkpoint them; a
    search resumed from them continues identically). Returns the final brackets: lower[s]
    is P_max (to within ``tolerance``; with the default 1 exactly), and a lower[s] below
    ``minimum`` means that not even ``minimum`` is stored.
    """
    lower, upper = [int(v) for v in lower], [int(v) for v in upper]
    if len(lower) != len(upper) or any(lo >= up for lo, up in zip(lower, upper, strict=True)):
        raise ValueError(f"need lower < upper per instance, got {lower} and {upper}")
    while True:
        tests = [
            search_candidates(lo, up, candidates, minimum=minimum, tolerance=tolerance)
            for lo, up in zip(lower, upper, strict=True)
        ]
        if not any(tests):
            return lower, upper
        outcomes = stores(tests)
        for s, (test, outcome) in enumerate(zip(tests, outcomes, strict=True)):
            lower[s], upper[s] = narrow_bracket(lower[s], upper[s], test, outcome)
        if on_round is not None:
            on_round(list(lower), list(upper))


def capacity_slope(widths: Sequence[float], capacities: Sequence[Sequence[float]]) -> dict:
    """Least-squares fit P_max = slope H + intercept of ``capacities`` (seeds x widths).

    Returns the mean slope over seeds with its standard error (None for one seed), the
    per-seed slopes, the intercept of the seed-mean curve and its log-log exponent
    (d log P_max / d log H; None unless every mean capacity is positive).
    """
    widths = np.asarray(widths, dtype=float)
    values = np.atleast_2d(np.asarray(capacities, dtype=float))
    if widths.size < 2 or values.shape[1] != widths.size:
        raise ValueError(
            f"need capacities of shape (seeds, {widths.size}) for at least two widths, "
            f"got {values.shape}"
        )
    slopes = np.array([np.polyfit(widths, row, 1)[0] for row in values])
    mean = values.mean(0)
    spread = slopes.std(ddof=1) / math.sqrt(slopes.size) if slopes.size > 1 else None
    exponent = np.polyfit(np.log(widths), np.log(mean), 1)[0] if np.all(mean > 0) else None
    return {
        "slope": float(slopes.mean()),
        "standard_error": None if spread is None else float(spread),
        "seed_slopes": slopes.tolist(),
        "intercept": float(np.polyfit(widths, mean, 1)[1]),
        "exponent": None if exponent is None else float(exponent),
    }
