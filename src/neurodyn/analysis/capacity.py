"""Storage capacity references: the Hebbian Hopfield network.

Hopfield (1982); Amit, Gutfreund & Sompolinsky (1985): with Hebbian couplings
J = X^T X / N (zero diagonal) the stored +-1 patterns stay (nearly) stable under
zero-temperature dynamics up to about 0.138 N patterns. :func:`hebbian_retention` measures
it directly, as the overlap m = s . xi / N reached by asynchronous sign dynamics started
at each stored pattern, batched over independent pattern sets.
"""

from __future__ import annotations

import torch


def hebbian_couplings(patterns: torch.Tensor) -> torch.Tensor:
    """J = X^T X / N with zero diagonal for pattern sets (S, K, N): (S, N, N), symmetric."""
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
