"""Loss weights per trial period, the generalisation of a task's 0/1 mask.

A trial-based task's ``mask`` weights each step's term of the loss, which is the weighted
mean sum(mask * loss_t) / sum(mask) (:func:`neurodyn.rules.losses.task_loss`). Weights are
therefore relative: scaling all of them leaves the loss unchanged, so tasks store them
divided by the largest (a mask in [0, 1]), and weight 0 takes a step out of the loss.

In many cognitive tasks the decision is a few steps at the end of a long trial, and a loss
averaged over all steps is almost minimised by holding fixation. Yang et al. 2019
(gyyang/multitask, ``Trial.add_c_mask``) therefore weight the steps before the response 1
and the response period 5 (and leave out, weight 0, the first 100 ms and a 100 ms grace
period after the go cue); PsychRNN's tasks (murraylab/PsychRNN, e.g.
``PerceptualDiscrimination.trial_function``) use a 0/1 mask that leaves out the steps
where the output is not constrained. :data:`DECISION_WEIGHT` is Yang et al.'s 5; their
two 100 ms gaps are not the default because at neurogym's dt = 100 ms a grace period
would remove a one-step decision period entirely (set them with weight 0 where wanted).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from neurodyn.checks import check_real

DECISION_WEIGHT = 5.0  # Yang et al. 2019's weight of the response period (others: 1)


def check_period_weights(weights, periods, owner: str) -> dict[str, float]:
    """``weights`` {period name: weight >= 0} as a dict of floats, every name one of
    ``periods`` (the names ``owner``'s trials have); a clear error otherwise."""
    if not isinstance(weights, Mapping):
        raise TypeError(f"period_weights must map period names to weights, got {weights!r}")
    checked = {}
    for name, value in weights.items():
        if name not in periods:
            raise ValueError(
                f"{owner} has no period {name!r} (period_weights); its periods: "
                f"{', '.join(periods)}"
            )
        checked[name] = check_real(f"the weight of period {name!r}", value, minimum=0.0)
    return checked


def step_weights(spans: Mapping[str, tuple[int, int]], weights: Mapping, steps: int):
    """The weights (steps,) of one trial: 1, and ``weights[name]`` on the steps [start,
    end) of every weighted period of ``spans``, divided by the largest weight (or by 1
    where none is larger). Where periods overlap, the one later in ``spans`` wins."""
    values = torch.ones(steps)
    for name, (start, end) in spans.items():
        if name in weights:
            values[start:end] = weights[name]
    return values / max([1.0, *weights.values()])


def period_mask(spans: Mapping[str, tuple[int, int]], weights: Mapping, shape) -> torch.Tensor:
    """The mask of trials with the fixed periods ``spans`` (steps), ``shape`` (..., T):
    :func:`step_weights` on every trial; an error where no step would count."""
    values = step_weights(spans, weights, shape[-1])
    if not bool((values > 0).any()):
        raise ValueError(f"period_weights {dict(weights)} give every step of a trial weight 0")
    return values.expand(shape).contiguous()
