"""Perceptual decision making (2AF) and delayed match-to-sample, as neurogym defines them.

Native batched generators of neurogym's ``PerceptualDecisionMaking-v0`` and
``DelayMatchSample-v0`` at their defaults (spec ``rate-rnn-eprop-lyapunov.md`` 3.2), with
trial-aligned batches and explicit generators instead of neurogym's stream of trials.
Both have 3 inputs (fixation, two stimulus channels) and 3 actions (0 = fixate,
1 and 2 = the choices); targets are action indices per step and the mask covers every
step, the cross-entropy-over-all-steps loss of Yang & Wang (2020). ``period_weights``
({period name: weight}, :mod:`neurodyn.tasks.periods`) weights the loss per period instead
(e.g. ``{"decision": 5.0}``, Yang et al. 2019's response weight); the default leaves every
step at 1, so results are those of the unweighted loss. Input noise has standard deviation
sigma / sqrt(dt) = 0.1 on the stimulus channels.

* 2AF: fixation 100 ms, stimulus 2000 ms, decision 100 ms at dt = 100 ms (22 steps);
  stimulus channel k carries 0.5 + cos(theta_k - theta_choice) coherence / 200, with
  coherence drawn from (0, 6.4, 12.8, 25.6, 51.2). ``fixation_cue="go"`` keeps the
  fixation input on until the decision (neurogym <= 2.0.0, the paper's setting);
  ``"fixation"`` only during fixation (neurogym >= 2.1.0).
* DMS: fixation 300, sample 500, delay 1000, test 500, decision 900 ms (32 steps); the
  stimulus channels show the one-hot sample, then the test, which matches (action 1)
  or is the other stimulus (action 2); the fixation input is on until the decision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from neurodyn.checks import check_choice
from neurodyn.rng import Draws
from neurodyn.tasks._base import TrialBatch, TrialSampling
from neurodyn.tasks.periods import check_period_weights, period_mask
from neurodyn.tasks.registry import register

COHERENCES = (0.0, 6.4, 12.8, 25.6, 51.2)


def decision_choice(outputs: torch.Tensor, start: int) -> torch.Tensor:
    """The action chosen in a trial: argmax of the outputs (E, B, T, 3) averaged over the
    decision period (steps ``start`` onwards), restricted to the two choices: (E, B)."""
    return outputs[:, :, start:, 1:].mean(2).argmax(-1) + 1


def decision_accuracy(outputs: torch.Tensor, batch: TrialBatch, start: int) -> torch.Tensor:
    """Fraction of trials whose chosen action is the target one, per member: (E,)."""
    chosen = decision_choice(outputs, start)
    return (chosen == batch.targets[..., start].to(chosen.device)).float().mean(-1)


def _periods(durations: dict[str, float], dt: float) -> dict[str, tuple[int, int]]:
    """Consecutive periods in steps, each int(duration / dt) long (neurogym's rounding)."""
    spans, start = {}, 0
    for name, duration in durations.items():
        length = int(duration / dt)
        spans[name] = (start, start + length)
        start += length
    return spans


@dataclass(frozen=True)
class PerceptualDecision(TrialSampling):
    dt: float = 100.0
    tau: float = 100.0
    fixation: float = 100.0
    stimulus: float = 2000.0
    delay: float = 0.0
    decision: float = 100.0
    sigma: float = 1.0
    coherences: tuple[float, ...] = COHERENCES
    fixation_cue: str = "go"
    period_weights: dict[str, float] = field(default_factory=dict)

    input_size = 3
    output_size = 3
    loss = "cross_entropy"

    def __post_init__(self) -> None:
        check_choice("fixation_cue", self.fixation_cue, ("go", "fixation"))
        self.check_time_constant()
        if int(self.decision / self.dt) < 1 or int(self.stimulus / self.dt) < 1:
            raise ValueError("dt must leave at least one stimulus and decision step")
        check_period_weights(self.period_weights, self.periods(), type(self).__name__)

    def periods(self) -> dict[str, tuple[int, int]]:
        durations = {
            "fixation": self.fixation,
            "stimulus": self.stimulus,
            "delay": self.delay,
            "decision": self.decision,
        }
        return _periods(durations, self.dt)

    def generate(self, batch: int, draws: Draws) -> TrialBatch:
        """Trials from ``draws``, with its leading axes (none, or the ensemble)."""
        choice = (draws.uniform(batch) < 0.5).long()
        levels = torch.tensor(self.coherences)
        pick = (draws.uniform(batch) * len(self.coherences)).long().clamp(max=len(levels) - 1)
        steps = self.periods()["decision"][1]
        noise = draws.normal(batch, steps, 2) * (self.sigma / math.sqrt(self.dt))
        return self.trials(choice, levels[pick], noise)

    def trials(
        self, choice: torch.Tensor, coherence: torch.Tensor, noise: torch.Tensor | None = None
    ) -> TrialBatch:
        """The trials with the given facts: ``choice`` (...,) in {0, 1} (the target action is
        choice + 1), ``coherence`` (...,) and stimulus ``noise`` (..., T, 2) (none: 0)."""
        spans = self.periods()
        T = spans["decision"][1]
        t = torch.arange(T)
        stimulus = ((t >= spans["stimulus"][0]) & (t < spans["stimulus"][1])).float()
        cue_end = spans["fixation"][1] if self.fixation_cue == "fixation" else spans["decision"][0]
        theta = torch.tensor([0.0, math.pi])
        level = 0.5 + torch.cos(theta - theta[choice][..., None]) * coherence[..., None] / 200
        level = level[..., None, :].expand(*choice.shape, T, 2)
        stimuli = stimulus[:, None] * (level if noise is None else level + noise)
        fixation = (t < cue_end).float().expand(*stimuli.shape[:-1]).unsqueeze(-1)
        inputs = torch.cat([fixation, stimuli], dim=-1)
        targets = (t >= spans["decision"][0]).long() * (choice + 1)[..., None]
        info = {"choice": choice, "coherence": coherence}
        mask = period_mask(spans, self.period_weights, targets.shape)
        return TrialBatch(inputs, targets, mask, info)

    def accuracy(self, outputs: torch.Tensor, batch: TrialBatch) -> dict[str, torch.Tensor]:
        """Decision accuracy per member, overall and per coherence ("coherence 12.8"; NaN
        for a member without trials of that coherence); trials (B, ...) shared by all
        members or (E, B, ...) per member."""
        start = self.periods()["decision"][0]
        chosen = decision_choice(outputs, start)
        correct = (chosen == batch.targets[..., start].to(chosen.device)).float()
        out = {"all": correct.mean(-1)}
        coherence = batch.info["coherence"].to(correct.device).expand_as(correct)

        def among(trials: torch.Tensor) -> torch.Tensor:
            return (correct * trials).sum(-1) / trials.sum(-1)

        for level in self.coherences:
            trials = coherence == level
            if bool(trials.any()):
                out[f"coherence {level:g}"] = among(trials)
        strong = coherence >= 12.8
        if bool(strong.any()):
            out["coherence >= 12.8"] = among(strong)
        return out


@dataclass(frozen=True)
class DelayMatchSample(TrialSampling):
    dt: float = 100.0
    tau: float = 100.0
    fixation: float = 300.0
    sample_period: float = 500.0
    delay: float = 1000.0
    test: float = 500.0
    decision: float = 900.0
    sigma: float = 1.0
    period_weights: dict[str, float] = field(default_factory=dict)

    input_size = 3
    output_size = 3
    loss = "cross_entropy"

    def __post_init__(self) -> None:
        self.check_time_constant()
        if int(self.decision / self.dt) < 1:
            raise ValueError("dt must leave at least one decision step")
        check_period_weights(self.period_weights, self.periods(), type(self).__name__)

    def periods(self) -> dict[str, tuple[int, int]]:
        durations = {
            "fixation": self.fixation,
            "sample": self.sample_period,
            "delay": self.delay,
            "test": self.test,
            "decision": self.decision,
        }
        return _periods(durations, self.dt)

    def generate(self, batch: int, draws: Draws) -> TrialBatch:
        """Trials from ``draws``, with its leading axes (none, or the ensemble)."""
        first = (draws.uniform(batch) < 0.5).long()
        match = (draws.uniform(batch) < 0.5).long()  # 1: the test matches the sample
        steps = self.periods()["decision"][1]
        noise = draws.normal(batch, steps, 2) * (self.sigma / math.sqrt(self.dt))
        return self.trials(first, match, noise)

    def trials(
        self, sample: torch.Tensor, match: torch.Tensor, noise: torch.Tensor | None = None
    ) -> TrialBatch:
        """The trials with the given facts: ``sample`` (...,) in {0, 1}, ``match`` (...,)
        1 when the test repeats the sample (action 1) and 0 when not (action 2), and
        stimulus ``noise`` (..., T, 2) (none: 0)."""
        spans = self.periods()
        T = spans["decision"][1]
        second = torch.where(match == 1, sample, 1 - sample)
        t = torch.arange(T)

        def during(name: str) -> torch.Tensor:
            return ((t >= spans[name][0]) & (t < spans[name][1])).float()[:, None]

        onehot = torch.nn.functional.one_hot
        shown = during("sample") * onehot(sample, 2)[..., None, :].float()
        shown = shown + during("test") * onehot(second, 2)[..., None, :].float()
        stimuli = shown if noise is None else shown + (during("sample") + during("test")) * noise
        fixation = (t < spans["decision"][0]).float().expand(*stimuli.shape[:-1]).unsqueeze(-1)
        inputs = torch.cat([fixation, stimuli], dim=-1)
        targets = (t >= spans["decision"][0]).long() * torch.where(match == 1, 1, 2)[..., None]
        info = {"sample": sample, "match": match}
        mask = period_mask(spans, self.period_weights, targets.shape)
        return TrialBatch(inputs, targets, mask, info)

    def accuracy(self, outputs: torch.Tensor, batch: TrialBatch) -> dict[str, torch.Tensor]:
        """Decision accuracy per member: {"all": (E,)}."""
        return {"all": decision_accuracy(outputs, batch, self.periods()["decision"][0])}


register("decision", PerceptualDecision)
register("match-sample", DelayMatchSample)
