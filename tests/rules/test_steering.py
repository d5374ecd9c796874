"""Steering rule: the stability update by hand and by loop, phases and options."""

import math

import pytest
import torch

from neurodyn.networks.binary import BinarySteeringNetwork, SteeringState, SteeringWeights
from neurodyn.rules.steering import SteeringRule
from neurodyn.tasks.patterns import prototype_patterns
from neurodyn.training import RandomStreams, evaluate, train


def hand_network():
    """H = 2, N = 1, C = 2; J_12 = 0.2, J_21 = -0.4, J_D = 0.5 (stored J[j, i] = J_ij)."""
    network = BinarySteeringNetwork(1, 2, 2, self_coupling=0.5, input_strength=2.0)
    weights = SteeringWeights(
        couplings=torch.tensor([[[[0.5, -0.4], [0.2, 0.5]]]]),
        input_weights=torch.tensor([[[[1.0, 0.3]]]]),
        readout_weights=torch.tensor([[[[0.5, -0.5], [1.0, 2.0]]]]),
        feedback_weights=torch.zeros(1, 1, 2, 2),
    )
    state = SteeringState(torch.tensor([[[[1.0, -1.0]]]]), torch.tensor([[[1.0, -1.0]]]))
    return network, weights, state


HAND_RULE = SteeringRule(
    hidden_threshold=0.9,
    readout_threshold=3.0,
    coupling_learning_rate=0.1,
    input_learning_rate=0.2,
    readout_learning_rate=0.3,
    coupling_weight_decay=0.5,
    input_weight_decay=0.0,
    readout_weight_decay=0.1,
)


def test_stability_update_against_a_hand_worked_example():
    # h1 = 0.5 + 0.2 (-1) + 1.0 = 1.3 <= 0.9 + 0.5 and s2 h2 = 0.6 <= 1.4: both unstable.
    # eta_J = 0.1 / sqrt(2), k = 1 - 0.5 eta_J: J_12 <- 0.2 k - eta_J, J_21 <- -0.4 k - eta_J.
    # eta_in = 0.2 * 2 / sqrt(1) = 0.4: W_in <- (1.0 + 0.4, 0.3 - 0.4).
    # f = (-0.5, -2.5): both readouts unstable; eta_W = 0.3 / sqrt(2), decay 1 - 0.1 eta_W.
    network, weights, state = hand_network()
    new, unstable, hidden_updates, readout_updates = HAND_RULE.update(
        network, weights, torch.tensor([[1.0]]), torch.tensor([0]), state
    )
    eta_j, eta_w = 0.1 / math.sqrt(2), 0.3 / math.sqrt(2)
    keep_j, keep_w = 1 - 0.5 * eta_j, 1 - 0.1 * eta_w
    expected_j = torch.tensor([[0.5, -0.4 * keep_j - eta_j], [0.2 * keep_j - eta_j, 0.5]])
    expected_out = torch.tensor(
        [
            [0.5 * keep_w + eta_w, -0.5 * keep_w - eta_w],
            [1.0 * keep_w - eta_w, 2.0 * keep_w + eta_w],
        ]
    )
    torch.testing.assert_close(new.couplings[0, 0], expected_j)
    torch.testing.assert_close(new.input_weights[0, 0], torch.tensor([[1.4, -0.1]]))
    torch.testing.assert_close(new.readout_weights[0, 0], expected_out)
    assert float(hidden_updates) == 1.0 and float(readout_updates) == 1.0
    assert float(unstable) == 0.0  # s h = 1.3 and 0.6 are both positive
    # the functional form leaves the given weights alone
    assert float(weights.couplings[0, 0, 1, 0]) == pytest.approx(0.2)


def test_readout_label_quirk_uses_the_authors_targets():
    network, weights, state = hand_network()
    quirk = SteeringRule(readout_label_quirk=True, readout_learning_rate=0.3)
    targets = quirk.readout_targets(network, torch.tensor([[0]]))
    torch.testing.assert_close(targets, torch.tensor([[[0.5, -math.sqrt(2) / 4]]]))


def loop_update(network, rule, weights, x, labels, state):
    """The rule of the module docstring, one weight at a time, in float64."""
    E, L, B, H = state.hidden.shape
    N, C = network.input_size, network.num_classes
    new = {k: v.double().clone() for k, v in weights.tensors().items()}
    old = {k: v.double() for k, v in weights.tensors().items()}
    s = state.hidden.double()
    for e in range(E):
        lam = float(network.ferromagnetic_strength[e])
        thr = rule.hidden_threshold[e] + float(network.self_coupling[e]) + (lam if L > 1 else 0)
        eta_j = rule.coupling_learning_rate[e] * float(network.internal_strength[e]) / math.sqrt(H)
        eta_in = rule.input_learning_rate[e] * float(network.input_strength[e]) / math.sqrt(N)
        eta_w = rule.readout_learning_rate[e] * float(network.readout_strength[e]) / math.sqrt(H)
        keep_j, keep_in, keep_w = (
            1 - rule.coupling_weight_decay * eta_j,
            1 - rule.input_weight_decay * eta_in,
            1 - rule.readout_weight_decay * eta_w,
        )
        new["couplings"][e] *= keep_j
        new["input_weights"][e] *= keep_in
        new["readout_weights"][e, L - 1] *= keep_w
        for b in range(B):
            for layer in range(L):
                for i in range(H):
                    h = sum(old["couplings"][e, layer, j, i] * s[e, layer, b, j] for j in range(H))
                    h += sum(old["input_weights"][e, layer, n, i] * x[b, n] for n in range(N))
                    h += lam * (s[e, layer - 1, b, i] if layer > 0 else 0.0)
                    h += lam * (s[e, layer + 1, b, i] if layer < L - 1 else 0.0)
                    if s[e, layer, b, i] * h <= thr:
                        for j in range(H):
                            if j != i:
                                new["couplings"][e, layer, j, i] += (
                                    eta_j / math.sqrt(B) * s[e, layer, b, i] * s[e, layer, b, j]
                                )
                        for n in range(N):
                            new["input_weights"][e, layer, n, i] += (
                                eta_in / math.sqrt(B) * s[e, layer, b, i] * x[b, n]
                            )
            for c in range(C):
                target = 1.0 if labels[b] == c else -1.0
                f = sum(
                    old["readout_weights"][e, L - 1, j, c] * s[e, L - 1, b, j] for j in range(H)
                )
                if target * f <= rule.readout_threshold[e]:
                    for j in range(H):
                        new["readout_weights"][e, L - 1, j, c] += (
                            eta_w / math.sqrt(B) * target * s[e, L - 1, b, j]
                        )
    for e in range(E):
        for layer in range(L):
            new["couplings"][e, layer].diagonal().copy_(old["couplings"][e, layer].diagonal())
    return new


