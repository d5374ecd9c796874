"""Gradient flossing: pretraining that pushes the first k Lyapunov exponents towards 0.

Engelken 2023, "Gradient Flossing" (NeurIPS, arXiv 2312.17306), as Liu, Zhang & Liu
(arXiv 2410.11164, appendix B) use it before e-prop training; spec
``rate-rnn-eprop-lyapunov.md`` section 6. For the leaky rate network
(:mod:`neurodyn.networks.rate`) along input streams with a warm-up of T_w steps:

    J_t = alpha I + (1 - alpha) W_h^T diag(f'(h_{t-1}))          (spec 5.1)
    Q_t R_t = qr(J_t Q_{t-1}),  lambda_i = 1 / (B (T - T_w)) sum_b sum_{t > T_w} log |R_t,ii|
    L_flossing = sum_{i <= k} lambda_i^2                          (per ensemble member)

with the exponents averaged over the member's B trajectories before squaring (spec 6;
Engelken's code uses the mean instead of the sum over i, a constant factor).

``form="local"`` (the spec's recommendation, the seed's ``h.detach()`` truncation): the
trajectory h_t is computed with detached weights and treated as data; the gradient
flows only through the analytic Jacobian products J_t Q_{t-1} and the QR chain. For
ReLU f' is piecewise constant, so only W_h receives a gradient. ``detach_basis=True``
also detaches Q_{t-1} before every step, so each step contributes on its own; for k = 1
that is the outer product of a presynaptic and a postsynaptic vector,

    dL/dW_h[j, i] = 2 lambda / (B (T - T_w)) sum_{b, t > T_w}
                    (1 - alpha) (f'(h_{t-1}) q_{t-1})_j (J_t q_{t-1})_i / |J_t q_{t-1}|^2.

``form="full"``: the gradient also flows through the trajectory (Engelken's code, through
f'(h_{t-1}) into W_h and W_x); for ReLU it equals the local form almost everywhere.
Never differentiate the detached step itself: its Jacobian is only alpha I (spec 6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from neurodyn.analysis.lyapunov import LyapunovSpectrum, StepDynamics, lyapunov_spectrum
from neurodyn.checks import check_choice, check_positive_int
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.rules import rate_rule

FORMS = ("local", "full")


def flossing_loss(
    network: LeakyRateNetwork,
    weights: RateWeights,
    inputs: torch.Tensor,
    *,
    exponents: int = 1,
    warmup: int = 0,
    form: str = "local",
    detach_basis: bool = False,
) -> tuple[torch.Tensor, LyapunovSpectrum]:
    """L_flossing per member (E,) along ``inputs`` (B, T, N_in) or (E, B, T, N_in) from
    h_0 = 0, differentiable in ``weights`` as ``form`` says, and the spectrum (E, B, k).
    The weights must fit the network and be finite (:meth:`LeakyRateNetwork.check_weights`)."""
    check_choice("form", form, FORMS)
    network.check_weights(weights)
    x = network.prepare_inputs(inputs)
    frozen = RateWeights(*(p.detach() for p in weights.parameters()))
    trajectory = weights if form == "full" else frozen

    def step(h, x_t):
        return network.advance(trajectory, h, x_t)

    def product(h, _, vectors):
        return network.jacobian_product(weights, h, vectors.detach() if detach_basis else vectors)

    state = torch.zeros(*x.shape[:2], network.hidden_size, dtype=x.dtype, device=x.device)
    spectrum = lyapunov_spectrum(
        StepDynamics(step, jacobian_product=product),
        state,
        x,
        exponents=exponents,
        warmup=warmup,
    )
    per_member = spectrum.exponents.mean(1)  # (E, k): averaged over trajectories
    return (per_member**2).sum(-1), spectrum


def flossing_gradients(
    network: LeakyRateNetwork, weights: RateWeights, inputs: torch.Tensor, **options
) -> tuple[RateWeights, torch.Tensor]:
    """dL_flossing / d(weights) per member and the loss (E,); ``options`` go to
    :func:`flossing_loss`. Weights the loss does not reach get zero gradients."""
    params = RateWeights(*(p.detach().requires_grad_(True) for p in weights.parameters()))
    loss, _ = flossing_loss(network, params, inputs, **options)
    grads = torch.autograd.grad(loss.sum(), params.parameters(), materialize_grads=True)
    return RateWeights(*grads), loss.detach()


@dataclass(frozen=True)
class GradientFlossing:
    """Flossing as a rule for :func:`~neurodyn.training.rate.train_rate` (Adam with a
    learning rate per member): every iteration draws B streams of ``trials`` task trials
    per member, the first ``warmup_trials`` of them the warm-up (spec 5.3: start at
    h = 0, discard the first trial), and follows the gradient of L_flossing.

    Defaults (spec 6 and 10, inferred; the seed gives none but the 100 iterations): k = 1,
    two trials with one of warm-up, the local form with the basis chain kept.
    """

    exponents: int = 1
    trials: int = 2
    warmup_trials: int = 1
    form: str = "local"
    detach_basis: bool = False

    stream_salt: ClassVar[int] = 1  # streams split off the task stream: no training trials

    def __post_init__(self) -> None:
        check_positive_int("exponents", self.exponents)
        check_positive_int("trials", self.trials)
        check_positive_int("warmup_trials", self.warmup_trials, minimum=0)
        if self.warmup_trials >= self.trials:
            raise ValueError(
                f"warmup_trials = {self.warmup_trials} leaves none of the {self.trials} trials"
            )
        check_choice("form", self.form, FORMS)

    def gradients(
        self,
        network: LeakyRateNetwork,
        weights: RateWeights,
        task,
        *,
        batch_size: int,
        keys: torch.Tensor,
        counter: int,
        workspace=None,
    ) -> tuple[RateWeights, torch.Tensor]:
        """Gradients and L_flossing (E,) on the streams of draw ``counter`` (autograd: no
        ``workspace`` buffers)."""
        streams = task.sample_member_streams(batch_size, self.trials, keys, counter)
        warmup = self.warmup_trials * streams.shape[2] // self.trials
        return flossing_gradients(
            network,
            weights,
            streams.to(network.device, network.dtype),
            exponents=self.exponents,
            warmup=warmup,
            form=self.form,
            detach_basis=self.detach_basis,
        )


rate_rule.register("flossing", GradientFlossing)
