"""Lyapunov spectra of driven recurrent networks by repeated QR (Benettin's algorithm).

Spec ``rate-rnn-eprop-lyapunov.md`` section 5.2, the method of Vogt et al. 2022
(arXiv 2006.14123) that Liu, Zhang & Liu (arXiv 2410.11164) use, and of Engelken, Wolf &
Abbott 2023 (arXiv 2006.02427). Along a trajectory h_t = F(h_{t-1}, x_t) driven by
inputs x_t, an orthonormal basis Q (N x k) is pushed through the Jacobians
J_t = dh_t / dh_{t-1} and re-orthonormalised every ``reorthonormalise_every`` steps:

    V = J_t ... J_{t-m+1} Q,    Q, R = qr(V),    S += log |diag R|    (after the warm-up)
    lambda_i = S_i / (T - T_warm)                 natural log per step, i = 1 ... k

Steps 1 ... T_warm move the state and the basis without accumulating, so the basis aligns
with the leading Lyapunov vectors first (Vogt's ``warmup``, Engelken's ONS transient).
With k = N the exponents sum to the mean log |det J_t|. Divide by ln 2 for bits per step
(Vogt's log2 convention, :meth:`LyapunovSpectrum.bits`), by dt for units of 1 / tau.

Any dynamics works that gives ``step(state, x_t)`` and ``tangent(state, x_t, vectors)``
= J(state, x_t) @ vectors for states (*batch, N) whose batch rows evolve independently
(trajectories and ensemble members). :class:`StepDynamics` builds ``tangent`` from an
analytic Jacobian product or Jacobian, or else from forward-mode autograd of ``step``.
Every re-orthonormalisation is one batched QR over all rows (``qr="householder"``:
``torch.linalg.qr``; ``qr="cholesky"``: :func:`cholesky_qr2`, matmuls only); nothing
loops over members or trajectories. Gradients flow through the QR chain when the
dynamics' parameters require them (gradient flossing, :mod:`neurodyn.rules.flossing`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch

from neurodyn import rng
from neurodyn.checks import check_choice, check_finite, check_positive_int, check_tensor
from neurodyn.precision import full_precision

Step = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Jacobian = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
JacobianProduct = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
SpeedWriter = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], None]
JACOBIANS = ("analytic", "autograd")
QR_ROUTES = ("householder", "cholesky")


class Dynamics(Protocol):
    """What :func:`lyapunov_spectrum` needs: one step and its tangent map."""

    def step(self, state: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor: ...

    def tangent(
        self, state: torch.Tensor, x_t: torch.Tensor, vectors: torch.Tensor
    ) -> torch.Tensor: ...


def autograd_tangent(
    step: Step, state: torch.Tensor, x_t: torch.Tensor, vectors: torch.Tensor
) -> torch.Tensor:
    """J(state, x_t) @ vectors (*batch, N, k) by forward-mode autograd of ``step``: one
    Jacobian-vector product per column, vectorised over the columns with ``vmap``."""

    def push(vector: torch.Tensor) -> torch.Tensor:
        return torch.func.jvp(lambda h: step(h, x_t), (state,), (vector,))[1]

    with warnings.catch_warnings():
        # torch (2.13) loads its forward-mode decompositions on first use through the
        # deprecated torch.jit.script; that warning is torch's own, not the caller's.
        warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", DeprecationWarning)
        return torch.func.vmap(push, in_dims=-1, out_dims=-1)(vectors)


@dataclass(frozen=True)
class StepDynamics:
    """Dynamics from a step function and, optionally, its analytic Jacobian.

    ``tangent`` uses ``jacobian_product(state, x_t, vectors)`` when given, else
    ``jacobian(state, x_t) @ vectors`` (a (*batch, N, N) matrix), else
    :func:`autograd_tangent` of ``step``. ``speed_gradient(x)``, when given, returns the
    writer ``write(h, residual, gradient)`` of F(h, x) - h and (J - I)^T (F(h, x) - h) for
    a constant input x, into preallocated tensors, that fixed-point searches use
    (:func:`~neurodyn.analysis.slow_points.find_fixed_points`; without it they call
    ``step`` and differentiate it by autograd). ``validate(state, inputs)``, when given, raises
    a clear error for a state h_0 and inputs x_1 ... x_T that do not fit the dynamics;
    :func:`lyapunov_spectrum` calls it once before the first step.
    """

    step: Step
    jacobian: Jacobian | None = None
    jacobian_product: JacobianProduct | None = None
    speed_gradient: Callable[[torch.Tensor], SpeedWriter] | None = None
    validate: Callable[[torch.Tensor, torch.Tensor], None] | None = None

    def tangent(
        self, state: torch.Tensor, x_t: torch.Tensor, vectors: torch.Tensor
    ) -> torch.Tensor:
        if self.jacobian_product is not None:
            return self.jacobian_product(state, x_t, vectors)
        if self.jacobian is not None:
            return self.jacobian(state, x_t) @ vectors
        return autograd_tangent(self.step, state, x_t, vectors)

    @classmethod
    def of_network(cls, network, weights, *, jacobian: str = "analytic") -> StepDynamics:
        """The dynamics of ``network.step(weights, h, x_t)`` (e.g. a
        :class:`~neurodyn.networks.rate.LeakyRateNetwork`), whose Jacobian depends on the
        state only. ``jacobian="analytic"`` uses the network's ``jacobian_product`` or
        ``jacobian(weights, h)`` when it has them; ``"autograd"`` differentiates the step.

        A network with ``check_step(weights, state=None, inputs=None, *, finite)`` (the
        rate network's) has its weights checked here (shapes, one floating dtype, device,
        finite) and the state and inputs by :func:`lyapunov_spectrum` before its first
        step; the steps themselves then run unchecked (its ``advance``, when it has one).
        """
        check_choice("jacobian", jacobian, JACOBIANS)
        check = getattr(network, "check_step", None)
        validate = None
        if check is not None:
            check(weights, finite=True)

            def validate(state, inputs):
                check(weights, state, inputs, finite=True)

        advance = getattr(network, "advance", network.step)

        def step(h, x_t):
            return advance(weights, h, x_t)

        if jacobian == "autograd":
            return cls(step, validate=validate)
        if hasattr(network, "jacobian_product"):
            product = network.jacobian_product
            speed = getattr(network, "speed_gradient", None)
            return cls(
                step,
                jacobian_product=lambda h, _, vectors: product(weights, h, vectors),
                speed_gradient=None if speed is None else lambda x: speed(weights, x),
                validate=validate,
            )
        if hasattr(network, "jacobian"):
            return cls(step, jacobian=lambda h, _: network.jacobian(weights, h), validate=validate)
        return cls(step, validate=validate)


@dataclass(frozen=True)
class LyapunovSpectrum:
    """The first k exponents (*batch, k), natural log per step, largest first, averaged
    over ``steps`` steps after the warm-up."""

    exponents: torch.Tensor
    steps: int

    @property
    def maximum(self) -> torch.Tensor:
        """lambda_1 (*batch,): the maximal Lyapunov exponent."""
        return self.exponents[..., 0]

    def bits(self) -> torch.Tensor:
        """The exponents in bits per step, lambda / ln 2 (Vogt et al.'s log2 convention)."""
        return self.exponents / math.log(2)


def initial_basis(
    size: int,
    exponents: int,
    *,
    seed: int | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Q_0 (N, k): the Q of a Gaussian matrix from the ``"evaluation"`` stream of ``seed``
    (Engelken et al.), or with ``seed=None`` the first k identity columns (Vogt et al.)."""
    if seed is None:
        return torch.eye(size, exponents, dtype=dtype, device=device)
    gaussian = torch.randn(size, exponents, generator=rng.generator(seed, "evaluation"))
    return torch.linalg.qr(gaussian.to(torch.float64))[0].to(dtype=dtype, device=device)


def cholesky_qr2(vectors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Q, R of ``vectors`` V (*batch, N, k) by CholeskyQR2 (Fukaya et al. 2014).

    Twice R_i = chol(Q^T Q), Q <- Q R_i^-1 (from Q = V), R = R_2 R_1: batched matmuls and
    k x k factorisations only, where a batched Householder QR is slow (CUDA, pytorch issue
    143281). Accurate for V with a condition number below about eps^-1/2 (4e3 in float32);
    batch rows whose factorisation fails or whose Q is not orthonormal to within
    ``64 eps`` fall back to ``torch.linalg.qr``. diag R > 0 (Householder's may be negative).
    """
    q, triangle, failed = vectors, None, False
    for _ in range(2):
        factor, info = torch.linalg.cholesky_ex(q.mT @ q, upper=True)
        q = torch.linalg.solve_triangular(factor, q, upper=True, left=False)
        triangle = factor if triangle is None else factor @ triangle
        failed = failed | (info != 0)
    eye = torch.eye(q.shape[-1], dtype=q.dtype, device=q.device)
    error = (q.mT @ q - eye).abs().amax(dim=(-2, -1))
    failed = failed | ~(error <= 64 * torch.finfo(q.dtype).eps)  # NaN counts as failed
    if bool(failed.any()):
        q, triangle = q.clone(), triangle.clone()
        q[failed], triangle[failed] = torch.linalg.qr(vectors[failed])
    return q, triangle


@full_precision()
def lyapunov_spectrum(
    dynamics: Dynamics,
    state: torch.Tensor,
    inputs: torch.Tensor,
    *,
    exponents: int = 1,
    warmup: int = 0,
    reorthonormalise_every: int = 1,
    seed: int | None = 0,
    diverged: str = "raise",
    qr: str = "householder",
) -> LyapunovSpectrum:
    """The first ``exponents`` Lyapunov exponents along trajectories from ``state``.

    Args:
        dynamics: ``step`` and ``tangent`` (see :class:`StepDynamics`).
        state: h_0 (*batch, N), e.g. (E, B, N) for E members and B trajectories.
        inputs: x_1 ... x_T (*batch, T, N_in), e.g. a stream of task trials.
        exponents: k <= N.
        warmup: T_warm steps that move state and basis without accumulating (< T).
        reorthonormalise_every: steps between QR decompositions (t_ONS); the last step
            always ends a block, so every step after the warm-up is counted.
        seed: the random initial basis (:func:`initial_basis`); ``None`` starts from
            identity columns as Vogt et al. do. Avoid those for ReLU networks: a silent
            unit's axis e_j is invariant (J e_j = alpha e_j), so an identity column can sit
            there, off the leading directions, until rounding errors kick it out.
        diverged: a trajectory whose state or tangent vectors overflow raises a
            ``ValueError`` (``"raise"``) or gets NaN exponents (``"nan"``: for ensembles in
            which some members blow up, as ReLU networks at large gains can).
        qr: ``"householder"`` (``torch.linalg.qr``) or ``"cholesky"`` (:func:`cholesky_qr2`;
            on the CPU no faster, ``benchmarks/lyapunov_spectrum.py`` times both).

    A zero diagonal entry of R (a fully silent ReLU state with alpha = 0 gives J = 0) is
    clamped to the smallest positive normal number of the dtype: a very negative but
    finite exponent, as the spec's epsilon guard (section 5.3) asks.
    """
    check_tensor("state", state)
    check_tensor("inputs", inputs)
    if not state.is_floating_point():
        raise ValueError(f"state must be floating point, got dtype {state.dtype}")
    if state.dim() < 1 or inputs.dim() != state.dim() + 1:
        raise ValueError(
            f"state must be (*batch, N) and inputs (*batch, T, N_in); got {tuple(state.shape)} "
            f"and {tuple(inputs.shape)}"
        )
    if inputs.shape[:-2] != state.shape[:-1]:
        raise ValueError(
            f"inputs have batch axes {tuple(inputs.shape[:-2])} but the state has "
            f"{tuple(state.shape[:-1])}; give one input sequence per trajectory"
        )
    size, steps = state.shape[-1], inputs.shape[-2]
    check_positive_int("exponents", exponents)
    if exponents > size:
        raise ValueError(f"exponents = {exponents} exceeds the state size N = {size}")
    check_positive_int("warmup", warmup, minimum=0)
    check_positive_int("reorthonormalise_every", reorthonormalise_every)
    check_choice("diverged", diverged, ("raise", "nan"))
    check_choice("qr", qr, QR_ROUTES)
    factorise = torch.linalg.qr if qr == "householder" else cholesky_qr2
    if warmup >= steps:
        raise ValueError(f"warmup = {warmup} leaves none of the {steps} input steps to average")
    check_finite("state", state)
    check_finite("inputs", inputs)
    validate = getattr(dynamics, "validate", None)
    if validate is not None:
        validate(state, inputs)
    basis = initial_basis(size, exponents, seed=seed, dtype=state.dtype, device=state.device)
    basis = basis.expand(*state.shape[:-1], size, exponents)
    floor = torch.finfo(state.dtype).tiny
    total = torch.zeros(*state.shape[:-1], exponents, dtype=state.dtype, device=state.device)
    for t in range(1, steps + 1):
        x_t = inputs[..., t - 1, :]
        basis = dynamics.tangent(state, x_t, basis)  # J_t at h_{t-1}
        state = dynamics.step(state, x_t)
        if t % reorthonormalise_every == 0 or t == warmup or t == steps:
            basis, triangle = factorise(basis)
            if t > warmup:
                growth = triangle.diagonal(dim1=-2, dim2=-1).abs().clamp_min(floor)
                total = total + torch.log(growth)
    result = total / (steps - warmup)
    overflowed = ~(torch.isfinite(state).all(-1) & torch.isfinite(result).all(-1))
    if diverged == "nan":
        result = result.masked_fill(overflowed[..., None], float("nan"))
    elif bool(overflowed.any()):
        raise ValueError(
            f"{int(overflowed.sum())} of {overflowed.numel()} trajectories diverged (the state or "
            "the tangent vectors overflowed), e.g. at batch index "
            f"{tuple(overflowed.nonzero()[0].tolist())}; use float64, shorter inputs, a lower "
            "gain, or re-orthonormalise more often"
        )
    return LyapunovSpectrum(result, steps - warmup)
