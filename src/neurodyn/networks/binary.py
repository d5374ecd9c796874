"""Binary asymmetric recurrent networks with self-coupling (the steering learner's network).

Scardecchia, *Learning by Steering the Neural Dynamics* (arXiv 2510.11984, 2025) and
Badalotti et al., *Dynamical Learning in Deep Asymmetric Recurrent Neural Networks*
(arXiv 2509.05041); spec ``steering.md`` sections 1-2.

A chain x -> s^1 -> ... -> s^L -> y_hat of L hidden layers of H units s in {-1, +1} and
C readout units. The local field of hidden unit i of layer l is

    h^l_i = sum_j J^l_ij s^l_j              (J^l_ii = self_coupling, fixed)
          + sum_n W_in^l_in x_n             (input to every layer)
          + lambda (s^{l-1}_i + s^{l+1}_i)    (ferromagnetic one-to-one links, L > 1)
          + f * sum_c W_back^l_ic r(y_hat_c)  (feedback; f = feedback scale of the phase)

and the readout field is  f_c = sum_l sum_j W_out^l_cj s^l_j + lambda_y y_c  (label term
only while clamped). The prediction is argmax_c of f_c without the label term.

Conventions (documented choices):

* **Weight layout.** Every weight is stored presynaptic x postsynaptic, so each field
  is ``state @ W``: the paper's J_ij is ``couplings[..., j, i]``.
* **Label code r.** Before the readout state enters the feedback it is remapped as in
  the authors' code: r(+1) = sqrt(C)/2, r(-1) = -1/2, r(0) = 0, so the correct class
  dominates W_back r(y).
* **Tied initial feedback.** W_back and W_out come from one Gaussian draw W0 (H x C):
  W_back = lambda_back W0 / sqrt(C) and W_out = lambda_forth W0^T / sqrt(H), as in the
  authors' code (``sample_readout_weights`` is called once). ``tied_feedback=False``
  draws them independently.
* **Ties.** A unit whose field is exactly zero keeps its current value. Starting from
  the all-zero state this leaves the readout at 0 after the first sweep (its field
  W_out 0 is 0), which reproduces ``torch.sign(0) = 0`` in the authors' code; later ties
  have probability zero for Gaussian couplings. The rule is deterministic.
* **Synchronous dynamics** update every unit (hidden and readout) from the previous
  state, each with probability ``update_probability``. **Asynchronous dynamics** visit
  the L*H hidden units of each sample in an independent random order, each unit seeing
  the latest state, then update the readout.
* **Incremental fields.** Synchronous relaxation of small batches keeps the recurrent
  input s J and adds only the rows of the units that flipped, which is exact up to float
  rounding and several times cheaper once few units flip. It is used for
  H >= ``INCREMENTAL_MIN_HIDDEN`` and batches <= ``INCREMENTAL_MAX_BATCH``, a choice that
  depends only on shapes shared by all members, so a member's result never depends on
  the other members.
* Weights carry a leading ensemble axis E; per-member hyperparameters (self-coupling,
  input, feedback, internal and ferromagnetic strengths) are tensors of shape (E,).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

import torch

from neurodyn import rng
from neurodyn.checks import (
    MemberValue,
    check_choice,
    check_finite,
    check_positive_int,
    check_probability,
    check_shape,
    member_values,
)

DYNAMICS = ("synchronous", "asynchronous")
# Measured crossovers (training on Entangled MNIST, B = 16, 1 thread, Nov 2026): a single
# network runs equally fast either way at H = 400 and gains from H = 512 on; an ensemble of
# 8 gains 25% at H = 400 (1.44 vs 1.94 s per 150 steps) and nothing at H = 256.
INCREMENTAL_MIN_HIDDEN = 384
INCREMENTAL_MAX_BATCH = 64  # larger batches (evaluation) flip most units: dense is cheaper
TIE = 1e-30  # fields smaller than this in magnitude leave a unit unchanged


@dataclass(frozen=True)
class SteeringWeights:
    """All weights of an ensemble of steering networks, stored presynaptic x postsynaptic.

    ``couplings`` (E, L, H, H): recurrent J with the fixed self-coupling on the diagonal;
    ``input_weights`` (E, L, N, H); ``readout_weights`` (E, L, H, C), layer L-1 is the
    readout proper and earlier layers are readout skips; ``feedback_weights``
    (E, L, C, H), fixed, layer L-1 is W_back and earlier layers are feedback skips.
    """

    couplings: torch.Tensor
    input_weights: torch.Tensor
    readout_weights: torch.Tensor
    feedback_weights: torch.Tensor

    def tensors(self) -> dict[str, torch.Tensor]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def clone(self) -> SteeringWeights:
        return SteeringWeights(**{k: v.clone() for k, v in self.tensors().items()})

    def member(self, index: int) -> SteeringWeights:
        """The weights of one member, kept as an ensemble of size 1."""
        return SteeringWeights(**{k: v[index : index + 1] for k, v in self.tensors().items()})

    def replace(self, **changes: torch.Tensor) -> SteeringWeights:
        return replace(self, **changes)


@dataclass(frozen=True)
class SteeringState:
    """Network state: ``hidden`` (E, L, B, H) and ``readout`` (E, B, C), values in {-1, 0, 1}."""

    hidden: torch.Tensor
    readout: torch.Tensor
    is_zero: bool = False  # the all-zero start: every field term but the input vanishes


@dataclass(frozen=True)
class Relaxation:
    """Result of :meth:`BinarySteeringNetwork.relax`.

    ``sweeps`` (E, B): sweeps until the first sweep without a flip (the budget if none);
    ``converged`` (E, B): whether such a sweep occurred within the budget;
    ``recurrent`` (E, L, B, H): s J of the final state when the dynamics kept it.
    """

    state: SteeringState
    sweeps: torch.Tensor
    converged: torch.Tensor
    recurrent: torch.Tensor | None = None


class BinarySteeringNetwork:
    """Configuration and dynamics of an ensemble of binary steering networks.

    The object holds configuration only; weights live in :class:`SteeringWeights` and
    are passed explicitly (functional core). Parameters named ``*_strength`` and
    ``self_coupling`` accept one value or one per ensemble member.

    Args:
        input_size: N, number of input bits.
        hidden_size: H, units per hidden layer.
        num_classes: C, readout units.
        num_layers: L, hidden layers in the chain.
        ensemble_size: E, independent networks computed as one batch.
        self_coupling: J_D on the diagonal of every J^l (thesis main value 0.5).
        input_strength: lambda_x, scale of W_in (spec: 5 for Entangled MNIST).
        feedback_strength: lambda_wback, scale of the fixed feedback W_back (0.9).
        readout_strength: lambda_wforth, scale of W_out (1.0).
        internal_strength: lambda_internal, multiplies J including its diagonal; 0 gives
            the random-features baseline.
        label_strength: lambda_y, clamps the readout to the target (1000).
        ferromagnetic_strength: lambda, one-to-one links between consecutive layers.
        feedback_skip_strength: readout -> earlier layers (fixed).
        readout_skip_strength: earlier layers -> readout (learned).
        tied_feedback: draw W_back and W_out from the same Gaussian matrix (authors' code).
        update_probability: each unit updates with this probability per synchronous sweep.
        dynamics: ``"synchronous"`` (authors' code) or ``"asynchronous"`` (random order).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_classes: int = 10,
        *,
        num_layers: int = 1,
        ensemble_size: int = 1,
        self_coupling: MemberValue = 0.5,
        input_strength: MemberValue = 5.0,
        feedback_strength: MemberValue = 0.9,
        readout_strength: MemberValue = 1.0,
        internal_strength: MemberValue = 1.0,
        label_strength: float = 1000.0,
        ferromagnetic_strength: MemberValue = 0.0,
        feedback_skip_strength: MemberValue = 0.0,
        readout_skip_strength: MemberValue = 0.0,
        tied_feedback: bool = True,
        update_probability: float = 1.0,
        dynamics: str = "synchronous",
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ):
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.num_classes = check_positive_int("num_classes", num_classes, minimum=2)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.ensemble_size = check_positive_int("ensemble_size", ensemble_size)
        self.update_probability = check_probability("update_probability", update_probability)
        self.dynamics = check_choice("dynamics", dynamics, DYNAMICS)
        self.label_strength = float(label_strength)
        self.tied_feedback = bool(tied_feedback)
        self.device = torch.device(device)
        self.dtype = dtype

        def per_member(name: str, value: MemberValue, minimum: float | None = 0.0):
            return member_values(
                name, value, ensemble_size, minimum=minimum, dtype=dtype, device=self.device
            )

        self.self_coupling = per_member("self_coupling", self_coupling, None)
        self.input_strength = per_member("input_strength", input_strength)
        self.feedback_strength = per_member("feedback_strength", feedback_strength)
        self.readout_strength = per_member("readout_strength", readout_strength)
        self.internal_strength = per_member("internal_strength", internal_strength)
        self.ferromagnetic_strength = per_member("ferromagnetic_strength", ferromagnetic_strength)
        self.feedback_skip_strength = per_member("feedback_skip_strength", feedback_skip_strength)
        self.readout_skip_strength = per_member("readout_skip_strength", readout_skip_strength)
        # A network without recurrence (random features) skips the H x H product.
        self._recurrent = bool((self.internal_strength != 0).any())
        self._ferromagnetic = num_layers > 1 and bool((self.ferromagnetic_strength != 0).any())
        self._incremental = self._recurrent and hidden_size >= INCREMENTAL_MIN_HIDDEN

    # ------------------------------------------------------------------ initialisation
    def init(self, seed: int | Sequence[int]) -> SteeringWeights:
        """Draw the weights of every member from its own ``"init"`` random stream.

        J_ij ~ N(0, 1/H) * internal_strength with diagonal self_coupling * internal_strength;
        W_in ~ N(0, 1/N) * input_strength; W0 ~ N(0, 1) (H x C) gives
        W_back = W0 feedback_strength / sqrt(C) and W_out = W0^T readout_strength / sqrt(H)
        (skips use the skip strengths). Spec section 1.2.
        """
        E, L, H, N, C = (
            self.ensemble_size,
            self.num_layers,
            self.hidden_size,
            self.input_size,
            self.num_classes,
        )
        seeds = rng.member_seeds(seed, E)
        couplings, inputs, readouts, feedbacks = [], [], [], []
        for e, member_seed in enumerate(seeds):
            gen = rng.generator(member_seed, "init")
            J = torch.randn(L, H, H, generator=gen, dtype=torch.float64) / math.sqrt(H)
            J.diagonal(dim1=-2, dim2=-1).fill_(float(self.self_coupling[e]))
            couplings.append((J * float(self.internal_strength[e])).transpose(-1, -2))
            w0 = torch.randn(H, C, generator=gen, dtype=torch.float64)
            w_in = torch.randn(L, H, N, generator=gen, dtype=torch.float64) / math.sqrt(N)
            inputs.append((w_in * float(self.input_strength[e])).transpose(-1, -2))
            w0_out = w0 if self.tied_feedback else torch.randn(H, C, generator=gen).double()
            back = self._layer_scales(self.feedback_strength[e], self.feedback_skip_strength[e])
            forth = self._layer_scales(self.readout_strength[e], self.readout_skip_strength[e])
            feedbacks.append(back[:, None, None] * w0.T / math.sqrt(C))
            readouts.append(forth[:, None, None] * w0_out / math.sqrt(H))

        def stack(items: list[torch.Tensor]) -> torch.Tensor:
            return torch.stack(items).to(device=self.device, dtype=self.dtype).contiguous()

        return SteeringWeights(stack(couplings), stack(inputs), stack(readouts), stack(feedbacks))

    def _layer_scales(self, last: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        scales = torch.full((self.num_layers,), float(skip), dtype=torch.float64)
        scales[-1] = float(last)
        return scales

    def check_weights(self, weights: SteeringWeights) -> SteeringWeights:
        """Raise if ``weights`` do not belong to this configuration (e.g. from a checkpoint)."""
        E, L, H, N, C = (
            self.ensemble_size,
            self.num_layers,
            self.hidden_size,
            self.input_size,
            self.num_classes,
        )
        expected = {
            "couplings": (E, L, H, H),
            "input_weights": (E, L, N, H),
            "readout_weights": (E, L, H, C),
            "feedback_weights": (E, L, C, H),
        }
        for name, shape in expected.items():
            check_shape(f"weights.{name}", getattr(weights, name), shape)
            check_finite(f"weights.{name}", getattr(weights, name))
        return weights

    # ------------------------------------------------------------------ inputs and states
    def label_code(self, readout: torch.Tensor) -> torch.Tensor:
        """r(y): +1 -> sqrt(C)/2, -1 -> -1/2, 0 -> 0 (authors' feedback remapping)."""
        positive = readout * (0.5 * math.sqrt(self.num_classes))
        return torch.where(readout < 0, -0.5 * readout.abs(), positive)

    def one_hot(self, labels: torch.Tensor) -> torch.Tensor:
        """Class indices (E, B) -> +-1 targets (E, B, C)."""
        shape = (*labels.shape, self.num_classes)
        code = torch.full(shape, -1.0, dtype=self.dtype, device=self.device)
        return code.scatter_(-1, labels.unsqueeze(-1).to(self.device), 1.0)

    def prepare_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Validate inputs (B, N) shared by all members, or (E, B, N); return (E, B, N)."""
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"inputs must be a torch.Tensor, got {type(x).__name__}")
        if x.dim() == 2:
            check_shape("inputs", x, (None, self.input_size))
            x = x.unsqueeze(0).expand(self.ensemble_size, -1, -1)
        check_shape("inputs", x, (self.ensemble_size, None, self.input_size))
        if x.shape[1] == 0:
            raise ValueError("inputs hold an empty batch")
        check_finite("inputs", x)
        return x.to(device=self.device, dtype=self.dtype)

    def prepare_labels(self, labels: torch.Tensor, batch: int) -> torch.Tensor:
        """Validate class indices (B,) or (E, B); return (E, B) int64."""
        if labels.dim() == 1:
            labels = labels.unsqueeze(0).expand(self.ensemble_size, -1)
        check_shape("labels", labels, (self.ensemble_size, batch))
        if labels.dtype.is_floating_point or labels.dtype == torch.bool:
            raise ValueError(f"labels must be integer class indices, got dtype {labels.dtype}")
        if bool(((labels < 0) | (labels >= self.num_classes)).any()):
            raise ValueError(f"labels must lie in [0, {self.num_classes - 1}]")
        return labels.to(self.device)

    def zero_state(self, batch: int) -> SteeringState:
        E, L, H, C = self.ensemble_size, self.num_layers, self.hidden_size, self.num_classes
        options = {"dtype": self.dtype, "device": self.device}
        return SteeringState(
            torch.zeros(E, L, batch, H, **options),
            torch.zeros(E, batch, C, **options),
            is_zero=True,
        )

    # ------------------------------------------------------------------ fields
    def input_drive(self, weights: SteeringWeights, x: torch.Tensor) -> torch.Tensor:
        """sum_n W_in^l_in x_n for every layer: (E, L, B, H). Constant during a relaxation."""
        return torch.matmul(x.unsqueeze(1), weights.input_weights)

    def recurrent_input(self, weights: SteeringWeights, hidden: torch.Tensor) -> torch.Tensor:
        """sum_j J^l_ij s^l_j including the self-coupling: (E, L, B, H)."""
        return torch.matmul(hidden, weights.couplings)

    def feedback_fields(self, weights: SteeringWeights, readout: torch.Tensor) -> torch.Tensor:
        """sum_c W_back^l_ic r(y_hat_c) for every layer: (E, L, B, H)."""
        return torch.matmul(self.label_code(readout).unsqueeze(1), weights.feedback_weights)

    def hidden_fields(
        self,
        weights: SteeringWeights,
        state: SteeringState,
        drive: torch.Tensor,
        feedback: float = 0.0,
        recurrent: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Local fields of all hidden units, (E, L, B, H); ``feedback`` scales W_back r(y_hat).

        ``recurrent`` may pass a precomputed :meth:`recurrent_input` of ``state``.
        """
        if state.is_zero:
            return drive
        static = drive
        if feedback != 0.0:
            static = static + feedback * self.feedback_fields(weights, state.readout)
        return self._add_internal(weights, state.hidden, static, recurrent)

    def _add_internal(self, weights, hidden, static, recurrent):
        """A fresh tensor static + s J (given or computed) + ferromagnetic neighbours."""
        if recurrent is not None:
            fields = static + recurrent
        elif self._recurrent:
            fields = torch.matmul(hidden, weights.couplings).add_(static)
        else:
            fields = static.clone()
        if self._ferromagnetic:
            ferro = self.ferromagnetic_strength.view(-1, 1, 1, 1)
            fields.add_(ferro * self._neighbours(hidden))
        return fields

    @staticmethod
    def _neighbours(hidden: torch.Tensor) -> torch.Tensor:
        """s^{l-1} + s^{l+1} with zero padding at the ends of the chain."""
        padded = torch.nn.functional.pad(hidden, (0, 0, 0, 0, 1, 1))
        return padded[:, :-2] + padded[:, 2:]

    def readout_fields(
        self, weights: SteeringWeights, hidden: torch.Tensor, label: torch.Tensor | None = None
    ) -> torch.Tensor:
        """f_c = sum_l W_out^l s^l (+ lambda_y y_c if ``label`` (E, B, C) is given): (E, B, C)."""
        fields = torch.matmul(hidden, weights.readout_weights).sum(1)
        if label is not None:
            fields = fields + self.label_strength * label
        return fields

    def logits(self, weights: SteeringWeights, hidden: torch.Tensor) -> torch.Tensor:
        """Class scores sum_l W_out^l s^l (no label term): (E, B, C)."""
        return self.readout_fields(weights, hidden)

    def unstable_fraction(
        self,
        weights: SteeringWeights,
        state: SteeringState,
        x: torch.Tensor,
        feedback: float = 0.0,
        recurrent: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Fraction of hidden units with s_i h_i < 0, per member and sample: (E, B)."""
        drive = self.input_drive(weights, self.prepare_inputs(x))
        fields = self.hidden_fields(weights, state, drive, feedback, recurrent)
        return (fields * state.hidden < 0).float().mean(dim=(1, 3))

    # ------------------------------------------------------------------ dynamics
    @staticmethod
    def _sign_keep_ties(fields: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
        """sign(h), and the current value where h = 0: sign(h + TIE s), in place on ``fields``.

        A field below TIE = 1e-30 in magnitude, far under the float32 resolution of the
        O(1) terms it sums, counts as a tie; in practice only an exact zero does.
        """
        return fields.add_(current, alpha=TIE).sign_()

    def _update_mask(self, shape: tuple[int, ...], generators: list[torch.Generator] | None):
        if self.update_probability >= 1.0:
            return None
        if generators is None:
            raise ValueError("update_probability < 1 needs generators= (one per member)")
        draws = [torch.rand(shape[1:], generator=g, device=g.device) for g in generators]
        return torch.stack(draws).to(self.device) < self.update_probability

    def _synchronous_sweep(self, weights, state, static, label, generators, recurrent):
        """All units from the previous state; ``static`` = input drive + feedback field."""
        if state.is_zero:  # only the drive acts; ties keep the 0 state
            hidden = torch.sign(static)
        else:
            fields = self._add_internal(weights, state.hidden, static, recurrent)
            hidden = self._sign_keep_ties(fields, state.hidden)
        readout_fields = self.readout_fields(weights, state.hidden, label)
        readout = self._sign_keep_ties(readout_fields, state.readout)
        mask = self._update_mask(tuple(hidden.shape), generators)
        if mask is not None:
            hidden = torch.where(mask, hidden, state.hidden)
            readout_mask = self._update_mask(tuple(readout.shape), generators)
            readout = torch.where(readout_mask, readout, state.readout)
        return SteeringState(hidden, readout)

    def _advance_recurrent(self, weights, recurrent, old, new, changed):
        """In place: s_old J -> s_new J, adding the rows of the units that flipped.

        ``changed`` (E, L, H) marks units that flipped in some sample. Every (member,
        layer) takes its changed units first, in index order, padded to the largest count
        with unchanged units, whose delta is exactly zero: the padding adds only zeros,
        so a member's arithmetic does not depend on the other members.
        """
        E, L, B, H = new.shape
        count = int(changed.sum(-1).max())
        if count == 0:
            return recurrent
        units = torch.sort((~changed).to(torch.uint8), dim=-1, stable=True).indices[..., :count]
        delta = (new - old).gather(-1, units.unsqueeze(2).expand(E, L, B, count))
        offsets = torch.arange(E * L, device=units.device).view(E, L, 1) * H
        rows = weights.couplings.reshape(E * L * H, H).index_select(0, (units + offsets).flatten())
        recurrent.view(E * L, B, H).baddbmm_(
            delta.reshape(E * L, B, count), rows.view(E * L, count, H)
        )
        return recurrent

    def _asynchronous_sweep(self, weights, state, drive, feedback, label, generators):
        """Random-order sequential updates of the L*H hidden units of every sample.

        Each (member, sample) has its own permutation from the member's dynamics stream;
        step k updates unit order[k] of every sample at once, using the latest state.
        """
        if generators is None:
            raise ValueError("asynchronous dynamics need generators= (one per member)")
        E, L, B, H = state.hidden.shape
        static = drive
        if feedback != 0.0:
            static = static + feedback * self.feedback_fields(weights, state.readout)
        orders = torch.stack(
            [
                torch.argsort(torch.rand(B, L * H, generator=g, device=g.device), dim=1)
                for g in generators
            ]
        ).to(self.device)
        accept = self._update_mask((E, B, L * H), generators)
        rows = weights.couplings.transpose(-1, -2).contiguous()  # rows[e, l, i] = J^l_i.
        # Pad the layer axis so that s^{l-1} and s^{l+1} exist (as zeros) at the chain ends.
        padded = torch.nn.functional.pad(state.hidden, (0, 0, 0, 0, 1, 1))
        members = torch.arange(E, device=self.device)[:, None]
        samples = torch.arange(B, device=self.device)[None, :]
        ferro = self.ferromagnetic_strength[:, None]
        for k in range(L * H):
            unit = orders[:, :, k]
            layer, i = unit // H, unit % H
            field = (rows[members, layer, i] * padded[members, layer + 1, samples]).sum(-1)
            field = field + static[members, layer, samples, i]
            if self._ferromagnetic:
                neighbours = (
                    padded[members, layer, samples, i] + padded[members, layer + 2, samples, i]
                )
                field = field + ferro * neighbours
            old = padded[members, layer + 1, samples, i]
            new = self._sign_keep_ties(field, old)
            if accept is not None:
                new = torch.where(accept[:, :, k], new, old)
            padded[members, layer + 1, samples, i] = new
        hidden = padded[:, 1:-1].contiguous()
        readout = self._sign_keep_ties(self.readout_fields(weights, hidden, label), state.readout)
        return SteeringState(hidden, readout)

    def relax(
        self,
        weights: SteeringWeights,
        x: torch.Tensor,
        *,
        sweeps: int,
        state: SteeringState | None = None,
        feedback: float | Sequence[float] = 0.0,
        label: torch.Tensor | None = None,
        stop_when_stable: bool = False,
        generators: list[torch.Generator] | None = None,
        drive: torch.Tensor | None = None,
        recurrent: torch.Tensor | None = None,
    ) -> Relaxation:
        """Run up to ``sweeps`` sweeps under input ``x`` (B, N) or (E, B, N).

        ``feedback`` is the scale of the feedback field, one value or one per sweep (a
        ramp); ``label`` (E, B, C) +-1 clamps the readout through lambda_y. The state starts
        at zero unless given. With ``stop_when_stable`` the loop ends at the first sweep in
        which no unit of any sample flips; otherwise the whole budget runs. ``drive`` and
        ``recurrent`` may pass a precomputed :meth:`input_drive` of ``x`` and
        :meth:`recurrent_input` of ``state`` (as returned by a previous relaxation).
        """
        check_positive_int("sweeps", sweeps, minimum=0)
        x = self.prepare_inputs(x)
        batch = x.shape[1]
        state = self.zero_state(batch) if state is None else state
        if isinstance(feedback, Sequence):
            schedule = [float(f) for f in feedback]
        else:
            schedule = [float(feedback)] * sweeps
        if len(schedule) != sweeps:
            raise ValueError(f"feedback schedule has {len(schedule)} values for {sweeps} sweeps")
        drive = self.input_drive(weights, x) if drive is None else drive
        incremental = (
            self._incremental and self.dynamics == "synchronous" and batch <= INCREMENTAL_MAX_BATCH
        )
        if incremental:  # a private copy: it is updated in place below
            if recurrent is not None:
                recurrent = recurrent.clone()
            elif state.is_zero:
                recurrent = torch.zeros_like(drive)
            else:
                recurrent = self.recurrent_input(weights, state.hidden)
        still = []  # per sweep, (E, B): no unit of the sample flipped
        static, static_scale, static_readout = drive, 0.0, state.readout
        for t in range(sweeps):
            if self.dynamics == "asynchronous":
                new = self._asynchronous_sweep(
                    weights, state, drive, schedule[t], label, generators
                )
            else:
                # drive + feedback changes only with the feedback scale or the readout, which
                # is pinned while the label is clamped: recompute it only then.
                if schedule[t] != static_scale or (
                    schedule[t] != 0.0 and not torch.equal(state.readout, static_readout)
                ):
                    static, static_scale, static_readout = drive, schedule[t], state.readout
                    if schedule[t] != 0.0:
                        static = drive + schedule[t] * self.feedback_fields(weights, state.readout)
                new = self._synchronous_sweep(weights, state, static, label, generators, recurrent)
            flipped = new.hidden != state.hidden
            if incremental and state.is_zero:  # every unit left 0: one dense product
                recurrent = self.recurrent_input(weights, new.hidden)
            elif incremental:
                recurrent = self._advance_recurrent(
                    weights, recurrent, state.hidden, new.hidden, flipped.any(dim=2)
                )
            moved = flipped.any(-1).any(1) | (new.readout != state.readout).any(-1)
            still.append(~moved)
            state = new
            if stop_when_stable and bool(torch.stack(still).any(0).all()):
                break
        used, converged = self._first_still_sweep(still, sweeps, batch)
        return Relaxation(state, used, converged, recurrent if incremental else None)

    def _first_still_sweep(self, still: list[torch.Tensor], budget: int, batch: int):
        """(sweeps until the first sweep without a flip, or the budget; whether one occurred)."""
        if not still:
            shape, device = (self.ensemble_size, batch), self.device
            return (
                torch.zeros(shape, dtype=torch.long, device=device),
                torch.zeros(shape, dtype=torch.bool, device=device),
            )
        history = torch.stack(still).to(torch.uint8)  # (T, E, B)
        converged = history.any(0).bool()
        first = history.argmax(0) + 1
        return torch.where(converged, first, torch.full_like(first, budget)), converged
