"""numba kernels of the counter-based random streams of :mod:`neurodyn.rng`.

:func:`mix64` is rng's SplitMix64 output function compiled on uint64 (see
:func:`unsigned`), shared by the asynchronous sweeps (:mod:`.spin_sweeps`) and
:func:`counter_noise_levels`, the CPU path of the recurrent noise of rate networks
(:mod:`.rate_noise`): the same numbers as :func:`neurodyn.rng.counter_noise` (tested
equal), hashed in one pass instead of eleven tensor operations per chunk.
"""

from __future__ import annotations

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
def _levels(keys, cells, out):  # pragma: no cover (compiled)
    for e in numba.prange(keys.shape[0]):
        key = keys[e]
        for m in range(cells.shape[0]):
            bits = mix64((key ^ cells[m]) + GOLDEN)
            out[e, 2 * m] = np.float32(bits & _LOW23) * _SCALE + _SHIFT
            out[e, 2 * m + 1] = np.float32((bits >> np.uint64(32)) & _LOW23) * _SCALE + _SHIFT


def counter_noise_levels(keys: torch.Tensor, counter: int, out: torch.Tensor) -> torch.Tensor:
    """2u - 1 of :func:`neurodyn.rng.normal_from_bits` for every number of
    :func:`neurodyn.rng.counter_noise` (keys (E,) on the CPU, draw ``counter``), written
    into the contiguous float32 CPU tensor ``out`` (E, 2P): the two 32-bit halves of the
    hash of (key, counter, p) at 2p and 2p + 1. ``out.erfinv_().mul_(sqrt(2))`` then
    gives the normal numbers."""
    pairs = out.shape[1] // 2
    cells = rng.counter_cells(torch.as_tensor(counter, dtype=torch.int64), pairs)
    _levels(keys.numpy().view(np.uint64), cells.numpy().view(np.uint64).ravel(), out.numpy())
    return out
