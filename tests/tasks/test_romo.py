"""Romo task: timing, amplitudes, targets and mask as Schuessler's generator."""

import pytest
import torch

from neurodyn import rng
from neurodyn.tasks.romo import Romo


def test_trial_structure_follows_the_generator():
    task = Romo()
    batch = task.sample(4000, torch.Generator().manual_seed(0))
    a1, a2, delay = batch.info["a1"], batch.info["a2"], batch.info["delay"]
    assert task.steps == 56 and batch.inputs.shape == (4000, 56, 1)
    assert float((a1 - a2).abs().min()) >= 0.2
    assert float(a1.min()) >= 0.5 and float(a2.max()) <= 1.5
    assert set(delay.tolist()) == set(range(4, 16))
    for i in range(20):
        d = int(delay[i])
        on = torch.nonzero(batch.inputs[i, :, 0]).flatten().tolist()
        assert on == [6, 7, 8 + d, 9 + d]
        window = torch.nonzero(batch.targets[i].sum(-1)).flatten().tolist()
        assert window == list(range(20 + d, 40 + d))
        channel = int(a2[i] > a1[i])
        assert torch.all(batch.targets[i, 20 + d : 40 + d, channel] == 0.5)
        assert torch.all(batch.targets[i, :, 1 - channel] == 0)
        masked = torch.nonzero(batch.mask[i, :, 0]).flatten().tolist()
        assert masked == list(range(0, 10 + d)) + list(range(20 + d, 40 + d))


def test_same_generator_seed_same_trials():
    first = Romo().sample(8, torch.Generator().manual_seed(5))
    again = Romo().sample(8, torch.Generator().manual_seed(5))
    assert torch.equal(first.inputs, again.inputs) and torch.equal(first.mask, again.mask)


def test_accuracy_reads_the_response_window():
    task = Romo()
    batch = task.sample(100, torch.Generator().manual_seed(1))
    assert task.accuracy(batch.targets[None], batch)["all"].tolist() == [1.0]
    assert task.accuracy(batch.targets[None].flip(-1), batch)["all"].tolist() == [0.0]


def test_member_streams_are_consecutive_trials_back_to_back():
    task, keys = Romo(), rng.member_keys([0, 1], "task")
    streams = task.sample_member_streams(3, 4, keys, counter=2)
    trials = task.sample_members(12, keys, 2).inputs  # (E, 12, 56, 1)
    assert streams.shape == (2, 3, 4 * 56, 1)
    assert torch.equal(streams[1, 2, 56:112], trials[1, 2 * 4 + 1])


def test_members_with_one_seed_share_the_trials_of_their_own_key():
    task, keys = Romo(), rng.member_keys([3, 1, 3, 3], "task")
    shared = task.sample_members(5, keys, counter=7)
    for e in range(4):
        alone = task.sample_members(5, keys[e : e + 1], counter=7)
        for name in ("inputs", "targets", "mask"):
            assert torch.equal(getattr(shared, name)[e], getattr(alone, name)[0])
        assert torch.equal(shared.info["a1"][e], alone.info["a1"][0])
    assert not torch.equal(shared.inputs[0], shared.inputs[1])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dt": 0.0}, "0 < dt <= tau"),
        ({"tau": 0.25}, "0 < dt <= tau"),
        ({"stimulus": 0.2}, "stimulus"),
        ({"decision_delay": -1.0}, "decision_delay"),
        ({"delay_min": 9.0}, "delay_min"),
        ({"min_difference": 0.6}, "minimum difference"),
    ],
)
def test_bad_configurations_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Romo(**kwargs)
