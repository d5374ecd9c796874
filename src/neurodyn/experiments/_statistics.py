"""Statistics over seeds shared by the rate experiments: mean and sd per gain, Spearman's
rank correlation."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


def mean_sd(values: torch.Tensor, index: dict[float, list[int]]) -> dict[str, list[float]]:
    """Per gain, the mean and sd of ``values`` over its members ``index[gain]`` (its seeds)."""
    return {
        f"{g:g}": [float(values[i].mean()), float(values[i].std(correction=0))]
        for g, i in index.items()
    }


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rank correlation of ``x`` and ``y`` over the pairs where both are finite;
    None where it is undefined (fewer than 3 such pairs, or one of the two constant)."""
    import scipy.stats  # here: importing neurodyn stays fast (scipy.stats takes ~1 s)

    pairs = [(a, b) for a, b in zip(x, y, strict=True) if math.isfinite(a) and math.isfinite(b)]
    if len(pairs) < 3 or len({a for a, _ in pairs}) < 2 or len({b for _, b in pairs}) < 2:
        return None
    return float(scipy.stats.spearmanr(*zip(*pairs, strict=True)).statistic)


def rho_text(rho: float | None) -> str:
    """A correlation of :func:`spearman` as printed: signed to two places, or undefined."""
    return "undefined" if rho is None else f"{rho:+.2f}"
