"""The yang19 multitask: seeded per-member trials, one-hot rule inputs, neurogym's scores."""

import numpy as np
import pytest
import torch

from neurodyn import rng

pytest.importorskip("neurogym")
from neurodyn.tasks.multitask import YANG19, NeurogymMultitask  # noqa: E402

SMALL = ("yang19.go-v0", "yang19.dm1-v0", "yang19.dnms-v0")


@pytest.fixture(scope="module")
def task():
    return NeurogymMultitask(SMALL)


def test_the_yang19_set_shares_one_layout():
    full = NeurogymMultitask()
    assert len(full.names) == 20 and full.names[0] == "go" and full.env_ids == YANG19
    assert (full.input_size, full.output_size, full.alpha) == (33 + 20, 17, 0.0)


def test_trials_are_reproducible_and_members_independent(task):
    batch = task.sample(40, torch.Generator().manual_seed(0))
    again = task.sample(40, torch.Generator().manual_seed(0))
    assert torch.equal(batch.inputs, again.inputs) and torch.equal(batch.mask, again.mask)
    assert set(batch.info["task"].tolist()) == {0, 1, 2}  # interleaved per trial
    keys = rng.member_keys([3, 4, 3], "task")
    members = task.sample_members(6, keys, counter=1)
    alone = task.sample_members(6, keys[1:2], counter=1)
    width = alone.inputs.shape[2]
    assert torch.equal(members.inputs[1, :, :width], alone.inputs[0])
    assert torch.equal(members.targets[1, :, :width], alone.targets[0])
    assert torch.equal(members.info["task"][1], alone.info["task"][0])
    assert torch.equal(members.inputs[0], members.inputs[2])
    assert not torch.equal(members.inputs[0], members.inputs[1])


def test_rule_input_is_one_hot_on_the_trial_and_zero_on_the_padding(task):
    batch = task.sample(30, torch.Generator().manual_seed(1))
    rules = batch.inputs[..., 33:]
    steps = torch.arange(batch.inputs.shape[1])
    inside = steps[None, :] < batch.info["steps"][:, None]
    expected = torch.nn.functional.one_hot(batch.info["task"], 3).float()
    assert torch.equal(rules[inside], expected[:, None, :].expand_as(rules)[inside])
    assert bool((rules[~inside] == 0).all()) and bool((batch.mask[~inside] == 0).all())
    assert len(set(batch.info["steps"].tolist())) > 1  # padded to the longest trial
    # response periods weigh 5 (mask 1), the others 1 (mask 0.2), as the adapter
    assert set(batch.mask[inside].unique().tolist()) == {torch.tensor(0.2).item(), 1.0}


def _by_hand(task, batch, actions):
    """Per trial: the first action other than fixation in the decision period must be the
    ground truth; where the ground truth is fixation throughout, none may come."""
    scores = []
    for b in range(actions.shape[0]):
        component = task.components[int(batch.info["task"][b])][int(batch.info["variant"][b])]
        component.trial(int(batch.info["trial_seed"][b]))  # the trial's periods
        env = component.environment
        start, end = env.start_ind["decision"], env.end_ind["decision"]
        responses = [a for a in actions[b, start:end].tolist() if a != 0]
        truth = int(batch.targets[b, start])
        if truth == 0:
            scores.append(float(not responses))
        else:
            scores.append(float(bool(responses) and responses[0] == truth))
    return np.array(scores)


def test_accuracy_per_task_equals_a_hand_computation(task):
    batch = task.sample(24, torch.Generator().manual_seed(2))
    generator = torch.Generator().manual_seed(5)
    outputs = torch.nn.functional.one_hot(batch.targets, 17).float()[None].repeat(2, 1, 1, 1)
    outputs[1] += 2 * torch.rand(outputs.shape[1:], generator=generator)  # a noisy member
    scores = task.accuracy(outputs, batch)
    assert scores["all"][0] == 1.0
    expected = _by_hand(task, batch, outputs[1].argmax(-1))
    assert scores["all"][1].item() == pytest.approx(expected.mean())
    for k, name in enumerate(task.names):
        chosen = (batch.info["task"] == k).numpy()
        assert scores[name][1].item() == pytest.approx(expected[chosen].mean())


def test_bad_arguments_are_refused(task):
    with pytest.raises(ValueError, match="distinct"):
        NeurogymMultitask(("yang19.go-v0", "yang19.go-v0"))
    with pytest.raises(ValueError, match="one input layout"):
        NeurogymMultitask(("yang19.go-v0", "GoNogo-v0"))
    with pytest.raises(ValueError, match="index must be below 3"):
        task.sample_task(3, 4, torch.Generator())
