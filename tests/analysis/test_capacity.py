"""Capacity: the Hebbian reference (~0.14 N), the capacity search and the slope fit."""

import math

import pytest
import torch

from neurodyn.analysis.capacity import (
    capacity_slope,
    hebbian_couplings,
    hebbian_retention,
    narrow_bracket,
    search_candidates,
    search_capacity,
)


def test_hebbian_capacity_is_about_0_14_n():
    generator = torch.Generator().manual_seed(0)
    n = 200

    def overlap(load: float) -> float:
        k = int(load * n)
        patterns = torch.randint(0, 2, (8, k, n), generator=generator).float() * 2 - 1
        return float(hebbian_retention(patterns, generator=generator).mean())

    assert overlap(0.05) == 1.0
    assert overlap(0.10) > 0.99
    assert overlap(0.22) < 0.85


def test_hebbian_couplings_are_symmetric_with_zero_diagonal():
    patterns = torch.randint(0, 2, (2, 5, 30)).float() * 2 - 1
    couplings = hebbian_couplings(patterns)
    assert torch.equal(couplings, couplings.transpose(1, 2))
    assert torch.all(couplings.diagonal(dim1=1, dim2=2) == 0)


THRESHOLDS = [3, 16, 37, 120, 199]  # largest stored P of five synthetic instances


def monotone_stores(calls):
    def stores(tests):
        calls.append(tests)
        return [[p <= t for p in test] for test, t in zip(tests, THRESHOLDS, strict=True)]

    return stores


@pytest.mark.parametrize("candidates", [1, 3])
def test_search_finds_the_threshold_of_a_monotone_predicate(candidates):
    calls = []
    lower, upper = search_capacity(
        monotone_stores(calls), [0] * 5, [200] * 5, candidates=candidates
    )
    assert lower == THRESHOLDS
    assert upper == [t + 1 for t in THRESHOLDS]
    assert all(len(test) <= candidates for tests in calls for test in tests)
    # bisection halves the bracket: about log2(200) rounds; wider rounds need fewer
    assert len(calls) == (8 if candidates == 1 else 4)


def test_search_stops_at_the_tolerance_and_below_the_minimum():
    lower, upper = search_capacity(monotone_stores([]), [0] * 5, [200] * 5, tolerance=8)
    for lo, up, t in zip(lower, upper, THRESHOLDS, strict=True):
        assert lo <= t < up and up - lo <= 8
    lower, upper = search_capacity(monotone_stores([]), [0] * 5, [200] * 5, minimum=16)
    assert lower == [0, *THRESHOLDS[1:]] and upper[0] == 16  # 3 < 16: not even 16 stored


def test_a_search_resumed_from_a_checkpointed_round_ends_identically():
    rounds = []
    whole = search_capacity(
        monotone_stores([]), [0] * 5, [200] * 5, on_round=lambda lo, up: rounds.append((lo, up))
    )
    resumed = search_capacity(monotone_stores([]), *rounds[2])
    assert resumed == whole


def test_narrowing_ignores_a_stored_count_above_a_failed_one():
    assert narrow_bracket(0, 100, [25, 50, 75], [True, False, True]) == (25, 50)
    assert search_candidates(25, 50, 3) == [31, 38, 44]
    assert search_candidates(40, 43, 3) == [41, 42] and search_candidates(41, 42, 3) == []


def test_capacity_slope_recovers_known_lines_and_exponents():
    widths = [100, 200, 400, 800]
    seed_slopes = [0.3, 0.4, 0.5]
    capacities = [[a * h + 7 for h in widths] for a in seed_slopes]
    fit = capacity_slope(widths, capacities)
    assert fit["slope"] == pytest.approx(0.4)
    assert fit["seed_slopes"] == pytest.approx(seed_slopes)
    assert fit["standard_error"] == pytest.approx(0.1 / math.sqrt(3))
    assert fit["intercept"] == pytest.approx(7)
    power = capacity_slope(widths, [[2 * h**1.5 for h in widths]])
    assert power["exponent"] == pytest.approx(1.5) and power["standard_error"] is None
    with pytest.raises(ValueError, match="two widths"):
        capacity_slope([100], [[10]])
