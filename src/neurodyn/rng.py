"""Explicit, per-member random streams (design principle 2: no global RNG).

A member of an ensemble owns independent streams, one per purpose (weight
initialisation, data order, stochastic dynamics), derived from its integer seed with
NumPy's ``SeedSequence``. A member's results therefore depend only on its own seed and
hyperparameters, never on which other members share the batch: an ensemble member
reproduces the single-network run with the same seed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch

from neurodyn.checks import check_tensor, describe

CHUNK = 1 << 14  # counter-based numbers generated per pass (int64 scratch stays in cache)
# "ood": out-of-distribution inputs; "permutation": fixed permutations of the inputs
STREAMS = {
    "init": 0,
    "data": 1,
    "dynamics": 2,
    "task": 3,
    "evaluation": 4,
    "ood": 5,
    "permutation": 6,
}


def check_seed(name: str, seed: int) -> int:
    """``seed`` as an ``int`` if it is a non-negative Python or NumPy integer, else a clear
    error naming ``name`` (1.5, True, -1 and "3" are refused, never converted)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {describe(seed)}")
    return int(seed)


def check_seeds(name: str, seeds: Sequence[int]) -> list[int]:
    """A sequence of seeds (list, tuple, 1-D integer array or tensor) as a list of ints."""
    if isinstance(seeds, (torch.Tensor, np.ndarray)):
        if seeds.ndim != 1:
            raise ValueError(f"{name} must be a 1-D sequence of seeds, got shape {seeds.shape}")
        seeds = seeds.tolist()
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise ValueError(
            f"{name} must be a sequence of non-negative integers, got {describe(seeds)}"
        )
    return [check_seed(f"{name}[{k}]", s) for k, s in enumerate(seeds)]


def generator(seed: int, stream: str, device: torch.device | str = "cpu") -> torch.Generator:
    """A ``torch.Generator`` for ``stream`` of the member seeded with ``seed``."""
    if stream not in STREAMS:
        raise ValueError(f"unknown random stream {stream!r}; known: {sorted(STREAMS)}")
    seed = check_seed("seed", seed)
    state = np.random.SeedSequence([seed, STREAMS[stream]]).generate_state(1, dtype=np.uint64)
    gen = torch.Generator(device=device)
    gen.manual_seed(int(state[0]))
    return gen


def member_seeds(seed: int | Sequence[int], ensemble_size: int, *, name: str = "seed") -> list[int]:
    """One seed per member: an int is shared by all members (paired comparisons). Seeds
    must be non-negative integers; ``name`` is the caller's argument, for the errors."""
    several = isinstance(seed, (Sequence, torch.Tensor, np.ndarray))
    if not several or isinstance(seed, (str, bytes)):
        return [check_seed(name, seed)] * ensemble_size
    seeds = check_seeds(name, seed)
    if len(seeds) != ensemble_size:
        raise ValueError(
            f"{name}: got {len(seeds)} seeds for an ensemble of {ensemble_size}; give one or "
            "one per member"
        )
    return seeds


def generators(
    seeds: Sequence[int], stream: str, device: torch.device | str = "cpu"
) -> list[torch.Generator]:
    return [generator(s, stream, device) for s in check_seeds("seeds", seeds)]


# ---------------------------------------------------------------- counter-based streams
# For large ensembles of small networks a Python loop over per-member generators would
# dominate the run time. A counter-based stream instead hashes (member key, counter,
# position) with SplitMix64: one vectorised call serves every member, and a member's
# numbers still depend only on its own key, so ensemble and single runs agree.


