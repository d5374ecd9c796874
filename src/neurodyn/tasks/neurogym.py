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
* Targets are neurogym's ground-truth action per step (``env.gt``), so the loss is the
  cross entropy over all (unmasked) steps of Yang & Wang (2020); ``output_size`` is the
  number of actions. Environments with continuous actions are rejected.
* ``info`` holds every numeric entry of the trial dictionaries ("ground_truth", "coh",
  ...) as tensors; trial-specific timing stays inside the environment.
* Generation runs in Python, one trial at a time (about 0.1 ms per trial): the native
  tasks (:mod:`neurodyn.tasks.romo`, :mod:`neurodyn.tasks.decision`) are the fast path.
"""

from __future__ import annotations

import functools
import numbers
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from neurodyn.rng import Draws
from neurodyn.tasks._base import TrialBatch, TrialSampling

SEED_RANGE = 2**31 - 1  # numpy's RandomState accepts seeds below 2^32


def make_environment(env_id: str, env_kwargs: dict[str, Any] | None = None):
    """The unwrapped neurogym environment ``env_id`` (its trial generator, no gym wrappers).

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
    return env.unwrapped


@dataclass(frozen=True)
class NeurogymTask(TrialSampling):
    """Trials of the neurogym environment ``env_id`` built with ``env_kwargs``; ``tau``
    is the network's time constant in the environment's ms (default: its dt, so
    alpha = 0, the setting of Yang & Wang 2020 and of the paper)."""

    env_id: str
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    tau: float | None = None

    loss = "cross_entropy"

    def __post_init__(self) -> None:
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
        self.check_time_constant()

    @property
    def dt(self) -> float:
        """The environment's step in ms."""
        return float(self.environment.dt)

    @functools.cached_property
    def environment(self):
        """The task's environment (made once; seeded before every trial)."""
        return make_environment(self.env_id, self.env_kwargs)

    @property
    def input_size(self) -> int:
        return int(self.environment.observation_space.shape[0])

    @property
    def output_size(self) -> int:
        return int(self.environment.action_space.n)

    def generate(self, batch: int, draws: Draws) -> TrialBatch:
        """One seeded ``new_trial()`` per trial, for every leading (ensemble) index."""
        seeds = (draws.uniform(batch) * SEED_RANGE).long()
        env = self.environment
        trials, facts = [], []
        for seed in seeds.flatten().tolist():
            env.seed(seed)
            facts.append(env.new_trial())
            trials.append((np.asarray(env.ob, dtype=np.float32), np.asarray(env.gt)))
        steps = max(ob.shape[0] for ob, _ in trials)
        inputs = torch.zeros(len(trials), steps, self.input_size)
        targets = torch.zeros(len(trials), steps, dtype=torch.long)
        mask = torch.zeros(len(trials), steps)
        for k, (ob, gt) in enumerate(trials):
            inputs[k, : ob.shape[0]] = torch.from_numpy(ob)
            targets[k, : gt.shape[0]] = torch.from_numpy(gt.astype(np.int64))
            mask[k, : ob.shape[0]] = 1.0
        lead = tuple(seeds.shape)
        info = {
            name: torch.tensor([trial[name] for trial in facts]).reshape(lead)
            for name in facts[0]
            if all(isinstance(trial.get(name), numbers.Number) for trial in facts)
        }
        return TrialBatch(
            inputs.reshape(*lead, steps, -1),
            targets.reshape(*lead, steps),
            mask.reshape(*lead, steps),
            info,
        )

    def accuracy(self, outputs: torch.Tensor, batch: TrialBatch) -> dict[str, torch.Tensor]:
        """Per member (E,): the fraction of trials whose action at their last step (the
        argmax of outputs (E, B, T, actions)) is the target; neurogym trials end with
        their decision period, so this scores the decision, fixation included (no-go)."""
        last = (batch.mask.sum(-1).long() - 1).to(outputs.device)  # (E, B)
        final = outputs.gather(2, last[..., None, None].expand(*last.shape, 1, outputs.shape[-1]))
        target = batch.targets.to(outputs.device).gather(2, last[..., None])
        return {"all": (final.squeeze(2).argmax(-1) == target.squeeze(2)).float().mean(-1)}