def test_update_matches_a_direct_loop_for_an_ensemble_of_deep_nets():
    network = BinarySteeringNetwork(
        5,
        6,
        3,
        num_layers=2,
        ensemble_size=2,
        self_coupling=[0.5, 0.1],
        ferromagnetic_strength=[1.0, 0.3],
        input_strength=[2.0, 4.0],
    )
    rule = SteeringRule(
        hidden_threshold=(0.9, 0.3),
        readout_threshold=(3.0, 1.0),
        coupling_learning_rate=(0.05, 0.01),
        input_learning_rate=(0.03, 0.2),
        readout_learning_rate=(0.1, 0.4),
        coupling_weight_decay=0.3,
        input_weight_decay=0.1,
        readout_weight_decay=0.2,
    )
    weights = network.init([0, 1])
    x = torch.randint(0, 2, (4, 5)).float() * 2 - 1
    labels = torch.tensor([0, 2, 1, 1])
    state = rule.relax(network, weights, x, labels).state
    new, *_ = rule.update(network, weights, x, labels, state)
    expected = loop_update(network, rule, weights, x, labels, state)
    for name, tensor in new.tensors().items():
        if name == "readout_weights":  # layer 0 holds readout skips (strength 0: untouched)
            tensor, expected[name] = tensor[:, -1:], expected[name][:, -1:]
        torch.testing.assert_close(tensor.double(), expected[name], atol=1e-5, rtol=1e-5)


def test_inplace_update_equals_the_functional_one():
    network = BinarySteeringNetwork(10, 20, 3, ensemble_size=2)
    rule = SteeringRule(coupling_weight_decay=(0.1, 0.5))  # per-member decay: unfused path
    weights = network.init([1, 2])
    x = torch.randint(0, 2, (8, 10)).float() * 2 - 1
    labels = torch.randint(0, 3, (8,))
    functional, stats = rule.step(network, weights, x, labels)
    inplace, stats_inplace = rule.step(network, weights.clone(), x, labels, inplace=True)
    for name, tensor in functional.tensors().items():
        assert torch.equal(tensor, getattr(inplace, name)), name
    assert torch.equal(stats.sweeps, stats_inplace.sweeps)


def test_feedback_is_removed_before_the_update():
    rule = SteeringRule(train_sweeps=5)
    assert rule.free_schedule() == [0.0] * 5
    ramp = SteeringRule(train_sweeps=5, feedback_removal="ramp").free_schedule()
    assert ramp == pytest.approx([0.8, 0.6, 0.4, 0.2, 0.0])
    with pytest.raises(ValueError, match="feedback_removal"):
        SteeringRule(feedback_removal="sudden")


def test_clamped_phase_steers_towards_the_label():
    """With strong feedback and no recurrence the clamped state is sign(W_in x + W_back r(y))."""
    network = BinarySteeringNetwork(8, 30, 4, internal_strength=0.0, feedback_strength=50.0)
    weights = network.init(0)
    x = torch.randint(0, 2, (6, 8)).float() * 2 - 1
    labels = torch.tensor([0, 1, 2, 3, 0, 1])
    clamped = SteeringRule(steered=False).relax(network, weights, x, labels).state
    code = network.label_code(network.one_hot(labels[None]))
    expected = torch.sign(
        network.input_drive(weights, network.prepare_inputs(x))[:, 0]
        + code @ weights.feedback_weights[:, 0]
    )
    assert torch.equal(clamped.hidden[:, 0], expected)
    assert torch.equal(clamped.readout, network.one_hot(labels[None]))


def test_too_few_sweeps_for_the_depth_are_rejected():
    network = BinarySteeringNetwork(4, 5, 3, num_layers=3)
    with pytest.raises(ValueError, match="train_sweeps"):
        SteeringRule(train_sweeps=3).relax(
            network, network.init(0), torch.ones(2, 4), torch.tensor([0, 1])
        )


def test_learning_beats_chance_and_random_features_on_prototypes():
    data = prototype_patterns(
        input_size=40, train_per_class=60, test_per_class=40, flip_probability=0.25, seed=3
    )
    network = BinarySteeringNetwork(40, 100, 10, input_strength=3.0)
    weights = network.init(0)
    before, _ = evaluate(network, weights, data.test_inputs, data.test_labels)
    trained = train(
        network,
        weights,
        SteeringRule(),
        data,
        epochs=4,
        streams=RandomStreams.from_seeds([0]),
        progress=False,
    )
    after, unstable = evaluate(network, trained, data.test_inputs, data.test_labels)
    assert float(before) < 0.3 < 0.8 < float(after)
    assert float(unstable) < 0.05
