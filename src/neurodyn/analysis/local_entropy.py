"""Fixed points around a reference configuration: the local-entropy curve, by enumeration.

The thesis (Scardecchia, arXiv 2510.11984, chapter 3; spec ``steering.md`` 6.3) sees the
clustering transition in local-entropy (Franz-Parisi-type) curves: for a fixed point s*,
the number n_d(s*) of fixed points at Hamming distance d from s*, log-averaged over
instances; dense clusters show as a maximum at small d. At small N the curve is counted
exactly: the enumeration of :mod:`neurodyn.analysis.fixed_points` visits the 2^(N-1)
states with s_N = +1 in blocks, and the distances of a block to every reference are one
matrix product, d = (N - s . s*) / 2; the mirror images -s lie at N - d. Counts are
binned with ``torch.bincount`` over the whole block (no loop over states).

:func:`uniform_fixed_points` draws the typical reference: a fixed point chosen uniformly
among all of an instance's, by giving every state an independent uniform key and keeping
the fixed point with the largest key (one pass; the choice of half is a fair sign).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from neurodyn.analysis.fixed_points import (
    check_enumerable,
    code_spins,
    enumerate_stabilities,
    instance_self_coupling,
)
from neurodyn.checks import check_shape

HISTOGRAM_BLOCK = 1 << 20  # elements of the (E, chunk, B R) distance block per step


def uniform_fixed_points(
    couplings: torch.Tensor,
    self_coupling: float | Sequence[float] | torch.Tensor,
    *,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One fixed point per instance (network e, J_D [e, b]), uniform among all of its own.

    Returns ``state`` (E, B, N) float64 and ``found`` (E, B): whether the instance has a
    fixed point (where it has none, the state is all +1 and means nothing). The keys are
    drawn from ``generator`` block by block: the same seed gives the same choice.
    """
    ensemble, size = check_enumerable(couplings)
    threshold = instance_self_coupling(self_coupling, couplings).double()
    best = torch.full(threshold.shape, -1.0, dtype=torch.float64)
    code = torch.zeros(threshold.shape, dtype=torch.int64)
    start = 0
    for spins, stability in enumerate_stabilities(couplings):
        fixed = (stability[:, :, None] >= -threshold[:, None, :]).cpu()  # (E, chunk, B)
        keys = torch.rand(fixed.shape, generator=generator, dtype=torch.float64)
        value, index = torch.where(fixed, keys, -1.0).max(1)
        better = value > best
        best, code = torch.where(better, value, best), torch.where(better, start + index, code)
        start += spins.shape[0]
    state = code_spins(code, size, torch.float64)
    state[..., -1] = 1.0
    sign = 2.0 * torch.randint(0, 2, threshold.shape, generator=generator) - 1.0
    return (state * sign[..., None]).to(couplings.device), (best >= 0).to(couplings.device)


def fixed_points_by_distance(
    couplings: torch.Tensor,
    self_coupling: float | Sequence[float] | torch.Tensor,
    references: torch.Tensor,
) -> torch.Tensor:
    """n_d: the fixed points of instance (e, b) at each distance d from its references.

    ``references`` (E, B, R, N) of +-1 (any configurations, fixed points or not);
    returns (E, B, R, N + 1) int64 counts, d = 0 ... N. Summed over d they give the
    instance's number of fixed points for every reference.
    """
    ensemble, size = check_enumerable(couplings)
    threshold = instance_self_coupling(self_coupling, couplings).double()
    batch = threshold.shape[1]
    check_shape("references", references, (ensemble, batch, None, size))
    if not bool(((references == 1) | (references == -1)).all()):
        raise ValueError("references must contain only -1 and +1")
    count = references.shape[2]
    others = references.double().to(couplings.device).reshape(ensemble, batch * count, size)
    others = others.transpose(1, 2)  # (E, N, B R)
    bins = torch.arange(ensemble * batch * count, device=couplings.device)
    bins = bins.view(ensemble, 1, batch, count) * (size + 1)
    histogram = torch.zeros(ensemble * batch * count * (size + 1), dtype=torch.int64)
    block = HISTOGRAM_BLOCK * size // max(1, batch * count)
    for spins, stability in enumerate_stabilities(couplings, block):
        fixed = stability[:, :, None] >= -threshold[:, None, :]  # (E, chunk, B)
        overlap = torch.matmul(spins, others).view(ensemble, -1, batch, count)
        distance = torch.round((size - overlap) / 2).long()
        chosen = (bins + distance)[fixed[..., None].expand_as(distance)]
        histogram += torch.bincount(chosen, minlength=histogram.numel()).cpu()
    half = histogram.view(ensemble, batch, count, size + 1)
    return (half + half.flip(-1)).to(couplings.device)
