"""The Romo parametric working-memory task (Schuessler et al. 2020 generator).

Spec ``rate-rnn-eprop-lyapunov.md`` section 3.1 (``task_generators.romo`` with the
parameters of the authors' notebook), in steps of dt = 0.5 (time unit tau = 1), T = 56:

* stimulus 1 on steps [6, 8) with amplitude a1, a delay of d steps (d uniform on 4 ... 15),
  stimulus 2 on [8 + d, 10 + d) with amplitude a2; a1, a2 ~ U(0.5, 1.5) with
  |a1 - a2| >= 0.2 (a2 is drawn uniformly from the allowed set, which is what the
  reference's rejection loop samples); one input channel, no fixation input;
* target 0.5 on output channel argmax(a1, a2) (0 when the first is larger) during the
  response window [20 + d, 40 + d), 0 elsewhere;
* mask 1 on [0, 10 + d) (the outputs must stay at 0) and on the response window, 0 in
  the decision delay and after the response; loss 0.5 sum mask (y - yhat)^2 / sum mask.

Trials are generated as whole batched tensors from an explicit ``torch.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from neurodyn.rng import Draws
from neurodyn.tasks._base import TrialBatch, TrialSampling
from neurodyn.tasks.registry import register


@dataclass(frozen=True)
class Romo(TrialSampling):
    """Configuration of the task; durations in units of tau (the network's time
    constant, 1), converted with ``dt``."""

    dt: float = 0.5
    tau: float = 1.0
    fixation: float = 3.0
    stimulus: float = 1.0
    delay_min: float = 2.0
    delay_max: float = 8.0
    decision_delay: float = 5.0
    decision: float = 10.0
    amplitude_min: float = 0.5
    amplitude_max: float = 1.5
    min_difference: float = 0.2
    target: float = 0.5

    input_size = 1
    output_size = 2
    loss = "mse"

    def __post_init__(self) -> None:
        self.check_time_constant()
        for name in ("stimulus", "decision"):
            if self._steps(getattr(self, name)) < 1:
                raise ValueError(f"{name} = {getattr(self, name)} is shorter than one step dt")
        for name in ("fixation", "decision_delay"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.amplitude_max - self.amplitude_min <= 2 * self.min_difference:
            raise ValueError("the amplitude range leaves no pair with the minimum difference")
        if not 0 < self.delay_min <= self.delay_max:
            raise ValueError("need 0 < delay_min <= delay_max")

    def _steps(self, duration: float) -> int:
        return int(duration / self.dt)

    @property
    def steps(self) -> int:
        """Steps per trial (fixation, two stimuli, longest delay, decision delay, decision)."""
        total = 2 * self.stimulus + self.fixation + self.delay_max + self.decision_delay
        return self._steps(total + self.decision)

    def generate(self, batch: int, draws: Draws) -> TrialBatch:
        """Trials from ``draws``, with its leading axes (none, or the ensemble)."""
        low, high, gap = self.amplitude_min, self.amplitude_max, self.min_difference
        a1 = low + (high - low) * draws.uniform(batch)
        below = (a1 - gap - low).clamp(min=0)  # length of [low, a1 - gap]
        above = (high - a1 - gap).clamp(min=0)  # length of [a1 + gap, high]
        u = draws.uniform(batch) * (below + above)
        a2 = torch.where(u < below, low + u, a1 + gap + (u - below))
        span = draws.uniform(batch) * (self.delay_max - self.delay_min)
        delay = ((self.delay_min + span) / self.dt).long()
        t = torch.arange(self.steps)
        start1 = self._steps(self.fixation)
        width = self._steps(self.stimulus)
        start2 = start1 + width + delay[..., None]
        response = start2 + width + self._steps(self.decision_delay)
        first = (t >= start1) & (t < start1 + width)
        second = (t >= start2) & (t < start2 + width)
        window = (t >= response) & (t < response + self._steps(self.decision))
        inputs = (a1[..., None] * first + a2[..., None] * second).unsqueeze(-1)
        larger = (a2 > a1).long()  # channel 0 when the first amplitude is larger
        channel = torch.nn.functional.one_hot(larger, 2).float()[..., None, :]
        targets = self.target * window.float()[..., None] * channel
        mask = ((t < start2 + width) | window).float()[..., None].expand(*window.shape, 2)
        info = {"a1": a1, "a2": a2, "delay": delay, "larger": larger}
        return TrialBatch(inputs.float(), targets, mask.contiguous(), info)

    def accuracy(self, outputs: torch.Tensor, batch: TrialBatch) -> dict[str, torch.Tensor]:
        """Fraction of trials whose larger output over the response window is the target
        channel, per member: {"all": (E,)}."""
        window = batch.targets.sum(-1) > 0  # (B, T) or (E, B, T)
        mean = (outputs * window[..., None]).sum(2)  # (E, B, 2)
        chosen = mean.argmax(-1)
        return {"all": (chosen == batch.info["larger"].to(chosen.device)).float().mean(-1)}


register("romo", Romo)
