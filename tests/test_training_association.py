"""Storing associations: small sets are stored, impossible ones are not, idle members rest."""

import pytest
import torch

from neurodyn.networks.binary import BinarySteeringNetwork
from neurodyn.rules.steering import SteeringRule
from neurodyn.tasks.patterns import random_associations
from neurodyn.training import RandomStreams
from neurodyn.training.association import recall_accuracy, train_until_stored

SIZE, COUNT = 40, 32


def store(counts, patterns, labels, epochs=30, seeds=None):
    seeds = seeds or [0] * len(counts)
    network = BinarySteeringNetwork(SIZE, SIZE, 10, ensemble_size=len(counts))
    return network, *train_until_stored(
        network,
        network.init(seeds),
        SteeringRule(),
        patterns,
        labels,
        torch.tensor(counts),
        epochs=epochs,
        streams=RandomStreams.from_seeds(seeds),
    )


def conflicting_pair():
    """Member 0: 16 random associations; member 1: the same 16 patterns twice, the copies
    labelled differently, so no network can classify all 32 of them."""
    patterns, labels = random_associations(COUNT, input_size=SIZE, seed=3)
    patterns[16:], conflict = patterns[:16], labels.clone()
    conflict[16:] = (labels[:16] + 1) % 10
    return torch.stack([patterns, patterns]), torch.stack([labels, conflict])


def test_a_small_set_is_stored_and_an_impossible_one_is_not():
    patterns, labels = conflicting_pair()
    network, weights, storage = store([16, 32], patterns, labels)
    assert storage.stored.tolist() == [True, False]
    assert 1 <= int(storage.epoch[0]) <= 30 and int(storage.epoch[1]) == 0
    assert float(storage.recall[1]) <= 0.5 + 1e-6  # one of each conflicting pair at best
    recall = recall_accuracy(network, weights, patterns, labels, torch.tensor([16, 32]), sweeps=5)
    assert float(recall[1]) <= 0.5 + 1e-6


def test_a_member_with_fewer_patterns_rests_and_matches_its_run_alone():
    patterns, labels = random_associations(80, input_size=SIZE, seed=1)
    both = (torch.stack([patterns, patterns]), torch.stack([labels, labels]))
    _, together, storage = store([32, 80], *both, epochs=3, seeds=[4, 5])
    _, alone, storage_alone = store([32], patterns[None, :32], labels[None, :32], 3, [4])
    for name, tensor in alone.tensors().items():
        assert torch.equal(tensor[0], getattr(together, name)[0]), name
    assert float(storage.recall[0]) == float(storage_alone.recall[0])


def test_a_recall_threshold_stores_what_perfect_recall_does_not():
    """The conflicting set recalls at most half: stored at threshold 0.5 if it gets there,
    never at 1; a threshold outside (0, 1] is refused."""
    patterns, labels = conflicting_pair()
    network = BinarySteeringNetwork(SIZE, SIZE, 10, ensemble_size=2)
    options = {"epochs": 30, "streams": RandomStreams.from_seeds([0, 0])}
    args = (network, network.init([0, 0]), SteeringRule(), patterns, labels, torch.tensor([16, 32]))
    _, strict = train_until_stored(*args, **options)
    _, lenient = train_until_stored(*args, threshold=0.5, **options)
    assert strict.stored.tolist() == [True, False]
    assert bool(lenient.stored[1]) == bool(strict.recall[1] >= 0.5)
    assert 1 <= int(lenient.epoch[0]) <= int(strict.epoch[0])  # perfect recall is >= 0.5 too
    for bad in (0.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="threshold"):
            train_until_stored(*args, threshold=bad, **options)
