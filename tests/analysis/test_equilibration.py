"""Equilibration measurements: label-batched steered relaxation, free relaxation, AUROC."""

import itertools

import numpy as np
import torch

from neurodyn.analysis.equilibration import (
    auroc,
    fastest_label_accuracy,
    free_equilibration,
    label_sweeps,
    steered_relaxation,
)
from neurodyn.networks.binary import BinarySteeringNetwork
from neurodyn.rules.steering import SteeringRule


def small_network(seed=3):
    network = BinarySteeringNetwork(12, 40, 4, ensemble_size=2, self_coupling=0.3)
    inputs = torch.where(
        torch.rand(7, 12, generator=torch.Generator().manual_seed(seed)) < 0.5, -1.0, 1.0
    )
    return network, network.init([0, 1]), inputs


def test_per_label_sweeps_equal_separate_single_label_relaxations():
    network, weights, inputs = small_network()
    rule = SteeringRule()
    batched = label_sweeps(network, rule, weights, inputs, max_sweeps=20, batch_size=5)
    for label in range(network.num_classes):
        labels = torch.full((inputs.shape[0],), label)
        clamped, free = steered_relaxation(network, rule, weights, inputs, labels, max_sweeps=20)
        alone = torch.where(free.converged, free.sweeps, 21)
        assert torch.equal(batched["sweeps"][..., label], alone)
        removal = network.unstable_fraction(weights, clamped.state, inputs)
        assert torch.allclose(batched["unstable_removal"][..., label], removal)


def test_free_equilibration_matches_evaluation_and_censors_at_budget_plus_one():
    network, weights, inputs = small_network()
    measured = free_equilibration(network, weights, inputs, eval_sweeps=5, max_sweeps=40)
    relaxed = network.relax(weights, inputs, sweeps=5)
    assert torch.equal(
        measured["prediction"], network.logits(weights, relaxed.state.hidden).argmax(-1)
    )
    whole = network.relax(weights, inputs, sweeps=40)
    expected = torch.where(whole.converged, whole.sweeps, 41)
    assert torch.equal(measured["sweeps"], expected)
    assert torch.equal(measured["converged"], whole.converged)
    cut = free_equilibration(network, weights, inputs, eval_sweeps=1, max_sweeps=1)
    assert bool((cut["sweeps"][~cut["converged"]] == 2).all())


def test_the_correct_label_converges_fastest_when_feedback_alone_sets_the_state():
    """No input and no recurrence: the clamped state is sign(W_back r(y)); with readout
    weights that make label c's feedback pattern a free fixed point only for c = 0, the
    correct label (0) is stable at once and the others need a sweep more."""
    network = BinarySteeringNetwork(
        4, 6, 2, internal_strength=0.0, input_strength=1.0, feedback_strength=1.0
    )
    weights = network.init(0)
    weights.input_weights.zero_()
    pattern = torch.tensor([1.0, -1, 1, -1, 1, -1])
    weights.feedback_weights[0, 0, 0] = pattern
    weights.feedback_weights[0, 0, 1] = -pattern
    weights.input_weights[0, 0, 0] = pattern  # free field: x_0 * pattern, x_0 = +1
    inputs = torch.ones(3, 4)
    measured = label_sweeps(network, SteeringRule(), weights, inputs, max_sweeps=10)
    assert bool((measured["sweeps"][..., 0] < measured["sweeps"][..., 1]).all())
    accuracy, tied = fastest_label_accuracy(measured["sweeps"], torch.zeros(3, dtype=torch.long))
    assert float(accuracy) == 1.0 and float(tied) == 0.0


def test_ties_are_split_evenly():
    sweeps = torch.tensor([[[1, 1, 3], [2, 5, 5], [4, 4, 4]]])
    accuracy, tied = fastest_label_accuracy(sweeps, torch.tensor([0, 1, 2]))
    assert torch.allclose(accuracy, torch.tensor([(0.5 + 0 + 1 / 3) / 3]))
    assert torch.allclose(tied, torch.tensor([2 / 3]))


def test_auroc_equals_a_brute_force_pairwise_count():
    draws = np.random.default_rng(0)
    inside = draws.integers(0, 6, 17).astype(float)  # integer scores: many ties
    outside = draws.integers(1, 8, 11).astype(float)
    pairs = list(itertools.product(inside, outside))
    count = sum((o > i) + 0.5 * (o == i) for i, o in pairs) / len(pairs)
    assert abs(auroc(inside, outside) - count) < 1e-12
    assert auroc([0.0, 1.0], [2.0, 3.0]) == 1.0 and auroc([2.0, 3.0], [0.0, 1.0]) == 0.0
