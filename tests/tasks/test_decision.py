"""2AF and DMS generators: neurogym's default timings, inputs, targets and switches."""

import math

import pytest
import torch

from neurodyn.tasks.decision import DelayMatchSample, PerceptualDecision


def test_perceptual_decision_timing_inputs_and_targets():
    task = PerceptualDecision()
    assert task.periods() == {
        "fixation": (0, 1),
        "stimulus": (1, 21),
        "delay": (21, 21),
        "decision": (21, 22),
    }
    batch = task.sample(3000, torch.Generator().manual_seed(0))
    choice, coherence = batch.info["choice"], batch.info["coherence"]
    assert batch.inputs.shape == (3000, 22, 3) and batch.mask.shape == (3000, 22)
    assert torch.all(batch.inputs[:, :21, 0] == 1) and torch.all(batch.inputs[:, 21, 0] == 0)
    assert torch.all(batch.targets[:, :21] == 0) and torch.equal(batch.targets[:, 21], choice + 1)
    stimulus = batch.inputs[:, 1:21, 1:]
    sign = torch.where(choice == 0, 1.0, -1.0)
    evidence = (stimulus[..., 0] - stimulus[..., 1]).mean(1) * sign
    assert abs(float((evidence - coherence / 100).mean())) < 0.005
    assert abs(float((stimulus - stimulus.mean(1, keepdim=True)).std()) - 0.1) < 0.005
    assert (
        set(coherence.tolist()) == {0.0, 6.4, 12.8, 25.6, 51.2} or len(set(coherence.tolist())) == 5
    )
    assert torch.all(batch.inputs[:, 0, 1:] == 0) and torch.all(batch.inputs[:, 21, 1:] == 0)


def test_fixation_cue_switch():
    late = PerceptualDecision(fixation_cue="fixation").sample(2, torch.Generator().manual_seed(0))
    assert late.inputs[0, :, 0].tolist() == [1.0] + [0.0] * 21
    with pytest.raises(ValueError, match="fixation_cue"):
        PerceptualDecision(fixation_cue="always")


def test_delayed_match_to_sample():
    task = DelayMatchSample()
    spans = task.periods()
    assert spans == {
        "fixation": (0, 3),
        "sample": (3, 8),
        "delay": (8, 18),
        "test": (18, 23),
        "decision": (23, 32),
    }
    batch = task.sample(500, torch.Generator().manual_seed(2))
    first, match = batch.info["sample"], batch.info["match"]
    clean = DelayMatchSample(sigma=0.0).sample(500, torch.Generator().manual_seed(2))
    shown_sample = clean.inputs[:, 3:8, 1:].mean(1).argmax(-1)
    shown_test = clean.inputs[:, 18:23, 1:].mean(1).argmax(-1)
    assert torch.equal(shown_sample, first)
    assert torch.equal((shown_test == shown_sample).long(), match)
    assert torch.all(clean.inputs[:, 8:18, 1:] == 0)
    assert torch.equal(batch.targets[:, 23], torch.where(match == 1, 1, 2))
    assert torch.all(batch.inputs[:, 23:, 0] == 0) and torch.all(batch.inputs[:, :23, 0] == 1)
    noise = batch.inputs[:, 3:8, 1:] - clean.inputs[:, 3:8, 1:]
    assert abs(float(noise.std()) - 1 / math.sqrt(100)) < 0.01


def test_seeded_and_validated():
    a = DelayMatchSample().sample(4, torch.Generator().manual_seed(9))
    b = DelayMatchSample().sample(4, torch.Generator().manual_seed(9))
    assert torch.equal(a.inputs, b.inputs)
    with pytest.raises(ValueError, match="dt"):
        PerceptualDecision(dt=5000.0)
    with pytest.raises(ValueError, match="batch"):
        DelayMatchSample().sample(0)


def test_accuracy_of_perfect_and_wrong_outputs():
    task = PerceptualDecision()
    batch = task.sample(200, torch.Generator().manual_seed(3))
    perfect = torch.nn.functional.one_hot(batch.targets, 3).float()[None]
    wrong = perfect[..., [0, 2, 1]]
    scores = task.accuracy(torch.cat([perfect, wrong]), batch)
    assert scores["all"].tolist() == [1.0, 0.0]
    assert scores["coherence >= 12.8"].tolist() == [1.0, 0.0]
    dms = DelayMatchSample()
    trials = dms.sample(50, torch.Generator().manual_seed(4))
    exact = torch.nn.functional.one_hot(trials.targets, 3).float()[None]
    assert dms.accuracy(exact, trials)["all"].tolist() == [1.0]
