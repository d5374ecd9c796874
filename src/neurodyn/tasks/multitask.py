"""Several neurogym environments as one task with rule inputs (Yang et al. 2019).

Yang, Joglekar, Song, Newsome & Wang, "Task representations in neural networks trained to
perform many cognitive tasks", Nature Neuroscience 22, 297-306 (2019): one network learns
20 tasks; each trial is one task, announced by a one-hot rule input appended to the
fixation and stimulus inputs. ``NeurogymMultitask()`` is that set as neurogym registers it
(``yang19.*-v0``, :data:`YANG19`, in the paper's order): every environment has the same
input layout, fixation + two stimulus modalities of 16 ring units (33 inputs; the paper's
rings have 32 units), and 17 actions (fixation + 16 directions), so with the 20 rule inputs
the network has 53 inputs. Any list of environments sharing their layout works.

Choices:

* Tasks are interleaved per trial: each trial's task is drawn uniformly from the member's
  counter-based stream (:class:`~neurodyn.rng.Draws`), then its sub-environment (the
  stimulus modality of go, anti, dms, ..., which neurogym schedules with ``ScheduleEnvs``)
  uniformly, then its seed, and the trial is that sub-environment's own seeded
  ``new_trial()`` (:meth:`NeurogymTask.trial`). Member e's trials depend only on its key.
  neurogym's ``ScheduleEnvs(env_input=True)`` appends the same one-hot input, but picks
  tasks by a schedule whose state crosses trials (its ``RandomSchedule`` never repeats a
  task twice in a row), so it is not used.
* The rule input is 1 on every step of the trial and 0 on the padding after it; trials
  shorter than the batch's longest are padded with zero-weight steps.
* Loss weights per period are each environment's, as in the adapter
  (:mod:`neurodyn.tasks.periods`): the response periods ``decision_weight`` (5), others 1.
* ``accuracy`` is neurogym's own score of every trial (:func:`replay_scores`), for all
  trials ("all") and per task (keyed by the short name, "go", ...; NaN for a task without
  trials in the batch). ``info`` holds "task", "variant", "trial_seed",
  "fixation_end" (the first step after the fixation period) and "steps" (the trial's length).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import torch

from neurodyn.checks import check_integer, check_positive_int, check_real, describe
from neurodyn.rng import Draws
from neurodyn.tasks._base import TrialBatch, TrialSampling
from neurodyn.tasks.neurogym import SEED_RANGE, NeurogymTask, replay_scores, stack_trials
from neurodyn.tasks.periods import DECISION_WEIGHT

YANG19_TASKS = (
    "go", "rtgo", "dlygo", "anti", "rtanti", "dlyanti",
    "dm1", "dm2", "ctxdm1", "ctxdm2", "multidm",
    "dlydm1", "dlydm2", "ctxdlydm1", "ctxdlydm2", "multidlydm",
    "dms", "dnms", "dmc", "dnmc",
)  # fmt: skip
YANG19 = tuple(f"yang19.{name}-v0" for name in YANG19_TASKS)
YANG19_ID = re.compile(r"^yang19\.(.+)-v\d+$")


def short_name(env_id: str) -> str:
    """ "go" for "yang19.go-v0"; any other id as it is."""
    match = YANG19_ID.match(env_id)
    return match.group(1) if match else env_id


@dataclass(frozen=True)
class NeurogymMultitask(TrialSampling):
    """The environments ``env_ids`` as one task with a one-hot rule input per environment
    (module docstring); ``decision_weight`` weights their response periods and ``tau`` is
    the network's time constant in ms (default: the environments' dt, alpha = 0)."""

    env_ids: tuple[str, ...] = YANG19
    decision_weight: float = DECISION_WEIGHT
    tau: float | None = None

    loss = "cross_entropy"

    def __post_init__(self) -> None:
        if isinstance(self.env_ids, str) or not isinstance(self.env_ids, tuple | list):
            raise TypeError(
                f"env_ids must be a tuple of neurogym ids, got {describe(self.env_ids)}"
            )
        if not self.env_ids or len(set(self.env_ids)) != len(self.env_ids):
            raise ValueError(f"env_ids must be distinct neurogym ids, got {self.env_ids}")
        object.__setattr__(self, "env_ids", tuple(self.env_ids))
        check_real("decision_weight", self.decision_weight, minimum=0.0)
        layouts = {
            (task.input_size, task.output_size, task.dt)
            for variants in self.components
            for task in variants
        }
        if len(layouts) != 1:
            raise ValueError(
                f"the environments {self.env_ids} differ in (inputs, actions, dt): {layouts}; "
                "a multitask needs one input layout"
            )
        if self.tau is None:
            object.__setattr__(self, "tau", self.dt)
        self.check_time_constant()

    @functools.cached_property
    def components(self) -> tuple[tuple[NeurogymTask, ...], ...]:
        """Per environment, the adapter of each of its sub-environments."""
        tasks = []
        for env_id in self.env_ids:
            first = NeurogymTask(env_id, decision_weight=self.decision_weight)
            others = range(1, len(first.environments))
            weight = self.decision_weight
            tasks.append(
                (first, *(NeurogymTask(env_id, decision_weight=weight, variant=v) for v in others))
            )
        return tuple(tasks)

    @property
    def names(self) -> list[str]:
        """The short name of every environment (:func:`short_name`), in rule-input order."""
        return [short_name(env_id) for env_id in self.env_ids]

    @property
    def dt(self) -> float:
        return self.components[0][0].dt

    @property
    def input_size(self) -> int:
        return self.components[0][0].input_size + len(self.env_ids)

    @property
    def output_size(self) -> int:
        return self.components[0][0].output_size

    def generate(self, batch: int, draws: Draws) -> TrialBatch:
        """Per trial a task, a sub-environment and a seed, for every leading index."""
        task = (draws.uniform(batch) * len(self.env_ids)).long()
        variant, seeds = draws.uniform(batch), (draws.uniform(batch) * SEED_RANGE).long()
        return self.trials(task.clamp_max(len(self.env_ids) - 1), variant, seeds)

    def sample_task(self, index: int, batch: int, generator: torch.Generator) -> TrialBatch:
        """``batch`` trials (B, T, ...) of environment ``index`` alone, from ``generator``."""
        if check_integer("index", index, minimum=0) >= len(self.env_ids):
            raise ValueError(f"index must be below {len(self.env_ids)}, got {index}")
        draws = Draws(generator)
        variant = draws.uniform(check_positive_int("batch", batch))
        seeds = (draws.uniform(batch) * SEED_RANGE).long()
        return self.trials(torch.full((batch,), index), variant, seeds)

    def trials(self, task: torch.Tensor, variant: torch.Tensor, seeds: torch.Tensor):
        """The trials of environments ``task`` (..., B) int, sub-environments picked by the
        uniform ``variant`` numbers, and ``seeds``, with their rule inputs."""
        trials, picked = [], []
        rules = len(self.env_ids)
        draws = (task.flatten().tolist(), variant.flatten().tolist(), seeds.flatten().tolist())
        for k, u, seed in zip(*draws, strict=True):
            options = self.components[k]
            picked.append(min(int(u * len(options)), len(options) - 1))
            trial = options[picked[-1]].trial(seed)
            rule = np.zeros((trial.ob.shape[0], rules), dtype=np.float32)
            rule[:, k] = 1.0
            ob = np.concatenate([trial.ob, rule], axis=1)
            trials.append(trial._replace(ob=ob, facts={}))
        lead = tuple(seeds.shape)
        batch = stack_trials(trials, lead, self.input_size)
        ends = [trial.spans.get("fixation", (0, 0))[1] for trial in trials]
        steps = [trial.ob.shape[0] for trial in trials]
        batch.info.update(
            task=task.clone(),
            variant=torch.tensor(picked).reshape(lead),
            trial_seed=seeds,
            fixation_end=torch.tensor(ends).reshape(lead),
            steps=torch.tensor(steps).reshape(lead),
        )
        return batch

    def accuracy(self, outputs: torch.Tensor, batch: TrialBatch) -> dict[str, torch.Tensor]:
        """Per member (E,): neurogym's score over all trials ("all") and per task (its
        short name), from outputs (E, B, T, actions); trials (B, ...) or (E, B, ...)."""
        actions = outputs.argmax(-1).cpu().numpy()
        lead = actions.shape[:2]
        info = {k: batch.info[k].cpu().expand(lead) for k in ("task", "variant", "trial_seed")}
        task = info["task"]
        components = [
            [self.components[k][v] for k, v in zip(row, variants, strict=True)]
            for row, variants in zip(task.tolist(), info["variant"].tolist(), strict=True)
        ]
        scores = torch.from_numpy(replay_scores(actions, info["trial_seed"], components))
        result = {"all": scores.float().mean(-1)}
        for k, name in enumerate(self.names):
            chosen = (task == k).float()
            result[name] = (scores * chosen).sum(-1).float() / chosen.sum(-1)
        return result
