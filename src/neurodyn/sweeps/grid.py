"""A sweep's grid: the values of each member axis, and its split into chunks.

An experiment's members are the product of its member axes (for ``rate-gain``: task x
rule x gain x learning rate x seed), each axis listed by a tuple config field. A chunk is
a sub-product: one value of each outer axis, a block of consecutive values of one axis,
and every value of the axes inside it, so that each chunk is again one config of the
experiment (one ensemble, one batched program, one job).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def chunk_grid(grid: Mapping[str, Sequence[Any]], chunk_size: int) -> list[dict[str, tuple]]:
    """Split the product of ``grid`` (axis -> values, the outermost axis first) into
    sub-products of at most ``chunk_size`` members, in the grid's order.

    The chunks fill the innermost axes first: with axes of sizes (3, 2, 5, 4, 5) and
    ``chunk_size`` 20 each chunk holds one value of the first three axes and all 20
    (learning rate, seed) pairs; ``chunk_size`` 50 gives blocks of 2 values of the third
    axis (the last block holds what is left). A ``chunk_size`` of at least the grid's size
    gives one chunk.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"the chunk size must be an integer >= 1, got {chunk_size!r}")
    axes = [(name, tuple(values)) for name, values in grid.items()]
    if any(not values for _, values in axes):
        raise ValueError("every axis of a sweep needs at least one value")
    # The outermost axis whose inner product fits in a chunk is the one split in blocks.
    split, inner = len(axes), 1
    while split > 0 and inner * len(axes[split - 1][1]) <= chunk_size:
        split -= 1
        inner *= len(axes[split][1])
    if split == 0:
        return [dict(axes)]
    name, values = axes[split - 1]
    block = max(1, chunk_size // inner)
    chunks = [{}]
    for outer_name, outer_values in axes[: split - 1]:
        chunks = [c | {outer_name: (v,)} for c in chunks for v in outer_values]
    blocks = [values[i : i + block] for i in range(0, len(values), block)]
    return [c | {name: b} | dict(axes[split:]) for c in chunks for b in blocks]


def chunk_size_for(grid: Mapping[str, Sequence[Any]], chunks: int) -> int:
    """The chunk size that splits ``grid`` into about ``chunks`` chunks (never fewer
    members per chunk than needed for that many; the count may differ since chunks are
    sub-products)."""
    if isinstance(chunks, bool) or not isinstance(chunks, int) or chunks < 1:
        raise ValueError(f"the number of chunks must be an integer >= 1, got {chunks!r}")
    return max(1, math.ceil(members(grid) / chunks))


def members(grid: Mapping[str, Sequence[Any]]) -> int:
    """The number of members of ``grid``: the product of its axis lengths."""
    return math.prod(len(values) for values in grid.values())
