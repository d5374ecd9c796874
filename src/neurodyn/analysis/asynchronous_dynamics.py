"""Zero-temperature asynchronous dynamics of many random asymmetric networks at once.

The "simple asynchronous dynamical rule" of the thesis (Scardecchia, arXiv 2510.11984,
Eq. 3.121 per the seed summary; spec ``steering.md`` sections 2.1 and 6.3): sweeps visit
the N spins in a random order and set

    s_i <- sign(h_i),   h_i = sum_{j != i} J_ij s_j + J_D s_i,

a zero field keeping s_i. A sweep without a flip means the state is a fixed point
(spec 6.1); the dynamics stops there or after ``max_sweeps`` sweeps (spec 6.3 proposes a
cap of 10^3).

Kernel. The sweeps run in the numba kernel :func:`neurodyn.networks.spin_sweeps.
asynchronous_sweep` shared with the steering network (one layer, no ferromagnetic links,
d = J_D, every proposal accepted), parallel over the E x B independent instances: a
visit costs O(1), a flip O(N), because the off-diagonal fields are kept up to date: when
spin k of an instance flips to s_k, its fields gain 2 s_k J_{k.}, row k of the
presynaptic x postsynaptic couplings. A compiled per-spin loop is what this sequential
rule needs; a tensor formulation pays a dispatch per visited position
(:file:`benchmarks/async_sweeps.py` compares it with the authors' per-neuron NumPy loop).
Tensors on another device are copied to the CPU and back.

Randomness (design principle 2). In sweep t, instance (e, b) visits its spins in the
order :func:`sweep_order` (order_seeds[e, b], t, N): a Fisher-Yates shuffle driven by
SplitMix64 outputs of counters derived from the seed and t. The order seeds are drawn
from the caller's generator and returned, so any instance can be replayed on its own
(the tests compare with a per-neuron loop) and its trajectory depends neither on the
other instances nor on the number of threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
import torch
from tqdm.auto import tqdm

from neurodyn.analysis.fixed_points import (
    check_couplings,
    check_spins,
    instance_self_coupling,
    local_fields,
)
from neurodyn.checks import check_positive_int
from neurodyn.networks.spin_sweeps import SEED_BOUND, asynchronous_sweep
from neurodyn.networks.spin_sweeps import sweep_order as sweep_order


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
    order_seeds = torch.randint(
        0, SEED_BOUND, (ensemble, batch), generator=generator, device=generator.device
    ).cpu()

    def host(tensor: torch.Tensor) -> np.ndarray:  # shares memory with the tensor where it can
        return tensor.detach().cpu().contiguous().numpy()

    spins = host(state.reshape(count, 1, size)).copy()  # the kernel writes it: not the caller's
    fields = host(local_fields(couplings, state).reshape(count, 1, size))  # a fresh tensor
    rows = host(couplings).reshape(ensemble, 1, size, size)
    self_couplings = host(instance_self_coupling(self_coupling, couplings, batch).reshape(count))
    no_links = np.zeros(ensemble, dtype=rows.dtype)
    network = np.arange(count, dtype=np.int64) // batch
    seeds = order_seeds.flatten().numpy().view(np.uint64)  # non-negative: the same values
    converged = np.zeros(count, dtype=np.bool_)
    sweeps = np.zeros(count, dtype=np.int64)
    flips = np.zeros(count, dtype=np.int64)
    changes = np.zeros(count, dtype=np.int64)
    bar = tqdm(total=max_sweeps, disable=not progress, unit="sweep", mininterval=2.0)
    for sweep in range(max_sweeps):
        active = ~converged
        asynchronous_sweep(
            rows,
            network,
            no_links,
            self_couplings,
            spins,
            fields,
            seeds,
            np.uint64(sweep),
            1.0,
            active,
            changes,
        )
        sweeps[active] += 1
        flips[active] += changes[active]
        still = active & (changes == 0)
        if still.any():
            _confirm(
                rows[:, 0], network, self_couplings, spins[:, 0], fields[:, 0], still, converged
            )
        bar.update(1)
        bar.set_postfix(converged=f"{int(converged.sum())}/{count}", refresh=False)
        if converged.all():
            break
    bar.close()

    def back(values: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(values).to(device).view(ensemble, batch, *values.shape[1:])

    return AsynchronousRelaxation(
        back(spins[:, 0]), back(converged), back(sweeps), back(flips), order_seeds
    )


@numba.njit(parallel=True, cache=True)
def _confirm(couplings, network, self_coupling, spins, fields, still, converged):
    """For the ``still`` instances (a sweep without flips): recompute the fields, summed in
    float64 in a fixed order, and mark converged those whose spins all satisfy
    s_i h_i >= -J_D; the others go on from the recomputed fields (module docstring)."""
    count, size = spins.shape
    for m in numba.prange(count):
        if not still[m]:
            continue
        rows, s, h, bound = couplings[network[m]], spins[m], fields[m], -self_coupling[m]
        exact = np.zeros(size, dtype=np.float64)
        for i in range(size):
            for j in range(size):
                exact[j] += s[i] * rows[i, j]
        stable = True
        for j in range(size):
            h[j] = exact[j]
            if s[j] * h[j] < bound:
                stable = False
        converged[m] = stable
