"""Zero-temperature asynchronous dynamics of many random asymmetric networks at once.

The "simple asynchronous dynamical rule" of the thesis (Scardecchia, arXiv 2510.11984,
Eq. 3.121 per the seed summary; spec ``steering.md`` sections 2.1 and 6.3): sweeps visit
the N spins in a random order and set

    s_i <- sign(h_i),   h_i = sum_{j != i} J_ij s_j + J_D s_i,

a zero field keeping s_i. A sweep without a flip means the state is a fixed point
(spec 6.1); the dynamics stops there or after ``max_sweeps`` sweeps (spec 6.3 proposes a
cap of 10^3).

Batching (design principle 1): E networks x B initial states are M = E B instances that
advance together. Step t of a sweep updates, in every instance at once, the spin at
position t of that instance's own random permutation. The off-diagonal fields are kept
up to date by a rank-1 update: when spin k of an instance flips to s_k, its fields gain
2 s_k J_{.k}, i.e. row k of the presynaptic x postsynaptic couplings, so a step costs
O(flips x N) and never recomputes a field. Instances whose sweep had no flip leave the
batch after an exact check (below), so converged networks cost nothing more.

Exactness. Incremental fields accumulate float rounding. An instance is declared
converged only after its fields are recomputed exactly and every spin passes
s_i h_i >= -J_D, so converged states are fixed points of the stored couplings (in their
precision); if the check fails (a tie within rounding) the instance goes on from the exact fields.

Randomness (design principle 2). Instance (e, b) visits its spins in the orders
``torch.randperm(N, generator=g)`` for successive sweeps, with
``g = torch.Generator().manual_seed(order_seeds[e, b])``; the order seeds are drawn from
the caller's generator and returned, so any instance can be replayed on its own (the
tests compare with a per-neuron loop) and its trajectory does not depend on the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from neurodyn._checks import check_positive_int
from neurodyn.analysis.fixed_points import (
    check_couplings,
    check_spins,
    instance_self_coupling,
    local_fields,
)

SEED_BOUND = 1 << 62


@dataclass(frozen=True)
class AsynchronousRelaxation:
    """Result of :func:`relax_asynchronous`; every tensor but ``state`` is (E, B).

    ``state`` (E, B, N): the final configurations; ``converged``: whether a sweep without
    flips occurred (the state is then an exactly checked fixed point); ``sweeps``: sweeps
    run, including that last still sweep (``max_sweeps`` when not converged);
    ``flips``: spin flips made; ``order_seeds``: seeds of the per-instance orders.
    """

    state: torch.Tensor
    converged: torch.Tensor
    sweeps: torch.Tensor
    flips: torch.Tensor
    order_seeds: torch.Tensor


def relax_asynchronous(
    couplings: torch.Tensor,
    self_coupling: float | Sequence[float] | torch.Tensor,
    initial_state: torch.Tensor,
    *,
    max_sweeps: int,
    generator: torch.Generator,
    progress: bool = False,
) -> AsynchronousRelaxation:
    """Random-order asynchronous sweeps of every instance until a still sweep or the budget.

    Args:
        couplings: (E, N, N) zero-diagonal couplings (see :mod:`.fixed_points`).
        self_coupling: J_D, broadcastable to (E, B).
        initial_state: (E, B, N) configurations of +-1.
        max_sweeps: sweep budget per instance.
        generator: draws the per-instance order seeds.
        progress: show a progress bar over sweeps.
    """
    ensemble, size = check_couplings(couplings)
    check_positive_int("max_sweeps", max_sweeps)
    state = check_spins("initial_state", initial_state, couplings)
    batch = check_positive_int(
        "initial states per network (initial_state.shape[1])", state.shape[1]
    )
    count, device = ensemble * batch, couplings.device
    threshold = -instance_self_coupling(self_coupling, couplings, batch).reshape(count)
    order_seeds = torch.randint(
        0, SEED_BOUND, (ensemble, batch), generator=generator, device=generator.device
    ).cpu()
    orders = [torch.Generator().manual_seed(s) for s in order_seeds.flatten().tolist()]

    final = state.reshape(count, size).clone()
    sweeps = torch.zeros(count, dtype=torch.int64, device=device)
    flips = torch.zeros_like(sweeps)
    converged = torch.zeros(count, dtype=torch.bool, device=device)
    # The active instances, compacted: their ids, spins, fields, J_D and networks.
    ids = torch.arange(count, device=device)
    spins = final.clone()
    fields = local_fields(couplings, state).reshape(count, size)
    network = ids // batch
    rows = couplings.reshape(ensemble * size, size)
    bar = tqdm(total=max_sweeps, disable=not progress, unit="sweep", mininterval=2.0)
    for _ in range(max_sweeps):
        order = torch.stack([torch.randperm(size, generator=g) for g in orders]).to(device)
        changed = _sweep(spins, fields, rows, threshold, order, network * size)
        flips.index_add_(0, ids, changed)
        sweeps.index_add_(0, ids, torch.ones_like(changed))
        still = (changed == 0).nonzero().squeeze(1)
        if still.numel():
            fixed = _resync_and_check(couplings, spins, fields, threshold, network, still)
            done = still[fixed]
            converged[ids[done]] = True
            final[ids[done]] = spins[done]
            keep = torch.ones_like(changed, dtype=torch.bool).index_fill_(0, done, False)
            ids, spins, fields = ids[keep], spins[keep], fields[keep]
            threshold, network = threshold[keep], network[keep]
            orders = [g for g, kept in zip(orders, keep.tolist(), strict=True) if kept]
        bar.update(1)
        bar.set_postfix(converged=f"{int(converged.sum())}/{count}", refresh=False)
        if ids.numel() == 0:
            break
    bar.close()
    final[ids] = spins
    shape = (ensemble, batch)
    return AsynchronousRelaxation(
        final.view(ensemble, batch, size),
        converged.view(shape),
        sweeps.view(shape),
        flips.view(shape),
        order_seeds,
    )


def _sweep(
    spins: torch.Tensor,
    fields: torch.Tensor,
    rows: torch.Tensor,
    threshold: torch.Tensor,
    order: torch.Tensor,
    row_offset: torch.Tensor,
) -> torch.Tensor:
    """One sweep of A instances in the orders ``order`` (A, N), in place on ``spins`` and
    ``fields`` (A, N); returns the number of flips of each instance.

    ``rows`` (E N, N) are the couplings' rows and ``row_offset`` (A,) = e N the first row
    of each instance's network. Spin k flips iff s_k h_k < -J_D (``threshold`` = -J_D),
    i.e. sign(h_k + J_D s_k) = -s_k; its instance's fields then gain 2 s_k J_{.k} (s_k the
    new value). Each spin is visited once per sweep, so the spins are read in visiting
    order up front ((N, A), contiguous per step) and written back at the end; only the
    fields are gathered at random positions.
    """
    count, size = spins.shape
    by_step = order.T.contiguous()
    sites = by_step + torch.arange(count, device=spins.device)[None, :] * size
    coupling_rows = by_step + row_offset[None, :]
    visited = spins.gather(1, order).T.contiguous()
    initial = visited.clone()
    flat_fields = fields.view(-1)
    for site, row, spin in zip(sites, coupling_rows, visited, strict=True):
        stability = flat_fields.index_select(0, site).mul_(spin)
        moved = torch.lt(stability, threshold).nonzero().squeeze(1)
        if moved.numel() == 0:
            continue
        flipped = spin.index_select(0, moved).neg_()
        spin.index_copy_(0, moved, flipped)
        update = rows.index_select(0, row.index_select(0, moved)).mul_(flipped[:, None])
        fields.index_add_(0, moved, update, alpha=2)
    spins.scatter_(1, order, visited.T)
    return (visited != initial).sum(0)


def _resync_and_check(
    couplings: torch.Tensor,
    spins: torch.Tensor,
    fields: torch.Tensor,
    threshold: torch.Tensor,
    network: torch.Tensor,
    still: torch.Tensor,
) -> torch.Tensor:
    """Recompute the fields of the ``still`` instances exactly; which are fixed points."""
    for e in torch.unique(network[still]).tolist():
        members = still[network[still] == e]
        fields[members] = spins[members] @ couplings[e]
    stability = (spins[still] * fields[still]).amin(-1)
    return stability >= threshold[still]
