"""Zero-temperature asynchronous dynamics of many random asymmetric networks at once.

The "simple asynchronous dynamical rule" of the thesis (Scardecchia, arXiv 2510.11984,
Eq. 3.121 per the seed summary; spec ``steering.md`` sections 2.1 and 6.3): sweeps visit
the N spins in a random order and set

    s_i <- sign(h_i),   h_i = sum_{j != i} J_ij s_j + J_D s_i,

a zero field keeping s_i. A sweep without a flip means the state is a fixed point
(spec 6.1); the dynamics stops there or after ``max_sweeps`` sweeps (spec 6.3 proposes a
cap of 10^3).

Kernel. The sweeps run in a loop compiled with numba, parallel over instances (the
E x B instances are independent): a visit costs O(1), a flip O(N), because the
off-diagonal fields are kept up to date: when spin k of an instance flips to s_k, its
fields gain 2 s_k J_{k.}, row k of the presynaptic x postsynaptic couplings. A compiled
per-spin loop is what this sequential rule needs; a tensor formulation pays a dispatch
per visited position (:file:`benchmarks/async_sweeps.py` compares it with the authors'
per-neuron NumPy loop). Tensors on another device are copied to the CPU and back.

Exactness. Incremental fields accumulate float rounding. An instance is declared
converged only after its fields are recomputed (accumulated in float64) and every spin
passes s_i h_i >= -J_D, so converged states are fixed points of the stored couplings (in
their precision); if the check fails (a tie within rounding) the instance goes on from
the recomputed fields.

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

SEED_BOUND = 1 << 62
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


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

    def host(tensor: torch.Tensor) -> np.ndarray:  # shares memory with the tensor where it can
        return tensor.detach().cpu().contiguous().numpy()

    spins = host(state.reshape(count, size)).copy()  # the kernel writes it: not the caller's
    fields = host(local_fields(couplings, state).reshape(count, size))  # a fresh tensor
    rows, bounds = host(couplings), host(threshold)
    network = np.arange(count, dtype=np.int64) // batch
    seeds = order_seeds.flatten().numpy().astype(np.uint64)
    converged = np.zeros(count, dtype=np.bool_)
    sweeps = np.zeros(count, dtype=np.int64)
    flips = np.zeros(count, dtype=np.int64)
    bar = tqdm(total=max_sweeps, disable=not progress, unit="sweep", mininterval=2.0)
    for sweep in range(max_sweeps):
        _sweep(rows, network, spins, fields, bounds, seeds, sweep, converged, sweeps, flips)
        bar.update(1)
        bar.set_postfix(converged=f"{int(converged.sum())}/{count}", refresh=False)
        if converged.all():
            break
    bar.close()

    def back(values: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(values).to(device).view(ensemble, batch, *values.shape[1:])

    return AsynchronousRelaxation(
        back(spins), back(converged), back(sweeps), back(flips), order_seeds
    )


def sweep_order(seed: int, sweep: int, size: int) -> torch.Tensor:
    """The visiting order (N,) of sweep ``sweep`` for order seed ``seed``."""
    order = np.empty(size, dtype=np.int64)
    _shuffle(order, np.uint64(seed), sweep)
    return torch.from_numpy(order)


@numba.njit(cache=True)
def _splitmix64(counter):
    """SplitMix64's output function (Steele, Lea & Flood 2014) of a uint64 counter."""
    z = counter
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True)
def _shuffle(order, seed, sweep):
    """Fisher-Yates shuffle of 0 ... N-1 into ``order``; draw k of sweep t uses the
    counter seed + (t N + k) x golden ratio (uint64 wrap-around), so sweeps never share one."""
    size = order.shape[0]
    for i in range(size):
        order[i] = i
    counter = seed + np.uint64(sweep) * np.uint64(size) * _GOLDEN
    for i in range(size - 1, 0, -1):
        counter += _GOLDEN
        j = np.int64(_splitmix64(counter) % np.uint64(i + 1))
        order[i], order[j] = order[j], order[i]


@numba.njit(parallel=True, cache=True)
def _sweep(rows, network, spins, fields, threshold, seeds, sweep, converged, sweeps, flips):
    """Sweep ``sweep`` of every instance not yet converged, in place.

    Spin k flips iff s_k h_k < -J_D (``threshold`` = -J_D), i.e. sign(h_k + J_D s_k) =
    -s_k; its instance's fields then gain 2 s_k ``rows[e, k]`` (s_k the new value). After a
    sweep without flips the fields are recomputed and the state checked (module docstring).
    """
    count, size = spins.shape
    for m in numba.prange(count):
        if converged[m]:
            continue
        couplings, s, h, bound = rows[network[m]], spins[m], fields[m], threshold[m]
        order = np.empty(size, dtype=np.int64)
        _shuffle(order, seeds[m], sweep)
        changed = 0
        for k in order:
            if s[k] * h[k] < bound:
                s[k] = -s[k]
                twice = s[k] + s[k]  # in the spins' dtype
                for j in range(size):
                    h[j] += twice * couplings[k, j]
                changed += 1
        sweeps[m] += 1
        flips[m] += changed
        if changed == 0:
            exact = np.zeros(size, dtype=np.float64)
            for i in range(size):
                for j in range(size):
                    exact[j] += s[i] * couplings[i, j]
            stable = True
            for j in range(size):
                h[j] = exact[j]
                if s[j] * h[j] < bound:
                    stable = False
            converged[m] = stable
