"""Transient steering and perceptron-like stability plasticity (the steering learner's rule).

Scardecchia, arXiv 2510.11984 (2025); Badalotti et al., arXiv 2509.05041; spec
``steering.md`` sections 2.3 and 3, checked against the authors' ``double_relax`` and
``perceptron_rule``.

One training step on a mini-batch, starting from the all-zero state:

1. **warm-up**, L sweeps: input only, no feedback, no label;
2. **clamped phase**, sweeps L .. T-1: the label (lambda_y = 1000) pins the readout to the
   target and W_back r(y) steers the hidden layers;
3. **free phase**, T sweeps: the feedback is removed (abruptly, as the authors' code, or
   by a linear ramp (T-1-k)/T that reaches 0 on the last sweep); the readout stays
   pinned but no longer acts on the hidden units;
4. **plasticity** on the free state s* (``steered=False``: on the clamped state), with
   fields h recomputed without feedback and label but with the self-coupling:

   hidden i unstable   <=>  s*_i h_i <= kappa_h + J_D (+ lambda if L > 1)
   readout c unstable  <=>  y_c f_c <= kappa_out,   f = W_out s*
   dJ_ij   = eta_J lambda_int / sqrt(H) / sqrt(B) sum_b s_i s_j 1[unstable_i]   (i != j)
   dW_in   = eta_in lambda_x / sqrt(N) / sqrt(B) sum_b s_i x_n 1[unstable_i]
   dW_out  = eta_W lambda_forth / sqrt(H) / sqrt(B) sum_b y_c s_j 1[unstable_c]
   W <- W (1 - wd * eta_eff) + dW    (eta_eff: the per-entry rate above; the diagonal
                                      of J and W_back never change)

``readout_label_quirk=True`` reproduces the authors' code, in which the readout's target
in the update is r(r(y)): C/4 for the target class and -sqrt(C)/4 for the others (spec 3.1).
Every threshold, learning rate and weight decay accepts one value per ensemble member.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

from neurodyn.checks import MemberValue, check_choice, check_positive_int, member_values
from neurodyn.networks.binary import (
    BinarySteeringNetwork,
    Relaxation,
    SteeringState,
    SteeringWeights,
)

FEEDBACK_REMOVAL = ("abrupt", "ramp")


@dataclass(frozen=True)
class SteeringStats:
    """Per-member diagnostics of one step, each of shape (E,)."""

    sweeps: torch.Tensor
    unstable_fraction: torch.Tensor
    hidden_update_fraction: torch.Tensor
    readout_update_fraction: torch.Tensor


@dataclass(frozen=True)
class SteeringRule:
    """Configuration of the steering rule; see the module docstring for the equations.

    Defaults are the spec's main configuration (``baseline_1layer_largeP``): kappa_h 0.9
    (J_D is added), kappa_out 3, eta_J 0.005, eta_in 0.03, eta_W 0.1, weight decays
    0.005 / 0 / 0.005, T = 5 training sweeps followed by T free sweeps.
    """

    hidden_threshold: MemberValue = 0.9
    readout_threshold: MemberValue = 3.0
    coupling_learning_rate: MemberValue = 0.005
    input_learning_rate: MemberValue = 0.03
    readout_learning_rate: MemberValue = 0.1
    readout_skip_learning_rate: MemberValue = 0.1
    coupling_weight_decay: MemberValue = 0.005
    input_weight_decay: MemberValue = 0.0
    readout_weight_decay: MemberValue = 0.005
    train_sweeps: int = 5
    free_sweeps: int | None = None
    feedback_removal: str = "abrupt"
    steered: bool = True
    readout_label_quirk: bool = False

    def __post_init__(self) -> None:
        check_positive_int("train_sweeps", self.train_sweeps)
        if self.free_sweeps is not None:
            check_positive_int("free_sweeps", self.free_sweeps)
        check_choice("feedback_removal", self.feedback_removal, FEEDBACK_REMOVAL)

    # ------------------------------------------------------------------ relaxation
    def free_schedule(self) -> list[float]:
        free = self.free_sweeps or self.train_sweeps
        if self.feedback_removal == "abrupt":
            return [0.0] * free
        return [(free - 1 - k) / free for k in range(free)]

    def relax(
        self,
        network: BinarySteeringNetwork,
        weights: SteeringWeights,
        x: torch.Tensor,
        labels: torch.Tensor,
        *,
        generators: list[torch.Generator] | None = None,
        drive: torch.Tensor | None = None,
    ) -> Relaxation:
        """Warm-up, clamped and (if ``steered``) free phases.

        Returns the relaxation of the last phase: its final state, and the sweeps that
        phase needed until no unit flipped. Without ``drive`` the weights are checked
        (:meth:`BinarySteeringNetwork.check_weights`, not finiteness).
        """
        if drive is None:
            network.check_weights(weights, finite=False)
        L, T = network.num_layers, self.train_sweeps
        if T <= L:
            raise ValueError(
                f"train_sweeps={T} leaves no clamped sweep after the {L} warm-up sweep(s); "
                f"use train_sweeps > num_layers"
            )
        x = network.prepare_inputs(x)
        target = network.one_hot(network.prepare_labels(labels, x.shape[1]))
        drive = network.input_drive(weights, x) if drive is None else drive
        common = {"generators": generators, "drive": drive, "label": target}
        warm = network.relax(weights, x, sweeps=L, generators=generators, drive=drive)
        clamped = network.relax(
            weights,
            x,
            sweeps=T - L,
            state=warm.state,
            recurrent=warm.recurrent,
            feedback=1.0,
            **common,
        )
        if not self.steered:
            return clamped
        schedule = self.free_schedule()
        return network.relax(
            weights,
            x,
            sweeps=len(schedule),
            state=clamped.state,
            recurrent=clamped.recurrent,
            feedback=schedule,
            **common,
        )

    # ------------------------------------------------------------------ plasticity
    def readout_targets(self, network: BinarySteeringNetwork, labels: torch.Tensor) -> torch.Tensor:
        """+-1 targets, or the authors' r(r(y)) values when ``readout_label_quirk``."""
        target = network.one_hot(labels)
        if self.readout_label_quirk:
            C = network.num_classes
            target = torch.where(target > 0, C / 4.0, -math.sqrt(C) / 4.0).to(target.dtype)
        return target

    def _rate(self, network: BinarySteeringNetwork, name: str) -> torch.Tensor:
        E = network.ensemble_size
        values = member_values(
            name, getattr(self, name), E, minimum=0.0, dtype=network.dtype, device=network.device
        )
        return values.view(E, 1, 1, 1)

    def update(
        self,
        network: BinarySteeringNetwork,
        weights: SteeringWeights,
        x: torch.Tensor,
        labels: torch.Tensor,
        state: SteeringState,
        *,
        drive: torch.Tensor | None = None,
        recurrent: torch.Tensor | None = None,
        inplace: bool = False,
    ) -> tuple[SteeringWeights, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Perceptron-like stability update on ``state``.

        Returns the new weights, the unstable fraction of the state (s h < 0, (E, B)) and
        the fractions of hidden and readout units that were updated, each (E,). With
        ``inplace`` the given weights are overwritten (the training loop owns its copy;
        this avoids allocating a fresh H x H matrix per mini-batch). ``drive`` and
        ``recurrent`` may pass x W_in and s J when the relaxation already computed them;
        without ``drive`` the weights are checked as in :meth:`relax`.
        """
        if drive is None:
            network.check_weights(weights, finite=False)
        E, L, H, N = (
            network.ensemble_size,
            network.num_layers,
            network.hidden_size,
            network.input_size,
        )
        x = network.prepare_inputs(x)
        B = x.shape[1]
        labels = network.prepare_labels(labels, B)
        rate = functools.partial(self._rate, network)
        drive = network.input_drive(weights, x) if drive is None else drive

        # Gates from the old weights: fields without feedback and label, with J_D.
        s = state.hidden
        fields = network.hidden_fields(weights, state, drive, recurrent=recurrent)
        offset = network.self_coupling + (network.ferromagnetic_strength if L > 1 else 0.0)
        unstable = s * fields <= rate("hidden_threshold") + offset.view(E, 1, 1, 1)
        target = self.readout_targets(network, labels)  # (E, B, C)
        readout_threshold = rate("readout_threshold").view(E, 1, 1)
        readout_unstable = target * network.logits(weights, s) <= readout_threshold

        root_b = math.sqrt(B)
        eta_j = rate("coupling_learning_rate") * network.internal_strength.view(E, 1, 1, 1)
        eta_j = eta_j / math.sqrt(H)
        eta_in = rate("input_learning_rate") * network.input_strength.view(E, 1, 1, 1)
        eta_in = eta_in / math.sqrt(N)
        eta_w = self._readout_rates(network, rate)  # (E, L, 1, 1)

        new = weights if inplace else weights.clone()
        gated = s * unstable  # (E, L, B, H)
        s_t = s.transpose(-1, -2)  # presynaptic factor (E, L, H, B)
        # A group whose rate is zero in every member (the baselines' J and W_in) is skipped.
        if bool(eta_j.any()):
            diagonal = weights.couplings.diagonal(dim1=-2, dim2=-1).clone()
            keep_j = 1 - rate("coupling_weight_decay") * eta_j
            _decay_and_add(new.couplings, keep_j, s_t, gated * (eta_j / root_b))
            new.couplings.diagonal(dim1=-2, dim2=-1).copy_(diagonal)
        if bool(eta_in.any()):
            keep_in = 1 - rate("input_weight_decay") * eta_in
            x_t = x.transpose(-1, -2).unsqueeze(1).expand(E, L, N, B)
            _decay_and_add(new.input_weights, keep_in, x_t, gated * (eta_in / root_b))
        if bool(eta_w.any()):
            keep_w = 1 - rate("readout_weight_decay") * eta_w
            readout_gated = (target * readout_unstable).unsqueeze(1) * (eta_w / root_b)
            _decay_and_add(new.readout_weights, keep_w, s_t, readout_gated)
        unstable_fraction = (s * fields < 0).float().mean(dim=(1, 3))
        return (
            new,
            unstable_fraction,
            unstable.float().mean(dim=(1, 2, 3)),
            readout_unstable.float().mean(dim=(1, 2)),
        )

    @staticmethod
    def _readout_rates(network: BinarySteeringNetwork, rate) -> torch.Tensor:
        """eta * lambda / sqrt(H) per layer: W_out proper for layer L-1, skips before it."""
        E, L = network.ensemble_size, network.num_layers
        main = rate("readout_learning_rate").view(E) * network.readout_strength
        skip = rate("readout_skip_learning_rate").view(E) * network.readout_skip_strength
        per_layer = skip.view(E, 1).repeat(1, L)
        per_layer[:, -1] = main
        return (per_layer / math.sqrt(network.hidden_size)).view(E, L, 1, 1)

    def step(
        self,
        network: BinarySteeringNetwork,
        weights: SteeringWeights,
        x: torch.Tensor,
        labels: torch.Tensor,
        *,
        generators: list[torch.Generator] | None = None,
        inplace: bool = False,
    ) -> tuple[SteeringWeights, SteeringStats]:
        """Steered relaxation followed by the stability update: one mini-batch. The weights
        are checked once (:meth:`BinarySteeringNetwork.check_weights`, not finiteness: the
        training loops check that at their entry)."""
        network.check_weights(weights, finite=False)
        x = network.prepare_inputs(x)
        drive = network.input_drive(weights, x)
        relaxation = self.relax(network, weights, x, labels, generators=generators, drive=drive)
        new, unstable, hidden_updates, readout_updates = self.update(
            network,
            weights,
            x,
            labels,
            relaxation.state,
            drive=drive,
            recurrent=relaxation.recurrent,
            inplace=inplace,
        )
        stats = SteeringStats(
            sweeps=relaxation.sweeps.float().mean(-1),
            unstable_fraction=unstable.mean(-1),
            hidden_update_fraction=hidden_updates,
            readout_update_fraction=readout_updates,
        )
        return new, stats


def _decay_and_add(
    weight: torch.Tensor, keep: torch.Tensor, left: torch.Tensor, right: torch.Tensor
) -> None:
    """In place: weight <- keep * weight + left @ right, batched over the leading axes.

    ``weight`` is (E, L, rows, cols), ``left`` (E, L, rows, B), ``right`` broadcastable to
    (E, L, B, cols) and ``keep`` to (E, L, 1, 1). When every member decays alike the decay
    is fused into the product (one pass over the weights instead of two).
    """
    rows, cols = weight.shape[-2:]
    flat = weight.view(-1, rows, cols)
    left = left.reshape(-1, rows, left.shape[-1])
    right = right.expand(*weight.shape[:-2], -1, cols).reshape(-1, left.shape[-1], cols)
    first = keep.flatten()[0]
    if bool((keep == first).all()):
        flat.baddbmm_(left, right, beta=float(first))
    else:
        weight.mul_(keep)
        flat.baddbmm_(left, right)
