"""Any neurogym environment as a neurodyn task (optional extra ``neurodyn[neurogym]``).

Molano-Mazon et al., *NeuroGym* (github.com/neurogym/neurogym); spec
``rate-rnn-eprop-lyapunov.md`` section 3.2. ``NeurogymTask("GoNogo-v0")`` samples
trials like the native tasks: ``sample(batch, generator)`` gives (B, T, ...) tensors and
``sample_members(batch, keys, counter)`` (E, B, T, ...), each trial drawn by the
environment's own ``new_trial()`` after seeding it with a number taken from the neurodyn
random source, so trials are reproducible from the seed and member e's trials depend
only on its key.

Choices, written down because neurogym leaves them open:

* Trials are aligned: every row is one whole trial from t = 0 (neurogym's ``Dataset``
  instead cuts a stream of back-to-back trials into windows). Environments with random
  period durations give trials of different lengths: they are padded with zeros to the
  longest trial of the batch and the mask is 0 on the padding.
* Targets are neurogym's ground-truth action per step (``env.gt``) and the loss is the
  cross entropy over steps weighted by the mask (:mod:`neurodyn.tasks.periods`): by default
  the steps of the environment's response periods weigh :data:`DECISION_WEIGHT` = 5 and
  the others 1 (Yang et al. 2019's weights), ``decision_weight = 1`` gives the plain mean
  over all steps of Yang & Wang (2020), and ``period_weights`` sets any period's weight
  (0: the steps do not count). The response periods are those whose ground truth is an
  action other than fixation (0) in some trial of a probe of :data:`PROBE_TRIALS`
  trials (seeds 0, 1, ...): "decision" in most environments, "test" in
  DelayMatchCategory, "production" in ReadySetGo. ``output_size`` is the number of
  actions; environments with continuous actions are rejected, and so are the
  reinforcement-learning ones (:data:`REINFORCEMENT_LEARNING`, and any without a ground
  truth), which score choices by reward rather than by a correct action.
* ``accuracy`` is neurogym's own score: each trial is regenerated from its seed and stepped
  through ``env.step`` with the network's actions (argmax of the outputs per step); its
  score is the ``performance`` the environment reports at the trial's end. In most
  environments that is 1 when the first action other than fixation in the decision period
  is the ground truth, and 0 when it is wrong or never comes; in go/no-go environments a
  no-go trial starts at 1 and any response in the decision period makes it 0. (neurogym's
  ``step`` overwrites a performance set by ``_new_trial``, such as GoNogo's no-go 1,
  with 0 for every trial after the first; the replay keeps the environment's value, as
  its code intends.) Every trial whose ground truth is fixation throughout is scored that
  way, 1 iff no action other than fixation comes in its response periods: yang19's match
  tasks (dms, dnms, dmc, dnmc) never set performance 1 for a withheld response, so a
  perfect network would score 0.5 there, while Yang et al. 2019 count it correct.
* Where neurogym schedules an environment from several (``ScheduleEnvs``: yang19's go,
  anti, dms, ... one per stimulus modality), the task is one of them, ``variant`` (default
  0, the first); :class:`~neurodyn.tasks.multitask.NeurogymMultitask` draws it per trial.
* ``info`` holds every numeric entry of the trial dictionaries ("ground_truth", "coh",
  ...) as tensors and the seed of each trial ("trial_seed"); trial-specific timing stays
  inside the environment.
* Generation runs in Python, one trial at a time (about 0.1 ms per trial): the native
  tasks (:mod:`neurodyn.tasks.romo`, :mod:`neurodyn.tasks.decision`) are the fast path.
"""

from __future__ import annotations

import functools
import numbers
import warnings
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import torch

from neurodyn.checks import check_real
from neurodyn.rng import Draws
from neurodyn.tasks._base import TrialBatch, TrialSampling
from neurodyn.tasks.periods import DECISION_WEIGHT, check_period_weights, step_weights

SEED_RANGE = 2**31 - 1  # numpy's RandomState accepts seeds below 2^32
PROBE_TRIALS = 64  # trials that find an environment's periods and its response periods

