"""An ensemble member's run does not depend on the other members; runs are deterministic
from the seed.

Members are compared with the same member trained beside a different partner, bit for
bit. A lone network (E = 1) is not compared bit for bit: for a batch of one PyTorch hands
``baddbmm`` to ``addmm``, which MKL on Intel CPUs computes with a fused accumulation (one
rounding where the batched product has two), and a rounding difference can flip a
binary unit.
"""

import pytest
import torch

from neurodyn.networks import binary
from neurodyn.networks.binary import BinarySteeringNetwork
from neurodyn.rules.steering import SteeringRule
from neurodyn.tasks.patterns import prototype_patterns
from neurodyn.training import RandomStreams, train

DATA = prototype_patterns(input_size=30, train_per_class=20, test_per_class=10, seed=4)
MEMBERS = [  # (seed, self_coupling, feedback_strength, coupling_learning_rate, hidden_threshold)
    (3, 0.5, 0.9, 0.005, 0.9),
    (4, 0.0, 0.5, 0.02, 0.3),
    (3, 0.8, 1.2, 0.01, 1.2),
]


def run(members, hidden=60, epochs=2, **network_options):
    network = BinarySteeringNetwork(
        30,
        hidden,
        10,
        ensemble_size=len(members),
        self_coupling=[m[1] for m in members],
        feedback_strength=[m[2] for m in members],
        **network_options,
    )
    rule = SteeringRule(
        coupling_learning_rate=tuple(m[3] for m in members),
        hidden_threshold=tuple(m[4] for m in members),
    )
    seeds = [m[0] for m in members]
    history = []
    weights = train(
        network,
        network.init(seeds),
        rule,
        DATA,
        epochs=epochs,
        streams=RandomStreams.from_seeds(seeds),
        progress=False,
        on_epoch=lambda metrics, _: history.append(metrics),
    )
    return weights, history


def beside_another(e, **options):
    """Member e trained as member 0 of a pair with the next member as its partner."""
    return run([MEMBERS[e], MEMBERS[(e + 1) % len(MEMBERS)]], **options)


@pytest.mark.parametrize("incremental", [False, True])
def test_ensemble_members_match_their_runs_beside_other_members_exactly(monkeypatch, incremental):
    if incremental:
        monkeypatch.setattr(binary, "INCREMENTAL_MIN_HIDDEN", 1)
    ensemble, ensemble_history = run(MEMBERS)
    for e in range(len(MEMBERS)):
        pair, pair_history = beside_another(e)
        for name, tensor in pair.tensors().items():
            assert torch.equal(tensor[0], getattr(ensemble, name)[e]), (e, name)
        for mine, theirs in zip(pair_history, ensemble_history, strict=True):
            assert float(mine.test_accuracy[0]) == float(theirs.test_accuracy[e])
            assert float(mine.sweeps[0]) == float(theirs.sweeps[e]) if mine.sweeps.numel() else True


def test_ensemble_members_match_with_stochastic_updates():
    ensemble, _ = run(MEMBERS, epochs=1, update_probability=0.8)
    pair, _ = run(MEMBERS[1:], epochs=1, update_probability=0.8)
    assert torch.equal(pair.couplings[0], ensemble.couplings[1])


def test_same_seed_same_numbers_different_seed_different_numbers():
    first, history = run(MEMBERS[:1])
    second, again = run(MEMBERS[:1])
    other, _ = run([(5, *MEMBERS[0][1:])])
    assert torch.equal(first.couplings, second.couplings)
    assert [float(m.test_accuracy[0]) for m in history] == [
        float(m.test_accuracy[0]) for m in again
    ]
    assert not torch.equal(first.couplings, other.couplings)


def test_training_does_not_modify_the_given_weights():
    network = BinarySteeringNetwork(30, 40, 10)
    weights = network.init(0)
    before = weights.clone()
    train(
        network,
        weights,
        SteeringRule(),
        DATA,
        epochs=1,
        streams=RandomStreams.from_seeds([0]),
        progress=False,
    )
    assert torch.equal(before.couplings, weights.couplings)


def test_training_rejects_mismatched_data_and_batches():
    network = BinarySteeringNetwork(31, 40, 10)
    with pytest.raises(ValueError, match="31"):
        train(
            network,
            network.init(0),
            SteeringRule(),
            DATA,
            epochs=1,
            streams=RandomStreams.from_seeds([0]),
            progress=False,
        )
    network = BinarySteeringNetwork(30, 40, 10)
    with pytest.raises(ValueError, match="batch_size"):
        train(
            network,
            network.init(0),
            SteeringRule(),
            DATA,
            epochs=1,
            batch_size=10_000,
            streams=RandomStreams.from_seeds([0]),
            progress=False,
        )