def signed64(value: int) -> int:
    """The int64 with the bits of the unsigned 64-bit ``value``."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


GOLDEN = signed64(0x9E3779B97F4A7C15)  # SplitMix64's increment, 2^64 / golden ratio
_MIX1, _MIX2 = signed64(0xBF58476D1CE4E5B9), signed64(0x94D049BB133111EB)
_LOW34, _LOW37, _LOW33 = (1 << 34) - 1, (1 << 37) - 1, (1 << 33) - 1


def mix64(z):
    """SplitMix64's output function (Steele, Lea & Flood 2014) on int64 values.

    z ^= z >>> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >>> 27; z *= 0x94D049BB133111EB;
    z ^= z >>> 31, in two's complement: the products wrap modulo 2^64 and the logical
    shifts >>> are arithmetic shifts with the sign bits masked off. Written once for both
    of its callers: int64 tensors (the counter-based streams below) and numba-compiled
    loops, where :mod:`neurodyn.networks.spin_sweeps` compiles this very code with the
    constants as uint64 (numba's signed arithmetic does not wrap; unsigned does).
    """
    z = (z ^ ((z >> 30) & _LOW34)) * _MIX1
    z = (z ^ ((z >> 27) & _LOW37)) * _MIX2
    return z ^ ((z >> 31) & _LOW33)


def member_keys(
    seeds: Sequence[int], stream: str, device: torch.device | str = "cpu", *, salt: int = 0
) -> torch.Tensor:
    """One int64 key per member for the counter-based ``stream``; ``salt`` splits a stream."""
    if stream not in STREAMS:
        raise ValueError(f"unknown random stream {stream!r}; known: {sorted(STREAMS)}")
    seeds = check_seeds("seeds", seeds)
    salt = check_seed("salt", salt)
    keys = [
        signed64(
            int(
                np.random.SeedSequence([s, STREAMS[stream], 1, salt]).generate_state(1, np.uint64)[
                    0
                ]
            )
        )
        for s in seeds
    ]
    return torch.tensor(keys, dtype=torch.int64, device=device)


def check_keys(name: str, keys: torch.Tensor) -> torch.Tensor:
    """Member keys as :func:`member_keys` makes them: a non-empty 1-D int64 tensor."""
    check_tensor(name, keys, (None,), dtype=torch.int64, axes="(E,)")
    if keys.numel() == 0:
        raise ValueError(f"{name} must hold one key per ensemble member, got none")
    return keys


def counter_cells(counters: torch.Tensor, count: int) -> torch.Tensor:
    """The per-position half of the hash of (counter, position), (T, count) int64 for the
    T ``counters``; :func:`_hashed` mixes each member's key into it."""
    positions = torch.arange(count, dtype=torch.int64, device=counters.device)
    offsets = counters.reshape(-1, 1) * signed64(0x2545F4914F6CDD1D)  # wraps modulo 2^64
    return mix64(positions[None, :] + offsets + GOLDEN)


def _hashed(keys: torch.Tensor, counters: torch.Tensor, count: int):
    """The counter-based bits of (keys[e], counter, position) for ``count`` positions per
    counter: yields (first, n, bits) with bits (n, counters * count) int64 for members
    ``first`` ... ``first + n - 1``, in chunks of about CHUNK numbers (the int64
    temporaries stay in cache)."""
    cells = counter_cells(counters, count)  # (T, P)
    E, M = keys.shape[0], cells.numel()
    step = max(1, CHUNK // max(M, 1))
    for first in range(0, E, step):
        n = min(step, E - first)
        yield first, n, mix64((keys[first : first + n, None] ^ cells.view(1, M)) + GOLDEN)


def counter_uniform(
    keys: torch.Tensor,
    counter: int | torch.Tensor,
    shape: tuple[int, ...],
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Uniform numbers in (0, 1) for draw number ``counter``: shape (E, *shape).

    Entry [e, ...] depends only on (keys[e], counter, position): the same key and counter
    give the same numbers whatever the other members are. A 1-D tensor of counters gives
    (E, T, *shape), draw t being exactly what ``counter=counters[t]`` gives.
    """
    counters = torch.as_tensor(counter, dtype=torch.int64, device=keys.device)
    mantissa = 24 if dtype == torch.float32 else 53
    uniform = torch.empty(keys.shape[0], counters.numel() * math.prod(shape), dtype=dtype)
    uniform = uniform.to(keys.device)
    for first, n, bits in _hashed(keys, counters, math.prod(shape)):
        top = (bits >> (64 - mantissa)) & ((1 << mantissa) - 1)
        if mantissa < 32:  # int32 -> float converts faster than int64 -> float
            top = top.int()
        # (top + 1/2) 2^-m: exact in dtype up to the final rounding, as in float64
        uniform[first : first + n].copy_(top).add_(0.5).mul_(2.0**-mantissa)
    if counters.dim() == 0:
        return uniform.view(keys.shape[0], *shape)
    return uniform.view(keys.shape[0], counters.numel(), *shape)


def counter_noise(
    keys: torch.Tensor,
    counter: int,
    shape: tuple[int, ...],
    dtype: torch.dtype = torch.float32,
    *,
    scale: torch.Tensor | None = None,
) -> torch.Tensor:
    """Standard normal numbers (E, *shape) for draw ``counter``, times ``scale`` (E,) per
    member if given: z = erfinv(2u - 1) times :func:`noise_factor` (sqrt(2) scale, one
    float32 number per member) in float32, with the 2u - 1 of
    :func:`counter_noise_levels`. A quarter of the hashes of :func:`counter_normal`, one
    transcendental per number and no float64, so several times faster, for the bulk noise
    of network dynamics. Member e's numbers depend only on (keys[e], counter) and
    scale[e]."""
    count = math.prod(shape)
    levels = counter_noise_levels(keys, counter, count)
    normals = levels.erfinv_().mul_(noise_factor(scale, keys.shape[0], keys.device))
    return normals[:, :count].to(dtype).reshape(keys.shape[0], *shape)


def noise_factor(scale: torch.Tensor | None, members: int, device) -> torch.Tensor:
    """sqrt(2) times ``scale`` (E,) (1 if None) as a float32 column (E, 1): the factor of
    erfinv(2u - 1) in :func:`counter_noise`."""
    if scale is None:
        scale = torch.ones(members, dtype=torch.float64, device=device)
    return (math.sqrt(2.0) * scale.to(torch.float64)).to(torch.float32)[:, None]


def counter_noise_levels(keys: torch.Tensor, counter: int, count: int) -> torch.Tensor:
    """2u - 1 (E, count rounded up to even) float32 for the numbers of draw ``counter``:
    the two 32-bit halves of each 64-bit hash at 2p and 2p + 1, each by
    :func:`levels_from_bits`."""
    pairs = (count + 1) // 2
    counters = torch.as_tensor(counter, dtype=torch.int64, device=keys.device)
    levels = torch.empty(keys.shape[0], 2 * pairs, dtype=torch.float32, device=keys.device)
    for first, n, bits in _hashed(keys, counters, pairs):
        levels_from_bits(bits.view(torch.int32), out=levels[first : first + n])
    return levels


def levels_from_bits(bits: torch.Tensor, *, out: torch.Tensor) -> torch.Tensor:
    """2u - 1 of the low 23 bits k of each int32 in ``bits``, written into the float32
    ``out``: u = (k + 1/2) 2^-23, so 2u - 1 = k 2^-22 + 2^-23 - 1, exact in float32 and
    strictly inside (-1, 1): erfinv of it is finite (with 24 bits, (k + 1/2) 2^-23 - 1
    rounds to 1 for the largest k, and erfinv(1) is infinite). The tails of sqrt(2)
    erfinv(2u - 1) end at 5.29 (u = 2^-24)."""
    out.copy_(bits & ((1 << 23) - 1))
    return out.mul_(2.0**-22).add_(2.0**-23 - 1.0)


def split_keys(keys: torch.Tensor, stream: str) -> torch.Tensor:
    """Keys (E,) of the sub-stream ``stream`` of counter-based member ``keys``: each key
    hashed with the stream's number (SplitMix64), so that member e's sub-key depends on
    its own key alone and its numbers are independent of those of ``keys``."""
    if stream not in STREAMS:
        raise ValueError(f"unknown random stream {stream!r}; known: {sorted(STREAMS)}")
    check_keys("keys", keys)
    return mix64(keys + signed64((STREAMS[stream] + 1) * 0xD1B54A32D192ED03))


def counter_normal(
    keys: torch.Tensor,
    counter: int | torch.Tensor,
    shape: tuple[int, ...],
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Standard normal numbers by Box-Muller from two counter-based uniform draws."""
    both = counter_uniform(keys, counter, (2, *shape), torch.float64)
    first, second = both.select(-len(shape) - 1, 0), both.select(-len(shape) - 1, 1)
    radius = torch.sqrt(-2 * torch.log(first))
    return (radius * torch.cos(2 * torch.pi * second)).to(dtype)


class Draws:
    """Uniform and normal numbers for a task generator, shaped (*lead, *shape).

    From a ``torch.Generator`` (``lead = ()``) or, for an ensemble, from counter-based
    member ``keys`` and a ``counter`` (``lead = (E,)``): member e's numbers depend only on
    its key and the counter. Successive calls use successive sub-counters (at most 64 per
    counter).
    """

    CALLS = 64

    def __init__(
        self,
        generator: torch.Generator | None = None,
        *,
        keys: torch.Tensor | None = None,
        counter: int = 0,
    ):
        if (generator is None) == (keys is None):
            raise ValueError("give either generator= or keys=")
        self.generator, self.keys, self.counter, self.calls = generator, keys, counter, 0
        self.lead = () if keys is None else (keys.shape[0],)

    def _next(self) -> int:
        if self.calls >= self.CALLS:
            raise RuntimeError(f"a task drew more than {self.CALLS} times for one sample")
        self.calls += 1
        return self.counter * self.CALLS + self.calls - 1

    def uniform(self, *shape: int) -> torch.Tensor:
        if self.keys is None:
            return torch.rand(shape, generator=self.generator)
        return counter_uniform(self.keys, self._next(), shape)

    def normal(self, *shape: int) -> torch.Tensor:
        if self.keys is None:
            return torch.randn(shape, generator=self.generator)
        return counter_normal(self.keys, self._next(), shape)