# Environments whose choices are scored by reward, not by a correct action: not trainable
# with a supervised loss (environments without any ground truth are refused as well).
REINFORCEMENT_LEARNING = {
    "Bandit-v0": "a multi-armed bandit, rewards only",
    "DawTwoStep-v0": "the two-step task, choices learned from rewards",
    "EconomicDecisionMaking-v0": "value-based choices scored by the juice reward",
    "PostDecisionWager-v0": "wagering: the sure option is worth its reward, not a ground truth",
}


def make_environments(env_id: str, env_kwargs: dict[str, Any] | None = None) -> list:
    """The unwrapped neurogym environment ``env_id`` (its trial generator, no gym wrappers)
    as a list of one, or, where neurogym builds ``env_id`` from several environments
    (``ScheduleEnvs``: yang19's go, anti, dms, ... one per stimulus modality), each of them.

    gymnasium 0.29 warns that neurogym's metadata lacks ``render_modes`` on every make;
    that warning is silenced here, nothing else.
    """
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*render_modes")
            import neurogym

            env = neurogym.make(env_id, **(env_kwargs or {}))
    except ImportError as error:
        raise ImportError(
            "the neurogym adapter needs neurogym: pip install 'neurodyn[neurogym]'"
        ) from error
    return sub_environments(env)


def sub_environments(env) -> list:
    """The unwrapped environments of the first ``ScheduleEnvs`` among ``env``'s wrappers,
    or ``[env.unwrapped]`` where there is none."""
    while hasattr(env, "env"):
        if "envs" in vars(env):
            return [member.unwrapped for member in vars(env)["envs"]]
        env = env.env
    return [env.unwrapped]


class Trial(NamedTuple):
    """One trial: observations (T, N_in), ground truth (T,), step weights (T,), the trial
    dictionary and the span [start, end) of every period (steps)."""

    ob: np.ndarray
    gt: np.ndarray
    weights: torch.Tensor
    facts: dict
    spans: dict[str, tuple[int, int]]


def stack_trials(trials: list[Trial], lead: tuple[int, ...], input_size: int) -> TrialBatch:
    """``trials`` (:meth:`NeurogymTask.trial`) as a batch (*lead, T, ...), the shorter
    padded with zeros (mask 0) to the longest; ``info`` holds every numeric entry that all
    trial dictionaries have."""
    steps = max(trial.ob.shape[0] for trial in trials)
    inputs = torch.zeros(len(trials), steps, input_size)
    targets = torch.zeros(len(trials), steps, dtype=torch.long)
    mask = torch.zeros(len(trials), steps)
    for k, trial in enumerate(trials):
        inputs[k, : trial.ob.shape[0]] = torch.from_numpy(trial.ob)
        targets[k, : trial.gt.shape[0]] = torch.from_numpy(trial.gt.astype(np.int64))
        mask[k, : trial.ob.shape[0]] = trial.weights
    info = {
        name: torch.tensor([trial.facts[name] for trial in trials]).reshape(lead)
        for name in trials[0].facts
        if all(isinstance(trial.facts.get(name), numbers.Number) for trial in trials)
    }
    return TrialBatch(
        inputs.reshape(*lead, steps, -1),
        targets.reshape(*lead, steps),
        mask.reshape(*lead, steps),
        info,
    )


