"""The 3-bit flip-flop task of Sussillo & Barak (2013, Neural Computation 25, "Opening the
black box"), as a native trial-based task.

Three input channels carry sparse one-step pulses of +1 or -1; output channel k must hold
the sign of the last pulse on input channel k. Implemented here, per trial of ``steps``
steps of dt (time unit tau):

* step 0 carries a pulse of random sign on every channel, the trial's random initial
  state (so every target is defined from the first step on and there are only the 2^3
  output patterns, no "not yet set" state);
* on every later step each channel independently carries a pulse with probability
  ``pulse_probability`` (default 0.04, about 2.4 per channel in a 60-step trial), +1 or
  -1 with probability 1/2;
* target k at step t is the sign of the last pulse on channel k at or before t (the
  output flips on the pulse's own step), mask 1 on every step and channel, loss the
  masked MSE;
* accuracy: the fraction of (trial, step, channel) entries whose output has the target's
  sign (``"all"``), and the fraction of trials right at every entry (``"trials"``).

Consecutive trials (``sample_member_streams``) each start with their initial pulses.

Training that solves it (``tests/tasks/test_flipflop.py``): ``FlipFlop()`` (T = 60,
p = 0.04, alpha = 0.5), a :class:`~neurodyn.networks.rate.LeakyRateNetwork` of N = 64
tanh units, gain 1, :class:`~neurodyn.rules.BPTT`, Adam at learning rate 0.02 with
``clip_norm=0.5``, batch 32, 200 iterations: >= 99% of the entries right on fresh trials
for each of the seeds 0 ... 19 (about 2 s for five seeds as one ensemble on one core).
Without input, each network of seeds 0 ... 4 settles on 8 stable fixed points, one per
output pattern, as in the paper (seeds 8, 10 and 18 hold the patterns on oscillating
attractors instead). Use tanh: a ReLU network without biases is positively
homogeneous, its fixed points come in rays, and trained ReLU networks hold the signs by
slowly decaying or growing states instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from neurodyn.checks import check_positive_int, check_real
from neurodyn.rng import Draws
from neurodyn.tasks._base import TrialBatch, TrialSampling
from neurodyn.tasks.registry import register


@dataclass(frozen=True)
class FlipFlop(TrialSampling):
    """Configuration: ``steps`` per trial (T), ``pulse_probability`` per step and channel
    after the first step, and the step ``dt`` in units of ``tau`` (leak alpha = 1 - dt /
    tau; default 0.5)."""

    steps: int = 60
    pulse_probability: float = 0.04
    dt: float = 0.5
    tau: float = 1.0

    input_size = 3
    output_size = 3
    loss = "mse"

    def __post_init__(self) -> None:
        check_positive_int("steps", self.steps, minimum=2)
        probability = check_real("pulse_probability", self.pulse_probability)
        if not 0 < probability <= 1:
            raise ValueError(f"pulse_probability must lie in (0, 1], got {probability}")
        check_real("dt", self.dt)
        check_real("tau", self.tau)
        self.check_time_constant()

    def generate(self, batch: int, draws: Draws) -> TrialBatch:
        """Trials from ``draws``, with its leading axes (none, or the ensemble)."""
        pulse = draws.uniform(batch, self.steps, 3) < self.pulse_probability
        pulse[..., 0, :] = True  # the random initial state
        sign = torch.where(draws.uniform(batch, self.steps, 3) < 0.5, -1.0, 1.0)
        inputs = pulse * sign
        targets = held_signs(inputs)
        return TrialBatch(inputs, targets, torch.ones_like(targets), {})

    def accuracy(self, outputs: torch.Tensor, batch: TrialBatch) -> dict[str, torch.Tensor]:
        """Per member (E,): the fraction of (trial, step, channel) entries whose output
        (E, B, T, 3) has the target's sign (``"all"``) and the fraction of trials right at
        every entry (``"trials"``); trials (B, ...) shared by all members or (E, B, ...)."""
        right = outputs * batch.targets.to(outputs.device) > 0  # (E, B, T, 3)
        return {
            "all": right.float().mean((1, 2, 3)),
            "trials": right.flatten(2).all(-1).float().mean(-1),
        }


def held_signs(inputs: torch.Tensor) -> torch.Tensor:
    """The flip-flop targets of pulse inputs (..., T, C) with a pulse on every channel at
    step 0: at each step, the value of the last nonzero input on the channel."""
    steps = torch.arange(inputs.shape[-2], device=inputs.device).view(-1, 1)
    last = torch.where(inputs != 0, steps, 0).cummax(-2).values
    return inputs.gather(-2, last)


register("flip-flop", FlipFlop)
