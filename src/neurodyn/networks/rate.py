"""Leaky rate RNNs (the network of Liu, Zhang & Liu, arXiv 2410.11164).

Spec ``rate-rnn-eprop-lyapunov.md`` section 2.3:

    h_t = alpha h_{t-1} + (1 - alpha) (W_h f(h_{t-1}) + W_x x_t),    h_0 = 0
    y_t = w f(h_t)

with f = ReLU (the paper) or tanh, alpha = 1 - dt / tau, W_h ~ N(0, gain^2 / N), and the
PyTorch ``nn.Linear`` default for input and readout, W_x ~ U(+-1/sqrt(N_in)) and
w ~ U(+-1/sqrt(N)) (the paper's "standard initialisation"), no biases. Weights are
stored presynaptic x postsynaptic like every neurodyn network (``f(h) @ recurrent``) and
carry a leading ensemble axis E; ``gain`` may differ per member.

Biological constraints, off by default and each one per member: Dale's law and
connectivity masks as a parameterisation of the recurrent weights, W_eff = |W~| S or
W~ M (:mod:`neurodyn.networks.connectivity`), and recurrent and input noise as in Yang &
Wang 2020 (:mod:`neurodyn.networks.rate_noise`, the equation there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

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
    check_shape,
    check_tensor,
    member_values,
)
from neurodyn.networks import connectivity, rate_noise
from neurodyn.networks.rate_linearisation import RateLinearisation

ACTIVATIONS = ("relu", "tanh")
AXES = "(E, B, T, N_in), or (B, T, N_in) shared by all members"


@dataclass
class RateWeights:
    """``recurrent`` (E, N, N), ``inputs`` (E, N_in, N), ``readout`` (E, N, N_out)."""

    recurrent: torch.Tensor
    inputs: torch.Tensor
    readout: torch.Tensor

    def tensors(self) -> dict[str, torch.Tensor]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def parameters(self) -> list[torch.Tensor]:
        return list(self.tensors().values())


class LeakyRateNetwork(RateLinearisation):
    """Configuration of an ensemble of leaky rate RNNs; weights are passed explicitly.

    Args:
        input_size, hidden_size, output_size: N_in, N, N_out.
        ensemble_size: E networks computed as one batch.
        gain: scale of the initial recurrent weights, one value or one per member.
        alpha: leak 1 - dt / tau (0 = no leak; 0.5 for the Romo task with dt = tau / 2).
        activation: ``"relu"`` (the paper) or ``"tanh"``.
        dale: Dale's law for all members or per member: the first round(f N) units
            excitatory, the others inhibitory, W_eff = |W~| S.
        excitatory_fraction: f.
        dale_init: ``"plain"`` or ``"balanced"`` (:func:`connectivity.initial_recurrent`),
            one or one per member.
        mask: 0/1 connectivity (N, N) or (E, N, N), presynaptic x postsynaptic
            (:func:`connectivity.random_mask`), W_eff = W~ M; None: all-to-all.
        recurrent_noise, input_noise: sigma_rec and sigma_in of the module docstring, one
            value or one per member (0: none).

    The trained parameters are W~ (``weights.recurrent``); everything that steps the
    network (run, step, advance, jacobian, jacobian_product, and through them the rules
    and analyses) uses W_eff = :meth:`recurrent_weights`. Rules that compute the gradient
    with respect to W_eff map it back by :meth:`pull_back` (elementwise: local rules stay
    local). Why a parameterisation and not a projection after every Adam step: every
    trainer and every autograd gradient then respects the constraints by construction,
    and no weight is ever of the wrong sign, even for a moment.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        *,
        ensemble_size: int = 1,
        gain: MemberValue = 1.0,
        alpha: float = 0.5,
        activation: str = "relu",
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        dale: bool | Sequence[bool] = False,
        excitatory_fraction: float = 0.8,
        dale_init: str | Sequence[str] = "plain",
        mask: torch.Tensor | None = None,
        recurrent_noise: MemberValue = 0.0,
        input_noise: MemberValue = 0.0,
    ):
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.output_size = check_positive_int("output_size", output_size)
        self.ensemble_size = check_positive_int("ensemble_size", ensemble_size)
        if not 0.0 <= float(alpha) < 1.0:
            raise ValueError(f"alpha = 1 - dt/tau must lie in [0, 1), got {alpha}")
        self.alpha = float(alpha)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.device = check_device("device", device)
        self.dtype = check_float_dtype("dtype", dtype)
        placement = {"dtype": dtype, "device": self.device}
        self.gain = member_values("gain", gain, ensemble_size, minimum=0.0, **placement)
        self.dale, self.dale_init, self.excitatory_fraction = connectivity.check_dale(
            dale, dale_init, excitatory_fraction, ensemble_size
        )
        self.mask = connectivity.check_mask(mask, ensemble_size, hidden_size)
        self.constraints = connectivity.constraints(
            hidden_size, self.dale, self.excitatory_fraction, self.mask, **placement
        )
        self.recurrent_noise, self.input_noise = (
            member_values(name, value, ensemble_size, minimum=0.0, **placement)
            for name, value in (("recurrent_noise", recurrent_noise), ("input_noise", input_noise))
        )

    def init(self, seed: int | Sequence[int]) -> RateWeights:
        """Each member draws from its own ``"init"`` stream (see :mod:`neurodyn.rng`)."""
        E, N, N_in, N_out = self.ensemble_size, self.hidden_size, self.input_size, self.output_size
        recurrent, inputs, readout = [], [], []
        signs = connectivity.unit_signs(N, self.excitatory_fraction)
        for e, member_seed in enumerate(rng.member_seeds(seed, E)):
            gen = rng.generator(member_seed, "init")
            recurrent.append(
                connectivity.initial_recurrent(
                    torch.randn(N, N, generator=gen),
                    float(self.gain[e]),
                    signs=signs if self.dale[e] else None,
                    balanced=self.dale_init[e] == "balanced",
                    mask=None if self.mask is None else self.mask[e],
                )
            )
            bound_in, bound_out = 1 / math.sqrt(N_in), 1 / math.sqrt(N)
            inputs.append((torch.rand(N_in, N, generator=gen) * 2 - 1) * bound_in)
            readout.append((torch.rand(N, N_out, generator=gen) * 2 - 1) * bound_out)

        def stack(items):
            return torch.stack(items).to(device=self.device, dtype=self.dtype)

        return RateWeights(stack(recurrent), stack(inputs), stack(readout))

    def check_weights(
        self, weights: RateWeights, *, dtype: torch.dtype | None = None, finite: bool = True
    ) -> RateWeights:
        """Raise one clear error unless ``weights`` belong to this configuration: a
        :class:`RateWeights` of ``recurrent`` (E, N, N), ``inputs`` (E, N_in, N) and
        ``readout`` (E, N, N_out) in ``dtype`` (default: the network's) on the network's
        device, and with ``finite`` no NaN or infinite entry. Returns ``weights``."""
        E, N, N_in, N_out = self.ensemble_size, self.hidden_size, self.input_size, self.output_size
        expected = {
            "recurrent": ((E, N, N), "(E, N, N)"),
            "inputs": ((E, N_in, N), "(E, N_in, N)"),
            "readout": ((E, N, N_out), "(E, N, N_out)"),
        }
        options = {"dtype": self.dtype if dtype is None else dtype, "device": self.device}
        check_fields("weights", weights, RateWeights, expected, finite=finite, **options)
        return weights

    def check_step(
        self,
        weights: RateWeights,
        state: torch.Tensor | None = None,
        inputs: torch.Tensor | None = None,
        *,
        finite: bool = False,
    ) -> None:
        """What :meth:`step` and :meth:`advance` take: a state (E, B, N) and inputs x_t
        (E, B, N_in) or a sequence (E, B, T, N_in), with weights in one floating dtype, the
        state's (the network's or another: float64 Lyapunov spectra of a float32 network);
        without a state the weights alone, in their own dtype. ``finite`` also refuses
        non-finite weights, state and inputs."""
        if state is None:
            dtype = getattr(getattr(weights, "recurrent", None), "dtype", self.dtype)
        else:
            E, N = self.ensemble_size, self.hidden_size
            check_tensor("state", state, (E, None, N), device=self.device, axes="(E, B, N)")
            dtype = state.dtype
        if not dtype.is_floating_point:
            raise ValueError(f"the state and weights must be floating point, got {dtype}")
        self.check_weights(weights, dtype=dtype, finite=finite)
        if state is None or inputs is None:
            return
        lead = (self.ensemble_size, state.shape[1])
        shape, axes = (*lead, self.input_size), "(E, B, N_in)"
        if isinstance(inputs, torch.Tensor) and inputs.dim() == 4:
            shape, axes = (*lead, None, self.input_size), "(E, B, T, N_in)"
        check_tensor("inputs", inputs, shape, dtype=dtype, device=self.device, axes=axes)
        if finite:
            check_finite("state", state)
            check_finite("inputs", inputs)

    def rate(self, h: torch.Tensor, *, out: torch.Tensor | None = None) -> torch.Tensor:
        """f(h); with ``out`` written there (outside autograd: ReLU is then ``clamp_min``,
        whose derivative at h = 0 differs from ReLU's)."""
        if out is None:
            return torch.relu(h) if self.activation == "relu" else torch.tanh(h)
        if self.activation == "relu":
            return torch.clamp_min(h, 0.0, out=out)
        return torch.tanh(h, out=out)

    def rate_derivative(self, h: torch.Tensor) -> torch.Tensor:
        """f'(h): 1[h > 0] for ReLU, 1 - tanh^2 for tanh."""
        if self.activation == "relu":
            return (h > 0).to(h.dtype)
        return 1 - torch.tanh(h) ** 2

    def rate_backward(
        self, grad: torch.Tensor, rates: torch.Tensor, *, out: torch.Tensor | None = None
    ) -> torch.Tensor:
        """grad * f'(h) from the rates r = f(h), f' = 1[r > 0] (ReLU) or 1 - r^2 (tanh), in
        one pass (PyTorch's own backward kernels of the two functions); into ``out`` if
        given, which may be ``grad`` itself."""
        if self.activation == "relu":
            op = torch.ops.aten.threshold_backward
            if out is None:
                return op(grad, rates, 0.0)
            return op.grad_input(grad, rates, 0.0, grad_input=out)
        op = torch.ops.aten.tanh_backward
        return op(grad, rates) if out is None else op.grad_input(grad, rates, grad_input=out)

    def prepare_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Inputs (B, T, N_in) shared by all members, or (E, B, T, N_in); returns the latter."""
        check_tensor("inputs", x)
        if x.dim() == 3:
            x = x.unsqueeze(0).expand(self.ensemble_size, -1, -1, -1)
        check_shape("inputs", x, (self.ensemble_size, None, None, self.input_size), AXES)
        if x.shape[1] == 0 or x.shape[2] == 0:
            raise ValueError(f"inputs must hold at least one trial of one step, got {x.shape}")
        check_finite("inputs", x)
        return x.to(device=self.device, dtype=self.dtype)

    def recurrent_weights(self, weights: RateWeights) -> torch.Tensor:
        """W_eff (E, N, N), the recurrent weights the dynamics use: ``weights.recurrent``
        itself without Dale's law and masks, else |W~| S or W~ M (module docstring)."""
        if self.constraints is None:
            return weights.recurrent
        return self.constraints.effective(weights.recurrent)

    def effective(self, weights: RateWeights) -> RateWeights:
        """``weights`` with W_eff for W~ (the same object without constraints); a valid
        parameter too, of the same network (the map is a projection)."""
        if self.constraints is None:
            return weights
        return RateWeights(self.recurrent_weights(weights), weights.inputs, weights.readout)

    def pull_back(self, weights: RateWeights, gradients: RateWeights) -> RateWeights:
        """Gradients with respect to W~ from those with respect to W_eff (the others
        unchanged), in place on ``gradients`` (returned): dL/dW_eff S sign(W~) or M."""
        if self.constraints is not None:
            self.constraints.pull_back(weights.recurrent, gradients.recurrent)
        return gradients

    @property
    def noisy(self) -> bool:
        """Whether any member has recurrent or input noise."""
        return bool((self.recurrent_noise > 0).any() or (self.input_noise > 0).any())

    def sample_noise(self, x, keys, counter: int, *, out=None):
        """Inputs with input noise and the recurrent noise of draw ``counter`` of the
        member ``keys`` (in ``out`` if given): :func:`.rate_noise.sample_noise`."""
        return rate_noise.sample_noise(self, x, keys, counter, out=out)

    def step(
        self,
        weights: RateWeights,
        h: torch.Tensor,
        x_t: torch.Tensor,
        *,
        detach_recurrent: bool = False,
        noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """One step h_{t-1} (E, B, N), x_t (E, B, N_in) -> h_t, with the recurrent
        ``noise`` (E, B, N) of this step if given (a step of :meth:`sample_noise`'s).

        ``detach_recurrent`` stops gradients through the rate entering the recurrent
        term (keeping the leak path): autograd then computes e-prop (spec section 4.2).
        Shapes, dtypes and device are checked (:meth:`check_step`), not finiteness: a
        member with NaN weights computes NaN, its own. Loops that checked at their entry
        call :meth:`advance`, the same step unchecked.
        """
        self.check_step(weights, h, x_t)
        if noise is not None:
            check_tensor("noise", noise, h.shape, dtype=h.dtype, axes="(E, B, N)")
        return self.advance(weights, h, x_t, detach_recurrent=detach_recurrent, noise=noise)

    def advance(self, weights, h, x_t, *, detach_recurrent=False, noise=None) -> torch.Tensor:
        """:meth:`step` without its checks, for loops that checked their arguments once."""
        return self._advance(
            self.recurrent_weights(weights), weights, h, x_t, detach_recurrent, noise
        )

    def _advance(self, recurrent, weights, h, x_t, detach_recurrent=False, noise=None):
        """One step with W_eff = ``recurrent`` given (computed once per unroll)."""
        r = self.rate(h)
        if detach_recurrent:
            r = r.detach()
        drive = torch.bmm(r, recurrent) + self.input_drive(weights, x_t)
        if noise is not None:
            drive = drive + noise
        return self.alpha * h + (1 - self.alpha) * drive

    @staticmethod
    def input_drive(weights: RateWeights, x: torch.Tensor) -> torch.Tensor:
        """W_x x for inputs x (E, M, N_in): (E, M, N). With one input channel (Romo) it is
        the broadcast product, the same numbers: MKL's bmm with an inner size of 1 is over
        ten times slower than the product it computes."""
        if x.shape[-1] == 1:
            return x * weights.inputs
        return torch.bmm(x, weights.inputs)

    @staticmethod
    def add_input_drive(
        h: torch.Tensor, weights: RateWeights, x: torch.Tensor, scale: float
    ) -> torch.Tensor:
        """h += scale W_x x in place (x (E, M, N_in)), by the kernels of :meth:`input_drive`."""
        if x.shape[-1] == 1:
            return h.addcmul_(x, weights.inputs, value=scale)
        return h.baddbmm_(x, weights.inputs, alpha=scale)

    def run(
        self,
        weights: RateWeights,
        x: torch.Tensor,
        *,
        detach_recurrent: bool = False,
        noise: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Unroll over x (B, T, N_in) or (E, B, T, N_in) from h_0 = 0, with the recurrent
        ``noise`` (E, B, T, N) of :meth:`sample_noise` if given (None: none).

        Returns outputs y (E, B, T, N_out) and hidden states h (E, B, T, N). The weights
        must fit the network (:meth:`check_weights`) but may hold NaN: a member whose
        training diverged gets NaN outputs, the others are unaffected.
        """
        self.check_weights(weights, finite=False)
        x = self.prepare_inputs(x)
        E, B, T, _ = x.shape
        rate_noise.check_noise(self, noise, x)
        recurrent = self.recurrent_weights(weights)
        h = torch.zeros(E, B, self.hidden_size, dtype=self.dtype, device=self.device)
        states = []
        for t in range(T):
            noise_t = None if noise is None else noise[:, :, t]
            h = self._advance(recurrent, weights, h, x[:, :, t], detach_recurrent, noise_t)
            states.append(h)
        hidden = torch.stack(states, dim=2)
        outputs = torch.matmul(self.rate(hidden), weights.readout.unsqueeze(1))
        return outputs, hidden