@dataclass(frozen=True)
class NeurogymTask(TrialSampling):
    """Trials of the neurogym environment ``env_id`` built with ``env_kwargs``; ``tau``
    is the network's time constant in the environment's ms, alpha = 1 - dt / tau (default:
    its dt, so alpha = 0, the paper's setting; Yang & Wang 2020 use tau = 100 ms at dt =
    20 ms, alpha = 0.8). ``decision_weight``
    weights the response periods' steps and ``period_weights`` {period: weight} any
    period's, the rest weigh 1 (module docstring). ``variant`` picks one sub-environment of
    an environment neurogym schedules from several (:func:`make_environments`)."""

    env_id: str
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    tau: float | None = None
    decision_weight: float = DECISION_WEIGHT
    period_weights: dict[str, float] = field(default_factory=dict)
    variant: int = 0

    loss = "cross_entropy"

    def __post_init__(self) -> None:
        if self.env_id in REINFORCEMENT_LEARNING:
            raise ValueError(
                f"{self.env_id} is a reinforcement-learning environment "
                f"({REINFORCEMENT_LEARNING[self.env_id]}); neurodyn trains supervised tasks, "
                "whose ground truth is the correct action at every step"
            )
        env = self.environment
        if not hasattr(env.action_space, "n"):
            raise ValueError(
                f"{self.env_id} has continuous actions ({env.action_space}); the adapter "
                "supports environments with discrete actions (cross-entropy targets)"
            )
        if len(env.observation_space.shape) != 1:
            raise ValueError(f"{self.env_id} observations must be vectors")
        if self.tau is None:
            object.__setattr__(self, "tau", self.dt)
        try:
            self.check_time_constant()
        except ValueError as error:
            raise ValueError(f"{self.env_id}: {error}") from None
        check_real("decision_weight", self.decision_weight, minimum=0.0)
        check_period_weights(self.period_weights, list(self.periods), self.env_id)

    @property
    def dt(self) -> float:
        """The environment's step in ms."""
        return float(self.environment.dt)

    @functools.cached_property
    def environments(self) -> list:
        """Every sub-environment of ``env_id`` (:func:`make_environments`)."""
        return make_environments(self.env_id, self.env_kwargs)

    @property
    def environment(self):
        """The task's environment, sub-environment ``variant`` (made once; seeded before
        every trial)."""
        if not 0 <= self.variant < len(self.environments):
            raise ValueError(
                f"{self.env_id} has {len(self.environments)} variant(s), got {self.variant}"
            )
        return self.environments[self.variant]

    @functools.cached_property
    def _probe(self) -> list[tuple[np.ndarray, dict[str, int], dict[str, int]]]:
        """The ground truth and period spans (start, end steps) of :data:`PROBE_TRIALS`
        trials (seeds 0, 1, ...); refuses an environment without per-step correct actions."""
        env, trials = self.environment, []
        for seed in range(PROBE_TRIALS):
            env.seed(seed)
            env.new_trial()
            if getattr(env, "gt", None) is None:
                raise ValueError(
                    f"{self.env_id} defines no ground truth (a reinforcement-learning "
                    "environment, scored by reward): the adapter needs supervised targets"
                )
            truth = np.asarray(env.gt).copy()
            actions = env.action_space.n
            if truth.size and not 0 <= truth.min() <= truth.max() < actions:
                raise ValueError(
                    f"{self.env_id}'s ground truth holds {truth.max()}, not one of its "
                    f"{actions} actions: it is a target the agent reaches by acting (scored by "
                    "reward), not the correct action per step, so the adapter cannot train it"
                )
            trials.append((truth, dict(env.start_ind), dict(env.end_ind)))
        return trials

    @functools.cached_property
    def periods(self) -> dict[str, bool]:
        """Every period of the probe trials, True for a response period (one whose ground
        truth is an action other than fixation in some probe trial)."""
        found = {}
        for truth, starts, ends in self._probe:
            for name, start in starts.items():
                response = bool((truth[start : ends[name]] != 0).any())
                found[name] = found.get(name, False) or response
        return found

    @functools.cached_property
    def choices(self) -> int:
        """The answers a trial can have: the actions other than fixation, plus withholding
        where some probe trial's ground truth is fixation throughout (no-go trials). A
        guess among them scores 1 / ``choices`` (chance); where there is one answer, a
        response scored by its time (ReadySetGo, MotorTiming, OneTwoThreeGo, and
        DelayMatchSampleDistractor1D: respond at the test that matches), that is no chance
        level."""
        withhold = any(not truth.any() for truth, _, _ in self._probe)
        return int(self.environment.action_space.n) - 1 + withhold

    @property
    def weights(self) -> dict[str, float]:
        """The weight of every weighted period: the response periods', then
        ``period_weights``."""
        response = {name: self.decision_weight for name, on in self.periods.items() if on}
        return response | dict(self.period_weights)

    @property
    def input_size(self) -> int:
        return int(self.environment.observation_space.shape[0])

    @property
    def output_size(self) -> int:
        return int(self.environment.action_space.n)

    def trial(self, seed: int) -> Trial:
        """The trial the environment's ``new_trial()`` draws after seeding it with ``seed``,
        its steps weighted by :attr:`weights`; an error where no step would count."""
        env = self.environment
        env.seed(seed)
        facts = env.new_trial()
        spans = {name: (start, env.end_ind[name]) for name, start in env.start_ind.items()}
        ob = np.asarray(env.ob, dtype=np.float32)
        weights = step_weights(spans, self.weights, ob.shape[0])
        if not bool((weights > 0).any()):
            raise ValueError(f"period weights {self.weights} give every step of a trial weight 0")
        return Trial(ob, np.asarray(env.gt), weights, facts, spans)

    def generate(self, batch: int, draws: Draws) -> TrialBatch:
        """One seeded ``new_trial()`` per trial, for every leading (ensemble) index."""
        seeds = (draws.uniform(batch) * SEED_RANGE).long()
        trials = [self.trial(seed) for seed in seeds.flatten().tolist()]
        stacked = stack_trials(trials, tuple(seeds.shape), self.input_size)
        stacked.info["trial_seed"] = seeds
        return stacked

    def accuracy(self, outputs: torch.Tensor, batch: TrialBatch) -> dict[str, torch.Tensor]:
        """Per member (E,): the mean of neurogym's ``performance`` of each trial under the
        member's actions (argmax of outputs (E, B, T, actions)), replayed through
        ``env.step`` (module docstring); trials (B, ...) shared or (E, B, ...) per member."""
        actions = outputs.argmax(-1).cpu().numpy()
        seeds = batch.info["trial_seed"].cpu().expand(actions.shape[:2])
        tasks = [[self] * actions.shape[1]] * actions.shape[0]
        return {"all": torch.from_numpy(replay_scores(actions, seeds, tasks)).float().mean(-1)}

    def replay(self, seed: int, actions: np.ndarray) -> float:
        """neurogym's performance of trial ``seed`` stepped with ``actions`` (at least its
        length; the rest, padding, is never stepped). The performance starts at the value
        the trial's ``new_trial`` sets (0 unless the environment sets one: no-go trials 1).
        A trial whose ground truth is fixation throughout scores 1 iff no other action
        comes in its response periods (module docstring)."""
        env = self.environment
        env.seed(seed)
        env.performance = 0
        env.new_trial()
        if not np.asarray(env.gt).any():
            response = [name for name, on in self.periods.items() if on and name in env.start_ind]
            return float(
                not any(actions[env.start_ind[n] : env.end_ind[n]].any() for n in response)
            )
        env.t = env.t_ind = 0
        for action in actions.tolist():
            info = env.step(action)[-1]
            if info["new_trial"]:
                return float(info["performance"])
        raise RuntimeError(f"{self.env_id}: trial {seed} did not end after {len(actions)} steps")


def replay_scores(actions: np.ndarray, seeds: torch.Tensor, tasks: list) -> np.ndarray:
    """neurogym's performance (E, B) of every trial under the actions (E, B, T): trial b of
    member e is trial ``seeds[e, b]`` of the adapter ``tasks[e][b]`` (:meth:`NeurogymTask.
    replay`); a trial that several members answer alike is replayed once."""
    seeds, scores, scored = seeds.tolist(), np.zeros(actions.shape[:2]), {}
    for member, trial in np.ndindex(*actions.shape[:2]):
        task = tasks[member][trial]
        key = (id(task), seeds[member][trial], actions[member, trial].tobytes())
        if key not in scored:
            scored[key] = task.replay(key[1], actions[member, trial])
        scores[member, trial] = scored[key]
    return scores
