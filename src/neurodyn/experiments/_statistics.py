"""Statistics over seeds shared by the rate experiments: mean and sd per gain, Spearman's
rank correlation."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


def mean_sd(values: torch.Tensor, index: dict[float, list[int]]) -> dict[str, list[float]]:
    """Per gain, the mean and sd of ``values`` over its members ``index[gain]`` (its seeds);
    NaN for a gain without members."""
    return {
        f"{g:g}": [float(values[i].mean()), float(values[i].std(correction=0))]
        if i
        else [math.nan, math.nan]
        for g, i in index.items()
    }


# log |J v| of a step where J v = 0 (ReLU, alpha = 0, every unit silent): the spectrum's floor
FLOOR = math.log(torch.finfo(torch.float64).tiny)


def exponent_mean_sd(
    exponent: torch.Tensor, index: dict[float, list[int]], trajectories: int
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Per gain, the mean and sd of lambda_1 over the members where it is finite, and the
    number of members where it is -inf: with alpha = 0 a step on which every ReLU unit is
    silent has J = 0, and a trajectory that reached it sits at the floor from then on, so
    its member's lambda_1 (the mean over ``trajectories``) is -inf in exact arithmetic."""
    collapsed = exponent <= FLOOR / trajectories + 1
    kept = {gain: [i for i in members if not collapsed[i]] for gain, members in index.items()}
    counts = {f"{g:g}": int(collapsed[m].sum()) for g, m in index.items()}
    return mean_sd(exponent, kept), counts


def exponent_text(mean_and_sd: list[float], collapsed: int) -> str:
    """lambda_1 of :func:`exponent_mean_sd` as printed: mean +- sd, and the members at -inf."""
    text = f"{mean_and_sd[0]:+.3f}+-{mean_and_sd[1]:.3f}"
    return f"{text} ({collapsed} at -inf)" if collapsed else text


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
