"""Sussillo & Barak (2013), figure 2: a network trained on the 3-bit flip-flop holds each
of the 8 output patterns in a stable fixed point, with saddles between them."""

from __future__ import annotations

import torch

from neurodyn.analysis.lyapunov import StepDynamics
from neurodyn.analysis.slow_points import find_fixed_points, sample_initial_states
from neurodyn.networks.rate import RateWeights
from tests.tasks.test_flipflop import trained_ensemble

SEEDS = [0, 1, 2, 3, 4]


def test_a_trained_flip_flop_has_eight_stable_points_one_per_pattern_and_saddles():
    task, network, weights = trained_ensemble(SEEDS)  # tanh, N = 64, BPTT, >= 99% accuracy
    trials = task.sample(32, torch.Generator().manual_seed(5))
    with torch.no_grad():
        _, hidden = network.run(weights, trials.inputs)
    candidates = sample_initial_states(hidden.double(), 256, noise_scale=0.05, seed=SEEDS)
    weights = RateWeights(*(p.double() for p in weights.parameters()))  # q to 1e-10
    found = find_fixed_points(
        StepDynamics.of_network(network, weights),
        candidates,
        torch.zeros(3, dtype=torch.float64),  # no pulse: the memory period
        max_iterations=3000,
        q_tolerance=1e-10,
        unique_tolerance=1e-2,
    )
    right = 0
    for e in range(len(SEEDS)):
        labels = found.labels[e]
        points = found.points[e, : len(labels)]
        stable = points[[label == "stable" for label in labels]]
        outputs = network.rate(stable) @ weights.readout[e]  # y = w^T r(h*)
        patterns = {tuple(row) for row in torch.sign(outputs).int().tolist()}
        saddles = labels.count("saddle")
        right += len(stable) == 8 and len(patterns) == 8 and saddles > 0
    assert right >= 4, f"{right} of {len(SEEDS)} seeds have 8 stable points, one per pattern"
