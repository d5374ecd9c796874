"""The neurogym adapter: equal to the native 2AF and DMS, and any other environment."""

import pytest
import torch

from neurodyn import rng
from neurodyn.tasks.decision import DelayMatchSample, PerceptualDecision

pytest.importorskip("neurogym")
from neurodyn.tasks.neurogym import NeurogymTask  # noqa: E402


def test_perceptual_decision_equals_native_generator():
    adapted = NeurogymTask("PerceptualDecisionMaking-v0", {"sigma": 0.0})
    batch = adapted.sample(64, torch.Generator().manual_seed(0))
    assert batch.inputs.shape == (64, 22, 3) and bool((batch.mask == 1).all())
    assert (adapted.input_size, adapted.output_size) == (3, 3)
    # neurogym >= 2.1 shows the fixation input only during fixation
    native = PerceptualDecision(sigma=0.0, fixation_cue="fixation")
    expected = native.trials(batch.info["ground_truth"], batch.info["coh"].float())
    torch.testing.assert_close(batch.inputs, expected.inputs, rtol=0, atol=1e-6)
    assert torch.equal(batch.targets, expected.targets)
    assert len(set(batch.info["coh"].tolist())) == 5


def test_delay_match_sample_equals_native_generator():
    adapted = NeurogymTask("DelayMatchSample-v0", {"sigma": 0.0})
    batch = adapted.sample(64, torch.Generator().manual_seed(1))
    sample = (batch.info["sample_theta"] > 1).long()  # theta 0 or pi
    match = (batch.info["ground_truth"] == 1).long()
    expected = DelayMatchSample(sigma=0.0).trials(sample, match)
    torch.testing.assert_close(batch.inputs, expected.inputs, rtol=0, atol=1e-6)
    assert torch.equal(batch.targets, expected.targets)
    assert set(match.tolist()) == {0, 1}


def test_noise_matches_the_native_statistics():
    noisy = NeurogymTask("PerceptualDecisionMaking-v0").sample(400, torch.Generator())
    clean = PerceptualDecision(fixation_cue="fixation").trials(
        noisy.info["ground_truth"], noisy.info["coh"].float()
    )
    residual = (noisy.inputs - clean.inputs)[:, 1:21, 1:]
    assert abs(float(residual.std()) - 0.1) < 0.005


def test_other_environment_padding_members_and_determinism():
    task = NeurogymTask("ContextDecisionMaking-v0")  # random delays: trials differ in length
    batch = task.sample(32, torch.Generator().manual_seed(3))
    lengths = batch.mask.sum(-1)
    assert len(set(lengths.tolist())) > 1 and batch.inputs.shape[-1] == task.input_size == 5
    steps = torch.arange(batch.mask.shape[-1])
    assert torch.equal(batch.mask, (steps < lengths[:, None]).float())
    assert bool((batch.inputs[batch.mask == 0] == 0).all())
    again = task.sample(32, torch.Generator().manual_seed(3))
    assert torch.equal(batch.inputs, again.inputs) and torch.equal(batch.targets, again.targets)

    keys = rng.member_keys([5, 6, 7], "task")
    members = task.sample_members(4, keys, counter=2)
    alone = task.sample_members(4, keys[1:2], counter=2)
    assert members.inputs.shape[:2] == (3, 4)
    width = alone.inputs.shape[2]
    assert torch.equal(members.inputs[1, :, :width], alone.inputs[0])
    assert torch.equal(members.targets[1, :, :width], alone.targets[0])


def test_accuracy_scores_the_last_step():
    task = NeurogymTask("GoNogo-v0")
    batch = task.sample_members(16, rng.member_keys([0], "task"), counter=0)
    perfect = torch.nn.functional.one_hot(batch.targets, task.output_size).float()
    assert task.accuracy(perfect, batch)["all"].tolist() == [1.0]
    assert task.accuracy(-perfect, batch)["all"].tolist() == [0.0]


def test_bad_environments_are_rejected():
    with pytest.raises(Exception, match="NoSuchTask"):
        NeurogymTask("NoSuchTask-v0")


def test_trains_a_rate_ensemble():
    from neurodyn.networks.rate import LeakyRateNetwork
    from neurodyn.rules import BPTT
    from neurodyn.training.rate import train_rate

    task = NeurogymTask("GoNogo-v0")
    network = LeakyRateNetwork(task.input_size, 32, task.output_size, ensemble_size=2)
    _, losses = train_rate(
        network,
        network.init([0, 1]),
        task,
        rule=BPTT(),
        iterations=60,
        learning_rate=0.03,
        seeds=[0, 1],
        batch_size=16,
    )
    assert bool((losses[-5:].mean(0) < 0.2 * losses[:5].mean(0)).all())
