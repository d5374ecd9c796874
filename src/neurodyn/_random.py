"""Explicit, per-member random streams (design principle 2: no global RNG).

A member of an ensemble owns independent streams, one per purpose (weight
initialisation, data order, stochastic dynamics), derived from its integer seed with
NumPy's ``SeedSequence``. A member's results therefore depend only on its own seed and
hyperparameters, never on which other members share the batch: an ensemble member
reproduces the single-network run with the same seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

STREAMS = {"init": 0, "data": 1, "dynamics": 2, "task": 3, "evaluation": 4}


def generator(seed: int, stream: str, device: torch.device | str = "cpu") -> torch.Generator:
    """A ``torch.Generator`` for ``stream`` of the member seeded with ``seed``."""
    if stream not in STREAMS:
        raise ValueError(f"unknown random stream {stream!r}; known: {sorted(STREAMS)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    state = np.random.SeedSequence([seed, STREAMS[stream]]).generate_state(1, dtype=np.uint64)
    gen = torch.Generator(device=device)
    gen.manual_seed(int(state[0]))
    return gen


def member_seeds(seed: int | Sequence[int], ensemble_size: int) -> list[int]:
    """One seed per member: an int is shared by all members (paired comparisons)."""
    if isinstance(seed, int) and not isinstance(seed, bool):
        return [seed] * ensemble_size
    seeds = [int(s) for s in seed]
    if len(seeds) != ensemble_size:
        raise ValueError(
            f"got {len(seeds)} seeds for an ensemble of {ensemble_size}; give one or one per member"
        )
    return seeds


def generators(
    seeds: Sequence[int], stream: str, device: torch.device | str = "cpu"
) -> list[torch.Generator]:
    return [generator(s, stream, device) for s in seeds]
