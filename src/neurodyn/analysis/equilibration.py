"""Equilibration time of a trained steering network: sweeps to a fixed point as a signal.

The thesis's open question 4 (Scardecchia, arXiv 2510.11984, "Open Questions"): does the
time the dynamics need to reach a fixed point carry information, about the label
(steered relaxation under each candidate label) or about the input (free relaxation of
in- vs out-of-distribution inputs)? Everything runs on the ensemble axis E and on all
samples (times labels) at once, in batches of ``batch_size``.

Conventions (documented choices):

* **Sweeps to converge** are :class:`~neurodyn.networks.steering_state.Relaxation`'s: the
  index of the first sweep in which no unit flips (the readout included), so a state
  that is already a fixed point counts 1. A run that does not converge within the budget
  counts **budget + 1**, above every converged run (:func:`censored_sweeps`).
* **Dynamics** are the network's, synchronous as trained by default; stochastic updates
  (``update_probability < 1``) draw from ``generators``, one per member.
* **Steered relaxation** (:func:`steered_relaxation`): the rule's warm-up and clamped
  phases (label pinned by lambda_y, feedback W_back r(y) on), then the free phase (the
  rule's feedback removal, then feedback 0) for up to ``max_sweeps`` sweeps until no unit
  flips; its sweeps count from the first free sweep. The readout stays pinned.
* **Ties** of the fastest label (equal sweep counts, most samples when the steered state
  is already stable once the feedback goes) are split evenly: a sample whose
  correct label is among k fastest counts 1/k (the expected accuracy of a uniformly
  random tie-break; :func:`fastest_label_accuracy`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from neurodyn.checks import check_positive_int
from neurodyn.networks.binary import BinarySteeringNetwork, Relaxation, SteeringWeights
from neurodyn.rules.steering import SteeringRule


def censored_sweeps(relaxation: Relaxation, budget: int) -> torch.Tensor:
    """Sweeps to converge, ``budget + 1`` where the relaxation did not converge."""
    return torch.where(relaxation.converged, relaxation.sweeps, budget + 1)


def steered_relaxation(
    network: BinarySteeringNetwork,
    rule: SteeringRule,
    weights: SteeringWeights,
    x: torch.Tensor,
    labels: torch.Tensor,
    *,
    max_sweeps: int,
    generators: list[torch.Generator] | None = None,
) -> tuple[Relaxation, Relaxation]:
    """Warm-up and clamped phases of ``rule`` under ``labels`` (B,) or (E, B), then up to
    ``max_sweeps`` free sweeps (the rule's feedback removal first), stopping when stable.
    Returns the clamped and the free relaxation."""
    x = network.prepare_inputs(x)
    clamped = replace(rule, steered=False).relax(network, weights, x, labels, generators=generators)
    removal = rule.free_schedule()
    if max_sweeps < len(removal):
        raise ValueError(f"max_sweeps={max_sweeps} is shorter than the rule's free phase")
    free = network.relax(
        weights,
        x,
        sweeps=max_sweeps,
        state=clamped.state,
        recurrent=clamped.recurrent,
        feedback=removal + [0.0] * (max_sweeps - len(removal)),
        label=network.one_hot(network.prepare_labels(labels, x.shape[1])),
        stop_when_stable=True,
        generators=generators,
    )
    return clamped, free


@torch.no_grad()
def label_sweeps(
    network: BinarySteeringNetwork,
    rule: SteeringRule,
    weights: SteeringWeights,
    inputs: torch.Tensor,
    *,
    max_sweeps: int,
    batch_size: int = 4096,
    generators: list[torch.Generator] | None = None,
) -> dict[str, torch.Tensor]:
    """Steered relaxation of every input (P, N) under every label, as one batch of P C
    (sample, label) pairs cut into ``batch_size`` chunks.

    Returns, each (E, P, C): the censored ``sweeps`` of the free phase
    (:func:`censored_sweeps`), the ``unstable_removal`` fraction of the clamped state once
    the feedback is removed (s h < 0 without feedback: how far the steered state is from
    a free fixed point) and the ``unstable_final`` fraction after the free phase.
    """
    check_positive_int("batch_size", batch_size)
    P, C = inputs.shape[0], network.num_classes
    pairs = inputs.repeat_interleave(C, 0)  # pair p C + c: sample p under label c
    labels = torch.arange(C).repeat(P)
    parts: dict[str, list[torch.Tensor]] = {}
    for start in range(0, P * C, batch_size):
        x, y = pairs[start : start + batch_size], labels[start : start + batch_size]
        clamped, free = steered_relaxation(
            network, rule, weights, x, y, max_sweeps=max_sweeps, generators=generators
        )
        values = {
            "sweeps": censored_sweeps(free, max_sweeps),
            "unstable_removal": network.unstable_fraction(
                weights, clamped.state, x, recurrent=clamped.recurrent
            ),
            "unstable_final": network.unstable_fraction(
                weights, free.state, x, recurrent=free.recurrent
            ),
        }
        for key, value in values.items():
            parts.setdefault(key, []).append(value)
    E = network.ensemble_size
    return {key: torch.cat(value, 1).view(E, P, C) for key, value in parts.items()}


@torch.no_grad()
def free_equilibration(
    network: BinarySteeringNetwork,
    weights: SteeringWeights,
    inputs: torch.Tensor,
    *,
    eval_sweeps: int,
    max_sweeps: int,
    batch_size: int = 4096,
    generators: list[torch.Generator] | None = None,
) -> dict[str, torch.Tensor]:
    """Free relaxation from zero (no feedback, no label) of inputs (P, N), each (E, P):

    ``sweeps`` (censored at ``max_sweeps + 1``), ``converged``; at the evaluation state
    after ``eval_sweeps`` sweeps (the state the classifier reads) the ``max_logit`` and
    ``prediction`` of the readout and the ``unstable_eval`` fraction; the
    ``unstable_final`` fraction after the relaxation (0 where it converged).
    """
    check_positive_int("batch_size", batch_size)
    if max_sweeps < eval_sweeps:
        raise ValueError(f"max_sweeps={max_sweeps} is below eval_sweeps={eval_sweeps}")
    parts: dict[str, list[torch.Tensor]] = {}
    for start in range(0, inputs.shape[0], batch_size):
        x = inputs[start : start + batch_size]
        first = network.relax(weights, x, sweeps=eval_sweeps, generators=generators)
        logits = network.logits(weights, first.state.hidden)
        rest = network.relax(
            weights,
            x,
            sweeps=max_sweeps - eval_sweeps,
            state=first.state,
            recurrent=first.recurrent,
            stop_when_stable=True,
            generators=generators,
        )
        converged = first.converged | rest.converged
        sweeps = torch.where(first.converged, first.sweeps, eval_sweeps + rest.sweeps)
        values = {
            "sweeps": torch.where(converged, sweeps, max_sweeps + 1),
            "converged": converged,
            "max_logit": logits.max(-1).values,
            "prediction": logits.argmax(-1),
            "unstable_eval": network.unstable_fraction(
                weights, first.state, x, recurrent=first.recurrent
            ),
            "unstable_final": network.unstable_fraction(
                weights, rest.state, x, recurrent=rest.recurrent
            ),
        }
        for key, value in values.items():
            parts.setdefault(key, []).append(value)
    return {key: torch.cat(value, 1) for key, value in parts.items()}


def fastest_label_accuracy(sweeps: torch.Tensor, labels: torch.Tensor):
    """Accuracy of "the label with the smallest score" from scores (E, P, C), e.g. sweeps,
    and the correct labels (P,), ties split evenly; and the fraction of samples with a
    tie, each (E,)."""
    fastest = sweeps == sweeps.min(-1, keepdim=True).values
    count = fastest.sum(-1)
    index = labels.view(1, -1, 1).expand(sweeps.shape[0], -1, 1).to(sweeps.device)
    hit = fastest.gather(-1, index).squeeze(-1)
    return (hit / count).mean(-1), (count > 1).float().mean(-1)


def auroc(in_distribution, out_of_distribution) -> float:
    """Area under the ROC curve of a score meant to be larger out of distribution:
    P(score_out > score_in) + P(tie) / 2 (scikit-learn's ``roc_auc_score``)."""
    from sklearn.metrics import roc_auc_score

    inside, outside = np.asarray(in_distribution), np.asarray(out_of_distribution)
    truth = np.r_[np.zeros(inside.size), np.ones(outside.size)]
    return float(roc_auc_score(truth, np.r_[inside.ravel(), outside.ravel()]))
