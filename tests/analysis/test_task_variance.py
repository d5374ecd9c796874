"""Task variance and unit clustering (Yang et al. 2019) against brute-force numpy."""

import numpy as np
import torch

from neurodyn.analysis.task_variance import ACTIVE_VARIANCE, cluster_units, task_variance


def test_task_variance_matches_brute_force_numpy():
    generator = np.random.default_rng(0)
    rates = generator.normal(size=(2, 5, 9, 4))
    starts, steps = np.array([2, 3, 2, 4, 3]), np.array([8, 9, 7, 9, 8])
    expected = np.zeros((2, 4))
    span = min(steps - starts)  # 5: trials aligned at the end of their fixation
    for e in range(2):
        for n in range(4):
            per_step = [
                np.var([rates[e, b, starts[b] + t, n] for b in range(5)]) for t in range(span)
            ]
            expected[e, n] = np.mean(per_step)
    found = task_variance(torch.tensor(rates), torch.tensor(starts), torch.tensor(steps))
    np.testing.assert_allclose(found.numpy(), expected, rtol=1e-12)


def test_clustering_drops_silent_units_and_groups_by_preferred_task():
    # units 0-2 vary in task 0, units 3-5 in task 2, unit 6 in both, unit 7 is silent
    variance = np.array(
        [[1, 0.01, 0], [2, 0, 0.02], [0.5, 0.01, 0.01], [0, 0.01, 1], [0.02, 0, 3],
         [0, 0.02, 0.7], [1, 0, 1], [1e-4, 1e-4, 1e-4]]
    )  # fmt: skip
    clustered = cluster_units(variance)
    assert ACTIVE_VARIANCE == 1e-3 and sorted(clustered["units"].tolist()) == list(range(7))
    np.testing.assert_allclose(clustered["fractions"].sum(1), 1.0)
    groups = {}
    for unit, label in zip(clustered["units"], clustered["labels"], strict=True):
        groups.setdefault(int(label), set()).add(int(unit))
    assert {0, 1, 2} in groups.values() and {3, 4, 5} in groups.values()
    assert groups[0] == {0, 1, 2}  # clusters ordered by their preferred task
    assert list(clustered["labels"]) == sorted(clustered["labels"])
    assert clustered["summary"]["active"] == 7
