"""numba kernels of the counter-based random streams of :mod:`neurodyn.rng`.

:func:`mix64` is rng's SplitMix64 output function compiled on uint64 (see
:func:`unsigned`), shared by the asynchronous sweeps (:mod:`.spin_sweeps`) and
:func:`counter_noise_levels`, the CPU path of the noise of rate networks
(:mod:`.rate_noise`): the same numbers as :func:`neurodyn.rng.counter_noise_levels`
(tested equal), hashed in one pass instead of a dozen tensor operations per chunk.
"""

from __future__ import annotations

import math
import types

import numba
import numpy as np
import torch

from neurodyn import rng


def unsigned(function):
    """``function`` with the integer constants it reads turned into uint64, for numba.

    numba compiles signed integer arithmetic with LLVM's no-signed-wrap flag, so the
    wrapping int64 products of :func:`neurodyn.rng.mix64` are undefined behaviour there
    (LLVM then infers wrong signs: seen as wrong shuffles). The same code on uint64 wraps.
    """
    scope = dict(function.__globals__)
    for name in function.__code__.co_names:
        if isinstance(scope.get(name), int):
            scope[name] = np.uint64(scope[name] % (1 << 64))
    return types.FunctionType(function.__code__, scope, function.__name__)


# Not cached itself (its code is rng.py's); numba's cache of the callers does not see
# edits to rng.mix64, which the tests would catch (against the torch references).
mix64 = numba.njit(unsigned(rng.mix64))

GOLDEN = np.uint64(rng.GOLDEN % (1 << 64))
_LOW23 = np.uint64((1 << 23) - 1)
_SCALE, _SHIFT = np.float32(2.0**-22), np.float32(2.0**-23 - 1.0)


@numba.njit(parallel=True, cache=True)
def _levels(keys, drawn, cells, out):  # pragma: no cover (compiled)
    E, B, T, N = out.shape
    for e in numba.prange(E):
        if not drawn[e]:
            continue
        key, position, bits = keys[e], 0, np.uint64(0)
        for b in range(B):
            for t in range(T):
                for n in range(N):
                    if position % 2 == 0:  # a new hash: its low half, then its high half
                        bits = mix64((key ^ cells[position // 2]) + GOLDEN)
                        level = bits & _LOW23
                    else:
                        level = (bits >> np.uint64(32)) & _LOW23
                    out[e, b, t, n] = np.float32(level) * _SCALE + _SHIFT
                    position += 1


def counter_noise_levels(
    keys: torch.Tensor, counter: int, out: torch.Tensor, drawn: torch.Tensor | None = None
) -> torch.Tensor:
    """:func:`neurodyn.rng.counter_noise_levels` of keys (E,) for draw ``counter``, the
    same numbers, written in one compiled pass into the float32 CPU tensor ``out``
    (E, B, T, X) of any layout (a time-major buffer viewed as (E, B, T, X) too), in the
    rows of the members whose ``drawn`` (E,) bool is True (default: all; the other rows
    are left as they are). The hash cells of the positions are computed once for all members."""
    pairs = (math.prod(out.shape[1:]) + 1) // 2
    cells = rng.counter_cells(torch.as_tensor(counter, dtype=torch.int64), pairs)
    if drawn is None:
        drawn = torch.ones(keys.shape[0], dtype=torch.bool)
    keys, cells = keys.numpy().view(np.uint64), cells.numpy().view(np.uint64).ravel()
    _levels(keys, drawn.numpy(), cells, out.numpy())
    return out
