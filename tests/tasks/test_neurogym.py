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
    assert batch.inputs.shape == (64, 22, 3)
    assert (adapted.input_size, adapted.output_size) == (3, 3)
    # neurogym >= 2.1 shows the fixation input only during fixation; the adapter weighs
    # the decision 5 by default, the native task on request
    native = PerceptualDecision(sigma=0.0, fixation_cue="fixation", period_weights={"decision": 5})
    expected = native.trials(batch.info["ground_truth"], batch.info["coh"].float())
    torch.testing.assert_close(batch.inputs, expected.inputs, rtol=0, atol=1e-6)
    assert torch.equal(batch.targets, expected.targets)
    assert torch.equal(batch.mask, expected.mask)
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
    # random delays: trials differ in length; unweighted, the mask is 1 on every step
    task = NeurogymTask("ContextDecisionMaking-v0", decision_weight=1.0)
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


def test_accuracy_of_perfect_and_wrong_outputs():
    task = NeurogymTask("GoNogo-v0")
    batch = task.sample_members(16, rng.member_keys([0], "task"), counter=0)
    perfect = torch.nn.functional.one_hot(batch.targets, task.output_size).float()
    assert task.accuracy(perfect, batch)["all"].tolist() == [1.0]
    assert task.accuracy(-perfect, batch)["all"].tolist() == [0.0]


def _first_response_score(actions, targets, decision):
    """By hand, neurogym's convention: the first action other than fixation (0) in the
    decision period must be the ground truth; no response is right where it is 0."""
    responses = [a for a, d in zip(actions, decision, strict=True) if d and a != 0]
    truth = [t for t, d in zip(targets, decision, strict=True) if d]
    return float(responses[0] == truth[0]) if responses else float(truth[0] == 0)


@pytest.mark.parametrize("env_id", ["ContextDecisionMaking-v0", "GoNogo-v0"])
def test_accuracy_is_neurogyms_decision_score_by_hand(env_id):
    """Random actions: the replayed score equals the first-response rule computed here
    from the decision period's steps (mask weight 1 under the default weights)."""
    task = NeurogymTask(env_id)
    batch = task.sample(48, torch.Generator().manual_seed(4))
    generator = torch.Generator().manual_seed(5)
    actions = torch.randint(0, task.output_size, (3, *batch.targets.shape), generator=generator)
    actions[1] = torch.where(torch.rand(batch.targets.shape, generator=generator) < 0.8, 0, 1)
    outputs = torch.nn.functional.one_hot(actions, task.output_size).float()
    decision = batch.mask == 1.0  # the response periods
    expected = [
        sum(
            _first_response_score(a.tolist(), t.tolist(), d.tolist())
            for a, t, d in zip(member, batch.targets, decision, strict=True)
        )
        / 48
        for member in actions
    ]
    assert task.accuracy(outputs, batch)["all"].tolist() == pytest.approx(expected)
    assert 0 < min(expected) and max(expected) < 1


def test_period_weights_default_explicit_and_zero():
    task = NeurogymTask("PerceptualDecisionMaking-v0")
    assert [name for name, on in task.periods.items() if on] == ["decision"]
    batch = task.sample(8, torch.Generator().manual_seed(0))
    expected = torch.full((22,), 1 / 5)
    expected[21] = 1.0  # the decision step weighs 5, the others 1: divided by 5
    assert torch.equal(batch.mask, expected.expand(8, 22))
    plain = NeurogymTask("PerceptualDecisionMaking-v0", decision_weight=1.0)
    assert bool((plain.sample(8, torch.Generator()).mask == 1).all())
    zero = NeurogymTask("PerceptualDecisionMaking-v0", period_weights={"fixation": 0.0})
    assert zero.sample(8, torch.Generator()).mask[:, 0].tolist() == [0.0] * 8
    with pytest.raises(ValueError, match="no period 'go'.*fixation, stimulus"):
        NeurogymTask("PerceptualDecisionMaking-v0", period_weights={"go": 2.0})
    with pytest.raises(ValueError, match="decision_weight"):
        NeurogymTask("GoNogo-v0", decision_weight=-1.0)
    silent = {"fixation": 0, "stimulus": 0, "delay": 0, "decision": 0}
    with pytest.raises(ValueError, match="weight 0"):
        NeurogymTask("PerceptualDecisionMaking-v0", period_weights=silent).sample(
            2, torch.Generator()
        )


def test_response_periods_follow_the_ground_truth():
    """ "test" is DelayMatchCategory's response period, "production" ReadySetGo's."""
    category = NeurogymTask("DelayMatchCategory-v0").periods
    assert [name for name, on in category.items() if on] == ["test"]
    timing = NeurogymTask("ReadySetGo-v0").periods
    assert [name for name, on in timing.items() if on] == ["production"]


@pytest.mark.parametrize(
    ("env_id", "reason"),
    [
        ("Bandit-v0", "reinforcement-learning.*bandit"),
        ("DawTwoStep-v0", "reinforcement-learning.*two-step"),
        ("PostDecisionWager-v0", "reinforcement-learning.*wagering"),
        ("EconomicDecisionMaking-v0", "reinforcement-learning.*reward"),
        ("Null-v0", "no ground truth"),
        ("Reaching1D-v0", r"holds \d+, not one of its 3 actions"),  # a position to reach
        ("Reaching1DWithSelfDistraction-v0", "not one of its 3 actions"),
    ],
)
def test_reinforcement_learning_environments_are_refused(env_id, reason):
    with pytest.raises(ValueError, match=reason):
        assert NeurogymTask(env_id).periods  # the probe of the trials refuses some


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


@pytest.mark.parametrize(
    ("env_id", "choices"),
    [
        ("PerceptualDecisionMaking-v0", 2),
        ("GoNogo-v0", 2),
        ("AntiReach-v0", 32),
        ("ReadySetGo-v0", 1),
    ],
)
def test_the_answers_a_trial_can_have(env_id, choices):
    # GoNogo: respond or withhold (its no-go trials' ground truth is fixation throughout)
    assert NeurogymTask(env_id).choices == choices
