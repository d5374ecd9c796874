"""Loss weights per trial period (neurodyn.tasks.periods) on the native tasks."""

import pytest
import torch

from neurodyn.rules.losses import output_error, task_loss
from neurodyn.tasks.decision import DelayMatchSample, PerceptualDecision


@pytest.mark.parametrize("task_class", [PerceptualDecision, DelayMatchSample])
def test_native_default_is_unweighted(task_class):
    batch = task_class().sample(8, torch.Generator().manual_seed(0))
    assert bool((batch.mask == 1).all())


def test_weights_give_the_weighted_mean_of_the_step_losses():
    """Decision steps 5, the others 1: the loss is sum(w l_t) / sum(w) over the steps'
    cross entropies l_t, whatever the scale the mask stores the weights at."""
    task = DelayMatchSample(period_weights={"decision": 5.0})
    batch = task.sample(6, torch.Generator().manual_seed(1))
    start = task.periods()["decision"][0]
    assert torch.equal(batch.mask[:, :start], torch.full((6, start), 1 / 5))
    assert bool((batch.mask[:, start:] == 1).all())
    outputs = torch.randn(1, *batch.targets.shape, 3, generator=torch.Generator().manual_seed(2))
    step = -torch.log_softmax(outputs, -1).gather(-1, batch.targets[None, ..., None])[..., 0]
    weights = torch.ones(batch.targets.shape)
    weights[:, start:] = 5.0
    expected = (weights * step[0]).sum() / weights.sum()
    weighted = task_loss(outputs, batch.targets, batch.mask, task.loss)[0]
    torch.testing.assert_close(weighted, expected)
    unweighted = DelayMatchSample().trials(batch.info["sample"], batch.info["match"])
    plain = task_loss(outputs, batch.targets, unweighted.mask, task.loss)[0]
    torch.testing.assert_close(plain, step.mean())
    assert not torch.isclose(plain, expected)


def test_zero_weight_steps_do_not_count():
    task = PerceptualDecision(period_weights={"fixation": 0.0, "stimulus": 0.0})
    batch = task.sample(4, torch.Generator().manual_seed(3))
    start = task.periods()["decision"][0]
    outputs = torch.randn(1, *batch.targets.shape, 3, generator=torch.Generator().manual_seed(4))
    changed = outputs.clone()
    changed[:, :, :start] = 100 * torch.randn(changed[:, :, :start].shape)
    loss = task_loss(outputs, batch.targets, batch.mask, task.loss)
    assert torch.equal(loss, task_loss(changed, batch.targets, batch.mask, task.loss))
    delta = output_error(outputs, batch.targets, batch.mask, task.loss)
    assert bool((delta[:, :, :start] == 0).all()) and bool((delta[:, :, start:] != 0).any())


def test_bad_weights_are_refused():
    with pytest.raises(ValueError, match="no period 'response'.*fixation, stimulus"):
        PerceptualDecision(period_weights={"response": 5.0})
    with pytest.raises(ValueError, match="period 'decision'.*>= 0"):
        DelayMatchSample(period_weights={"decision": -1.0})
    with pytest.raises(TypeError, match="period_weights must map"):
        DelayMatchSample(period_weights=[("decision", 5.0)])
    silent = {name: 0.0 for name in PerceptualDecision().periods()}
    with pytest.raises(ValueError, match="weight 0"):
        PerceptualDecision(period_weights=silent).sample(2, torch.Generator())
