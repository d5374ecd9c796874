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
* **Label code r** (:meth:`~BinarySteeringNetwork.label_code`) and **tied initial
  feedback** (:meth:`~BinarySteeringNetwork.init`) as in the authors' code.
* **Ties.** A unit whose field is exactly zero keeps its current value: from the all-zero
  state the readout stays 0 after the first sweep (its field W_out 0 is 0), as
  ``torch.sign(0) = 0`` in the authors' code; later ties have probability zero.
* **Dynamics.** ``"synchronous"`` (:mod:`.synchronous`, the authors' code) updates every
  unit from the previous state; ``"asynchronous"`` (:mod:`.asynchronous`) visits the
  hidden units of each sample in a random order, each seeing the latest state.
* Weights carry a leading ensemble axis E; per-member hyperparameters (self-coupling,
  input, feedback, internal and ferromagnetic strengths) are tensors of shape (E,).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from neurodyn import rng
from neurodyn.checks import (
    MemberValue,
    check_choice,
    check_device,
    check_fields,
    check_finite,
    check_float_dtype,
    check_positive_int,
    check_probability,
    check_shape,
    check_tensor,
    describe,
    member_values,
)
from neurodyn.networks.asynchronous import AsynchronousSweeps
from neurodyn.networks.steering_state import Relaxation, SteeringState, SteeringWeights
from neurodyn.networks.synchronous import SynchronousSweeps

STRATEGIES = {"synchronous": SynchronousSweeps, "asynchronous": AsynchronousSweeps}
DYNAMICS = tuple(STRATEGIES)
INCREMENTAL_MIN_HIDDEN = 384  # synchronous sweeps keep s J from this H on (:mod:`.synchronous`)


class BinarySteeringNetwork:
    """Configuration and dynamics of an ensemble of binary steering networks.

    The object holds configuration only; weights live in :class:`SteeringWeights` and
    are passed explicitly (functional core). Parameters named ``*_strength`` and
    ``self_coupling`` accept one value or one per ensemble member.

    Args:
        input_size, hidden_size, num_classes: N input bits, H units per hidden layer, C
            readout units.
        num_layers, ensemble_size: L hidden layers in the chain; E independent networks.
        self_coupling: J_D on the diagonal of every J^l (thesis main value 0.5).
        input_strength, feedback_strength, readout_strength: lambda_x, lambda_wback and
            lambda_wforth, scales of W_in, the fixed W_back and W_out (spec: 5, 0.9, 1.0).
        internal_strength: lambda_internal, scales J and its diagonal (0: random features).
        label_strength: lambda_y, clamps the readout to the target (1000).
        ferromagnetic_strength: lambda, one-to-one links between consecutive layers.
        feedback_skip_strength, readout_skip_strength: readout -> earlier layers (fixed),
            earlier layers -> readout (learned).
        tied_feedback: draw W_back and W_out from the same Gaussian matrix (authors' code).
        update_probability: a unit updates (a proposed change is accepted) with this
            probability per synchronous (asynchronous) sweep.
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
        self.label_strength, self.tied_feedback = float(label_strength), bool(tied_feedback)
        self.device = check_device("device", device)
        self.dtype = check_float_dtype("dtype", dtype)

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
        self.incremental = self._recurrent and hidden_size >= INCREMENTAL_MIN_HIDDEN

    def init(self, seed: int | Sequence[int]) -> SteeringWeights:
        """Draw the weights of every member from its own ``"init"`` random stream.

        J_ij ~ N(0, 1/H) * internal_strength with diagonal self_coupling * internal_strength;
        W_in ~ N(0, 1/N) * input_strength; W0 ~ N(0, 1) (H x C) gives
        W_back = W0 feedback_strength / sqrt(C) and W_out = W0^T readout_strength / sqrt(H)
        (skips use the skip strengths). Spec section 1.2. One W0 feeds both, as in the
        authors' code (``sample_readout_weights`` is called once); ``tied_feedback=False``
        draws W_out's independently.
        """
        E, L, H = self.ensemble_size, self.num_layers, self.hidden_size
        N, C = self.input_size, self.num_classes
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

    def check_weights(self, weights: SteeringWeights, *, finite: bool = True) -> SteeringWeights:
        """Raise one clear error unless ``weights`` belong to this configuration (e.g. from
        a checkpoint): a :class:`SteeringWeights` of ``couplings`` (E, L, H, H),
        ``input_weights`` (E, L, N, H), ``readout_weights`` (E, L, H, C) and
        ``feedback_weights`` (E, L, C, H) in the network's dtype, on its device and (with
        ``finite``) free of NaN and infinities."""
        E, L, H = self.ensemble_size, self.num_layers, self.hidden_size
        N, C = self.input_size, self.num_classes
        expected = {
            "couplings": ((E, L, H, H), "(E, L, H, H)"),
            "input_weights": ((E, L, N, H), "(E, L, N, H)"),
            "readout_weights": ((E, L, H, C), "(E, L, H, C)"),
            "feedback_weights": ((E, L, C, H), "(E, L, C, H)"),
        }
        options = {"dtype": self.dtype, "device": self.device, "finite": finite}
        check_fields("weights", weights, SteeringWeights, expected, **options)
        return weights

    def label_code(self, readout: torch.Tensor) -> torch.Tensor:
        """r(y): +1 -> sqrt(C)/2, -1 -> -1/2, 0 -> 0, the authors' remapping of the readout
        before it enters the feedback, so that the correct class dominates W_back r(y)."""
        positive = readout * (0.5 * math.sqrt(self.num_classes))
        return torch.where(readout < 0, -0.5 * readout.abs(), positive)

    def one_hot(self, labels: torch.Tensor) -> torch.Tensor:
        """Class indices (E, B) -> +-1 targets (E, B, C)."""
        shape = (*labels.shape, self.num_classes)
        code = torch.full(shape, -1.0, dtype=self.dtype, device=self.device)
        return code.scatter_(-1, labels.unsqueeze(-1).to(self.device), 1.0)

    def prepare_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Validate inputs (B, N) shared by all members, or (E, B, N); return (E, B, N)."""
        check_tensor("inputs", x)
        if x.dim() == 2:
            check_shape("inputs", x, (None, self.input_size))
            x = x.unsqueeze(0).expand(self.ensemble_size, -1, -1)
        check_shape("inputs", x, (self.ensemble_size, None, self.input_size))
        if x.shape[1] == 0:
            raise ValueError("inputs hold an empty batch")
        check_finite("inputs", x)
        return x.to(device=self.device, dtype=self.dtype)

    def prepare_labels(self, labels: torch.Tensor, batch: int) -> torch.Tensor:
        """Validate class indices (B,) or (E, B) for a batch of ``batch`` inputs: an integer
        tensor with values in [0, C); return (E, B) int64."""
        check_tensor("labels", labels)
        if labels.dim() == 1:
            labels = labels.unsqueeze(0).expand(self.ensemble_size, -1)
        check_shape("labels", labels, (self.ensemble_size, batch), f"({batch},) or (E, {batch})")
        if labels.dtype.is_floating_point or labels.is_complex() or labels.dtype == torch.bool:
            raise ValueError(f"labels must be integer class indices, got dtype {labels.dtype}")
        if bool(((labels < 0) | (labels >= self.num_classes)).any()):
            raise ValueError(
                f"labels must lie in [0, {self.num_classes - 1}] (num_classes = "
                f"{self.num_classes}), got values from {int(labels.min())} to {int(labels.max())}"
            )
        return labels.to(self.device, torch.long)

    def zero_state(self, batch: int) -> SteeringState:
        E, L, H, C = self.ensemble_size, self.num_layers, self.hidden_size, self.num_classes
        options = {"dtype": self.dtype, "device": self.device}
        hidden = torch.zeros(E, L, batch, H, **options)
        return SteeringState(hidden, torch.zeros(E, batch, C, **options), is_zero=True)

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

        ``drive`` may already hold the feedback field (``feedback`` = 0), ``recurrent`` a
        precomputed :meth:`recurrent_input` of ``state``. A fresh tensor but for the zero start.
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
        Without ``drive`` the weights are checked (:meth:`check_weights`, not finiteness);
        a caller that passes the drive checked them (the steering rule, once per step).
        """
        if drive is None:
            self.check_weights(weights, finite=False)
        check_positive_int("sweeps", sweeps, minimum=0)
        x = self.prepare_inputs(x)
        batch = x.shape[1]
        state = self.zero_state(batch) if state is None else state
        schedule = list(feedback) if isinstance(feedback, Sequence) else [feedback] * sweeps
        schedule = [float(f) for f in schedule]
        if len(schedule) != sweeps:
            raise ValueError(f"feedback schedule has {len(schedule)} values for {sweeps} sweeps")
        if generators is not None and (
            not isinstance(generators, Sequence) or len(generators) != self.ensemble_size
        ):
            raise ValueError(
                f"generators must be a list of one torch.Generator per member "
                f"({self.ensemble_size}), got {describe(generators)}"
            )
        drive = self.input_drive(weights, x) if drive is None else drive
        strategy = STRATEGIES[self.dynamics]  # :mod:`.synchronous` or :mod:`.asynchronous`
        engine = strategy(self, weights, state, drive, label, generators, recurrent)
        first_still = torch.zeros(self.ensemble_size, batch, dtype=torch.long, device=self.device)
        for t, scale in enumerate(schedule, start=1):
            hidden, readout, moved = engine.sweep(state, scale)
            state = SteeringState(hidden, readout)
            first_still.masked_fill_((first_still == 0) & ~moved, t)
            if stop_when_stable and bool((first_still > 0).all()):
                break
        converged = first_still > 0
        used = torch.where(converged, first_still, torch.full_like(first_still, sweeps))
        return Relaxation(state, used, converged, engine.recurrent)
