"""One random-order asynchronous sweep of many layered binary spin systems (numba kernel).

The "simple asynchronous dynamical rule" of Scardecchia, *Learning by Steering the Neural
Dynamics* (arXiv 2510.11984, 2025; spec ``steering.md`` sections 2.1 and 6.3), shared by
the steering network's asynchronous dynamics (:mod:`neurodyn.networks.asynchronous`) and
the fixed-point phase-transition analysis (:mod:`neurodyn.analysis.asynchronous_dynamics`).

Instance m belongs to network g = ``network[m]``; it holds spins s (L, H) in {-1, 0, +1}
and fields h (L, H), everything that acts on a unit except an extra self term d_m s.
Visiting unit i of layer l proposes

    s <- sign(h)   if s = 0    (a zero field leaves it at 0),
    s <- -s        if s h < -d_m,  i.e. sign(h + d_m s) = -s (a zero total field keeps s),

and accepts the proposal with probability ``accept``. A change by delta = s_new - s_old
keeps the fields current: h^l_j += delta J^l_ij (row i of the presynaptic x postsynaptic
couplings (G, L, H, H) of network g) and h^{l-1}_i, h^{l+1}_i += delta lambda_g (the
ferromagnetic links, where those layers exist). A visit costs O(1), a change O(H).

Randomness (design principle 2). Sweep t of an instance with seed z visits its L H units
in the order :func:`sweep_order` (z, t, L H): a Fisher-Yates shuffle whose draws are
SplitMix64 (:func:`neurodyn.rng.mix64`) of the counters z + (t L H + k) x golden
(mod 2^64). The proposal at visit k is accepted iff :func:`acceptance_draws` (z, t, L H)[k]
< ``accept``, a counter-based stream with its own key (no draw when ``accept`` >= 1).
An instance's trajectory depends neither on the other instances nor on the thread count.
"""

from __future__ import annotations

import numba
import numpy as np
import torch

from neurodyn import rng
from neurodyn.networks.counter_kernels import mix64 as _mix64

SEED_BOUND = 1 << 62  # order seeds are drawn in [0, 2^62)
_GOLDEN = np.uint64(rng.GOLDEN % (1 << 64))
_ACCEPT_SALT = np.uint64(0xD1B54A32D192ED03)  # separates the acceptance from the order stream


@numba.njit(cache=True)
def _shuffle(order, seed, sweep):
    """Fisher-Yates shuffle of 0 ... n-1 into ``order``; draw k of sweep t hashes the counter
    seed + (t n + k) x golden (uint64 wrap-around), so sweeps never share one."""
    size = order.shape[0]
    for i in range(size):
        order[i] = i
    counter = seed + sweep * np.uint64(size) * _GOLDEN
    for i in range(size - 1, 0, -1):
        counter += _GOLDEN
        j = np.int64(_mix64(counter) % np.uint64(i + 1))
        order[i], order[j] = order[j], order[i]


@numba.njit(cache=True)
def _acceptance(seed, counter):
    """The uniform number in [0, 1) (53 random bits) of proposal ``counter`` of ``seed``."""
    return np.float64(_mix64(_mix64(seed ^ _ACCEPT_SALT) + counter * _GOLDEN) >> 11) * 2.0**-53


@numba.njit(parallel=True, cache=True)
def asynchronous_sweep(
    couplings,
    network,
    ferromagnetic,
    self_coupling,
    spins,
    fields,
    seeds,
    sweep,
    accept,
    active,
    changes,
):
    """Sweep ``sweep`` of every active instance, in place (module docstring).

    Args: ``couplings`` (G, L, H, H); ``network`` (M,) int64; ``ferromagnetic`` lambda (G,);
    ``self_coupling`` d (M,); ``spins`` and ``fields`` (M, L, H), updated; ``seeds`` (M,)
    and ``sweep``: uint64; ``accept``: a probability; ``active`` (M,) bool: inactive
    instances are left alone; ``changes`` (M,) int64 receives each one's changed spins.
    Arrays are C-contiguous; the fields are updated in their own dtype.
    """
    count, layers, width = spins.shape
    size = layers * width
    for m in numba.prange(count):
        if not active[m]:
            continue
        # Flat views: unit u = l H + i; row u of ``rows`` is J^l_{i.}.
        rows = couplings[network[m]].reshape(size, width)
        s, h = spins[m].reshape(size), fields[m].reshape(size)
        lam, bound, seed = ferromagnetic[network[m]], -self_coupling[m], seeds[m]
        order = np.empty(size, dtype=np.int64)
        _shuffle(order, seed, sweep)
        changed = 0
        for k in range(size):
            u = order[k]
            old = s[u]
            if old != 0:
                if old * h[u] >= bound:
                    continue
                s[u] = -old
            elif h[u] != 0:
                s[u] = 1 if h[u] > 0 else -1
            else:
                continue
            if accept < 1.0 and _acceptance(seed, sweep * np.uint64(size) + np.uint64(k)) >= accept:
                s[u] = old
                continue
            delta = s[u] - old  # in the spins' dtype
            base = 0 if layers == 1 else u - u % width  # u's layer starts here
            row, layer_fields = rows[u], h[base : base + width]  # 1-D views: vectorised
            for j in range(width):
                layer_fields[j] += delta * row[j]
            if lam != 0:
                if base > 0:
                    h[u - width] += delta * lam
                if base + width < size:
                    h[u + width] += delta * lam
            changed += 1
        changes[m] = changed


@numba.njit(cache=True)
def _acceptance_draws(draws, seed, sweep):
    size = draws.shape[0]
    for k in range(size):
        draws[k] = _acceptance(seed, sweep * np.uint64(size) + np.uint64(k))


def sweep_order(seed: int, sweep: int, size: int) -> torch.Tensor:
    """The visiting order (size,) of sweep ``sweep`` for order seed ``seed``."""
    order = np.empty(size, dtype=np.int64)
    _shuffle(order, np.uint64(seed % (1 << 64)), np.uint64(sweep))
    return torch.from_numpy(order)


def acceptance_draws(seed: int, sweep: int, size: int) -> torch.Tensor:
    """The uniform numbers (size,) that accept or reject the proposals of sweep ``sweep``."""
    draws = np.empty(size, dtype=np.float64)
    _acceptance_draws(draws, np.uint64(seed % (1 << 64)), np.uint64(sweep))
    return torch.from_numpy(draws)
