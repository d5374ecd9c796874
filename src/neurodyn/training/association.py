"""``train_until_stored``: every ensemble member learns its own number of associations.

The storage protocol of the capacity experiment (spec ``steering.md`` 4.3; the thesis's
"hetero-association capacity"): member e learns the first ``counts[e]`` of its
associations (patterns (E, P, N), labels (E, P)) with the steering rule, in mini-batches
of B drawn in a fresh random order every epoch from the member's ``"data"`` stream (the
last incomplete batch dropped, as in :func:`neurodyn.training.train_epoch`). After each
epoch the free relaxation from zero (no feedback, no label, ``eval_sweeps`` sweeps, spec
2.4) classifies every association; a member **stores** its set from the first epoch at
which all of its ``counts[e]`` associations are classified correctly (or, with
``threshold`` < 1, at least that fraction of them). Training stops when
every member stores its set, or after ``epochs`` epochs.

Members with different counts share one batched computation: an epoch runs as many steps
as the largest member needs, and a member whose epoch is over (step k >= counts[e] // B)
relaxes on its first batch with every learning rate set to zero, which leaves its weights
exactly unchanged (weight decay scales with the rate, spec 3.1). With deterministic
dynamics (update probability 1) a member's result therefore does not depend on the other
members; with stochastic updates its random numbers also depend on the largest count.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from neurodyn.checks import (
    check_finite,
    check_positive_int,
    check_real,
    check_shape,
    check_tensor,
    describe,
    member_values,
)
from neurodyn.networks.binary import BinarySteeringNetwork, SteeringWeights
from neurodyn.precision import full_precision
from neurodyn.rules.steering import SteeringRule
from neurodyn.training.classification import RandomStreams

LEARNING_RATES = (
    "coupling_learning_rate",
    "input_learning_rate",
    "readout_learning_rate",
    "readout_skip_learning_rate",
)


@dataclass(frozen=True)
class Storage:
    """Per-member outcome, each (E,): ``stored``; ``epoch`` of the first perfect recall
    (0 if never); ``recall``, the best fraction of the member's associations recalled."""

    stored: torch.Tensor
    epoch: torch.Tensor
    recall: torch.Tensor


@torch.no_grad()
def recall_accuracy(
    network: BinarySteeringNetwork,
    weights: SteeringWeights,
    patterns: torch.Tensor,
    labels: torch.Tensor,
    counts: torch.Tensor,
    *,
    sweeps: int,
    batch_size: int = 1024,
    generators: list[torch.Generator] | None = None,
) -> torch.Tensor:
    """Fraction of each member's first ``counts[e]`` associations that the free relaxation
    from zero classifies correctly (argmax of the readout field): (E,)."""
    correct = torch.zeros(network.ensemble_size, device=network.device)
    counts = counts.to(network.device)
    for start in range(0, patterns.shape[1], batch_size):
        x = patterns[:, start : start + batch_size]
        y = labels[:, start : start + batch_size].to(network.device)
        state = network.relax(weights, x, sweeps=sweeps, generators=generators).state
        hit = network.logits(weights, state.hidden).argmax(-1) == y
        inside = torch.arange(start, start + x.shape[1], device=network.device) < counts[:, None]
        correct += (hit & inside).sum(-1)
    return correct / counts


def member_counts(counts, ensemble_size: int) -> torch.Tensor:
    """``counts`` (one integer per member: a sequence or an integer tensor) as (E,) int64."""
    try:
        values = torch.as_tensor(counts)
    except (TypeError, ValueError, RuntimeError):
        values = None
    if (
        values is None
        or values.dtype.is_floating_point
        or values.dtype.is_complex
        or (values.dtype == torch.bool)
    ):
        raise ValueError(f"counts must be integers, one per member, got {describe(counts)}")
    return check_shape("counts", values.to(torch.long).cpu(), (ensemble_size,), "(E,)")


def _paused(rule: SteeringRule, active: torch.Tensor) -> SteeringRule:
    """``rule`` with every learning rate of the inactive members set to zero."""
    keep = active.double()
    return dataclasses.replace(
        rule,
        **{
            name: tuple(
                (
                    member_values(name, getattr(rule, name), keep.numel(), dtype=torch.float64)
                    * keep
                ).tolist()
            )
            for name in LEARNING_RATES
        },
    )


@torch.no_grad()
@full_precision()
def train_until_stored(
    network: BinarySteeringNetwork,
    weights: SteeringWeights,
    rule: SteeringRule,
    patterns: torch.Tensor,
    labels: torch.Tensor,
    counts: torch.Tensor,
    *,
    epochs: int,
    streams: RandomStreams,
    batch_size: int = 16,
    eval_sweeps: int = 5,
    threshold: float = 1.0,
    progress: tqdm | None = None,
) -> tuple[SteeringWeights, Storage]:
    """Train member e on its first ``counts[e]`` associations until all members store theirs
    (recall at least ``threshold``, in (0, 1]; 1: every association).

    ``patterns`` (E, P, N) and ``labels`` (E, P) hold at least max(counts) associations per
    member; every count must be at least ``batch_size``. The given weights are not
    modified. ``progress`` (a tqdm bar) advances once per epoch and shows how many members
    store their set and the lowest recall.
    """
    E = network.ensemble_size
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    check_positive_int("eval_sweeps", eval_sweeps, minimum=0)
    if check_real("threshold", threshold) <= 0 or threshold > 1:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold!r}")
    network.check_weights(weights)
    RandomStreams.check(streams, E)
    check_tensor("patterns", patterns, (E, None, network.input_size), axes="(E, P, N)")
    check_finite("patterns", patterns)
    check_tensor("labels", labels, (E, patterns.shape[1]), axes="(E, P)")
    network.prepare_labels(labels, patterns.shape[1])
    counts = member_counts(counts, E)
    if bool((counts < batch_size).any()) or bool((counts > patterns.shape[1]).any()):
        raise ValueError(
            f"counts must lie in [batch_size={batch_size}, {patterns.shape[1]}], "
            f"got {counts.tolist()}"
        )
    weights = weights.clone()  # updated in place below
    steps = counts // batch_size
    members = torch.arange(E)[:, None]
    stored = torch.zeros(E, dtype=torch.bool)
    first = torch.zeros(E, dtype=torch.long)
    best = torch.zeros(E)
    for epoch in range(1, epochs + 1):
        orders = [
            torch.randperm(int(c), generator=g) for c, g in zip(counts, streams.data, strict=True)
        ]
        for k in range(int(steps.max())):
            active = k < steps
            idx = torch.stack(
                [
                    order[k * batch_size : (k + 1) * batch_size] if on else order[:batch_size]
                    for order, on in zip(orders, active.tolist(), strict=True)
                ]
            )
            step_rule = rule if bool(active.all()) else _paused(rule, active)
            weights, _ = step_rule.step(
                network,
                weights,
                patterns[members, idx],
                labels[members, idx],
                generators=streams.dynamics,
                inplace=True,
            )
        recall = recall_accuracy(
            network,
            weights,
            patterns,
            labels,
            counts,
            sweeps=eval_sweeps,
            generators=streams.evaluation,
        ).cpu()
        best = torch.maximum(best, recall)
        newly = (recall >= threshold) & ~stored
        first[newly] = epoch
        stored |= newly
        if progress is not None:
            progress.update(1)
            progress.set_postfix_str(
                f"stored {int(stored.sum())}/{E}, lowest recall {float(recall.min()):.3f}",
                refresh=False,
            )
        if bool(stored.all()):
            break
    return weights, Storage(stored, first, best)
