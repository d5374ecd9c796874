"""Chunks of a sweep's grid: sub-products that cover every member once, in order."""

from __future__ import annotations

import itertools

import pytest

from neurodyn.sweeps.grid import chunk_grid, chunk_size_for, members

GRID = {
    "task": ["a", "b", "c"],
    "rule": ["x", "y"],
    "gain": [1, 2, 3, 4, 5],
    "lr": [1, 2, 3, 4],
    "seed": [0, 1, 2, 3, 4],
}


def product(chunk: dict) -> list[tuple]:
    return list(itertools.product(*chunk.values()))


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 20, 50, 99, 100, 101, 599, 600, 10_000])
def test_chunks_cover_the_grid_in_order_and_respect_the_size(size):
    chunks = chunk_grid(GRID, size)
    assert [m for c in chunks for m in product(c)] == product(GRID)  # each member once, in order
    assert all(members(c) <= size for c in chunks)
    assert all(list(c) == list(GRID) for c in chunks)  # every chunk names every axis


def test_chunks_fill_the_inner_axes_first():
    chunks = chunk_grid(GRID, 20)
    assert len(chunks) == 30 and all(members(c) == 20 for c in chunks)
    assert chunks[0] == {
        "task": ("a",),
        "rule": ("x",),
        "gain": (1,),
        "lr": (1, 2, 3, 4),
        "seed": (0, 1, 2, 3, 4),
    }
    blocks = chunk_grid(GRID, 50)  # blocks of two gains, the last one alone
    assert [c["gain"] for c in blocks[:3]] == [(1, 2), (3, 4), (5,)]
    assert len(chunk_grid(GRID, 600)) == 1 and len(chunk_grid(GRID, 1)) == 600


def test_chunk_size_for_a_number_of_chunks():
    assert chunk_size_for(GRID, 30) == 20 and chunk_size_for(GRID, 1) == 600
    assert (
        len(chunk_grid(GRID, chunk_size_for(GRID, 4))) == 6
    )  # 150 members: one chunk per (task, rule)


@pytest.mark.parametrize("size", [0, -1, 1.5, True, "3"])
def test_bad_chunk_sizes_are_refused(size):
    with pytest.raises(ValueError, match="chunk size must be an integer >= 1"):
        chunk_grid(GRID, size)


def test_an_empty_axis_is_refused():
    with pytest.raises(ValueError, match="at least one value"):
        chunk_grid({"gain": [1], "seed": []}, 3)
