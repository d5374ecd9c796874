"""Containers shared by the classification data sets."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from neurodyn.checks import (
    check_finite,
    check_integer,
    check_positive_int,
    check_tensor,
    describe,
)
from neurodyn.rng import Draws, check_keys


@dataclass(frozen=True)
class ClassificationData:
    """A labelled train/test split: inputs (P, N) float, labels (P,) int64 in [0, C)."""

    name: str
    train_inputs: torch.Tensor
    train_labels: torch.Tensor
    test_inputs: torch.Tensor
    test_labels: torch.Tensor
    num_classes: int

    def __post_init__(self) -> None:
        check_positive_int("num_classes", self.num_classes, minimum=2)
        for split in ("train", "test"):
            inputs, labels = getattr(self, f"{split}_inputs"), getattr(self, f"{split}_labels")
            check_tensor(f"{split}_inputs", inputs)
            check_tensor(f"{split}_labels", labels)
            if inputs.dim() != 2 or labels.dim() != 1 or inputs.shape[0] != labels.shape[0]:
                raise ValueError(
                    f"{split} inputs must be (P, N) and labels (P,) with the same P, got "
                    f"{tuple(inputs.shape)} and {tuple(labels.shape)}"
                )
            if inputs.shape[0] == 0:
                raise ValueError(f"the {split} split of {self.name} is empty")
            check_finite(f"{split} inputs", inputs)
            if labels.dtype.is_floating_point or labels.is_complex() or labels.dtype == torch.bool:
                raise ValueError(
                    f"{split}_labels must be integer class indices, got {labels.dtype}"
                )
            if bool(((labels < 0) | (labels >= self.num_classes)).any()):
                raise ValueError(f"{split}_labels must lie in [0, {self.num_classes - 1}]")
        if self.train_inputs.shape[1] != self.test_inputs.shape[1]:
            raise ValueError("train and test inputs have different widths")

    @property
    def input_size(self) -> int:
        return int(self.train_inputs.shape[1])


@dataclass(frozen=True)
class TrialBatch:
    """Trial-based task data: inputs (..., B, T, N_in), targets, mask (the loss weight of
    every step, in [0, 1]: :mod:`neurodyn.tasks.periods`) and trial facts.

    Leading axes are empty for one batch and (E,) for an ensemble's batches.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor
    info: dict[str, torch.Tensor]


class TrialSampling:
    """``sample`` from a generator and ``sample_members`` for an ensemble, both through the
    task's ``generate(batch, draws)``; ``alpha`` from the task's ``dt`` and ``tau``."""

    @property
    def alpha(self) -> float:
        """The leak alpha = 1 - dt / tau of a rate network stepped at the task's dt
        (spec ``rate-rnn-eprop-lyapunov.md`` 2.3: 0.5 for Romo, 0 for the neurogym tasks)."""
        return 1 - self.dt / self.tau

    def check_time_constant(self) -> None:
        if not 0 < self.dt <= self.tau:
            raise ValueError(
                f"need 0 < dt <= tau (a leak alpha = 1 - dt / tau in [0, 1)), got dt = {self.dt}"
                f" and tau = {self.tau}"
            )

    def sample(self, batch: int, generator: torch.Generator | None = None) -> TrialBatch:
        """``batch`` trials from ``generator`` (required: there is no global random
        state): tensors (B, T, ...)."""
        check_positive_int("batch", batch)
        if not isinstance(generator, torch.Generator):
            raise TypeError(
                "generator must be a torch.Generator, e.g. neurodyn.rng.generator(seed, "
                f"'task'), got {describe(generator)}"
            )
        return self.generate(batch, Draws(generator))

    def sample_members(self, batch: int, keys: torch.Tensor, counter: int) -> TrialBatch:
        """``batch`` trials per ensemble member from counter-based keys: (E, B, T, ...).

        ``keys`` (E,) int64 come from :func:`neurodyn.rng.member_keys`, ``counter`` >= 0
        numbers the draw. A member's trials depend only on its key, so members with equal
        keys (a sweep's members of one seed) share them: each distinct key is generated once.
        The trials are generated on the CPU (the same numbers on every device) and returned
        on the device of ``keys``.
        """
        check_positive_int("batch", batch)
        check_keys("keys", keys)
        counter = check_integer("counter", counter, minimum=0)
        device, keys = keys.device, keys.cpu()
        distinct, member = torch.unique(keys, return_inverse=True)
        unique = len(distinct) == len(keys)
        trials = self.generate(batch, Draws(keys=keys if unique else distinct, counter=counter))

        def spread(value: torch.Tensor) -> torch.Tensor:  # 5-10x faster than value[member]
            value = value if unique else value.index_select(0, member)
            return value.to(device)

        return TrialBatch(
            spread(trials.inputs),
            spread(trials.targets),
            spread(trials.mask),
            {name: spread(value) for name, value in trials.info.items()},
        )

    def sample_member_streams(
        self, batch: int, trials: int, keys: torch.Tensor, counter: int
    ) -> torch.Tensor:
        """Inputs of ``batch`` streams of ``trials`` consecutive trials per member:
        (E, B, trials * T, N_in), trials back to back like neurogym's ``Dataset`` (the
        input streams of Lyapunov spectra and gradient flossing, spec section 5.3)."""
        check_positive_int("batch", batch)
        check_positive_int("trials", trials)
        inputs = self.sample_members(batch * trials, keys, counter).inputs
        members, _, steps, channels = inputs.shape
        return inputs.reshape(members, batch, trials * steps, channels)
