"""Fixed and slow points of recurrent networks by minimising their speed.

Sussillo & Barak 2013 (Neural Computation 25, "Opening the black box") and Golub &
Sussillo 2018 (JOSS 3, "FixedPointFinder"). For a map h_t = F(h_{t-1}, x_t) and a
constant input x*, a fixed point h* = F(h*, x*) is a zero of the speed

    q(h) = 1/2 |F(h, x*) - h|^2,

and a slow point a small nonzero local minimum. Candidates h_0 (typically states visited
by trials, :func:`sample_initial_states`) descend q by Adam; the points with q below a
tolerance are freed of outliers, de-duplicated and linearised: the eigenvalues lambda of
the Jacobian J = dF/dh at h* give the stability (a mode is unstable when |lambda| > 1).

Continuous time. The leaky step F(h) = alpha h + (1 - alpha) G(h, x) of
:class:`~neurodyn.networks.rate.LeakyRateNetwork` is the Euler step, dt / tau = 1 - alpha,
of tau dh/dt = -h + G(h, x). The flow's vector field in units of 1 / tau is therefore
V(h) = (F(h) - h) / (1 - alpha), with the same zeros as F(h) - h and the Jacobian

    J_c = (J - I) / (1 - alpha) = -I + dG/dh,    eigenvalues mu = (lambda - 1) / (1 - alpha);

a mode of the flow is unstable when Re mu > 0, i.e. Re lambda > 1 (a map's mode with
lambda < -1 is unstable, the flow's is not: an Euler artefact).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from neurodyn import rng
from neurodyn.analysis.lyapunov import Dynamics, autograd_tangent
from neurodyn.checks import (
    check_choice,
    check_finite,
    check_positive_int,
    check_real,
    check_tensor,
    describe,
)
from neurodyn.precision import full_precision

TIMES = ("discrete", "continuous")
SAMPLING_SALT = 20  # splits these draws from the member's other "evaluation" draws


@dataclass(frozen=True)
class FixedPoints:
    """The fixed points of E members, padded to the largest count P.

    Member e holds ``count[e]`` points, in ``points[e, :count[e]]`` by increasing q; the
    padding is NaN (matplotlib skips it) and ``mask`` (E, P) marks the real entries.
    ``member(e)`` returns member e alone, without padding.

    Attributes:
        points: h* (E, P, N).
        q: their speed q(h*) (E, P).
        mask: (E, P), True where a point is real.
        eigenvalues: (E, P, N) complex: of J (``time="discrete"``), sorted by decreasing
            |lambda|, or of J_c = (J - I) / (1 - alpha) (``"continuous"``), by decreasing
            real part.
        unstable_modes: (E, P) number of unstable modes (|lambda| > 1, or Re mu > 0);
            0 in the padding.
        unstable_directions: (E, P, N) real unit vectors of each saddle's leading unstable
            mode, NaN elsewhere: the real part of its eigenvector with the phase that makes
            the largest entry real and positive, normalised (the eigenvector itself for a
            real eigenvalue; a direction in the plane of rotation for a complex one).
        candidate_q: q (E, K) of every candidate at the end of the optimisation.
        iterations: Adam steps taken.
        time: ``"discrete"`` or ``"continuous"``.
    """

    points: torch.Tensor
    q: torch.Tensor
    mask: torch.Tensor
    eigenvalues: torch.Tensor
    unstable_modes: torch.Tensor
    unstable_directions: torch.Tensor
    candidate_q: torch.Tensor
    iterations: int
    time: str

    @property
    def count(self) -> torch.Tensor:
        """(E,): points per member."""
        return self.mask.sum(-1)

    @property
    def labels(self) -> tuple[tuple[str, ...], ...]:
        """Per member, per point: ``"stable"`` (no unstable mode), ``"unstable"`` (all
        modes unstable) or ``"saddle"``."""
        size = self.points.shape[-1]
        names = {0: "stable", size: "unstable"}
        return tuple(
            tuple(names.get(int(n), "saddle") for n in modes[: int(c)])
            for modes, c in zip(self.unstable_modes, self.count, strict=True)
        )

    def member(self, e: int) -> FixedPoints:
        """Member e alone (E = 1), with P = its own count."""
        e = check_positive_int("e", e, minimum=0)
        if e >= self.points.shape[0]:
            raise ValueError(f"e = {e} is not a member of an ensemble of {self.points.shape[0]}")
        keep = int(self.count[e])
        tensors = ("points", "q", "mask", "eigenvalues", "unstable_modes", "unstable_directions")
        trimmed = {name: getattr(self, name)[e : e + 1, :keep] for name in tensors}
        return replace(self, candidate_q=self.candidate_q[e : e + 1], **trimmed)


@full_precision()
def find_fixed_points(
    dynamics: Dynamics,
    initial_states: torch.Tensor,
    inputs: torch.Tensor | None = None,
    *,
    input_size: int = 0,
    max_iterations: int = 5000,
    learning_rate: float = 0.01,
    grow: float = 1.1,
    shrink: float = 0.9,
    stop_q: float = 1e-12,
    q_tolerance: float = 1e-8,
    unique_tolerance: float = 1e-3,
    outlier_distance: float | None = 10.0,
    time: str = "discrete",
    alpha: float | None = None,
    marginal_tolerance: float = 1e-6,
) -> FixedPoints:
    """Fixed points of E members' dynamics from K candidates each, all in one batch.

    Args:
        dynamics: ``step(states, x)`` on states (E, K, N) and inputs (E, K, N_in), rows
            independent, and optionally ``tangent`` and ``speed_gradient`` (see
            :class:`~neurodyn.analysis.lyapunov.StepDynamics`; ``of_network`` builds both
            for a rate network, analytic); without them the Jacobians come from
            forward-mode and the gradients of q from reverse-mode autograd of ``step``.
        initial_states: candidates h_0 (E, K, N), finite, float32 or float64.
        inputs: the constant input x*, (E, N_in) or (N_in,) for all members, in the dtype
            and on the device of the states; ``None`` is zero input of ``input_size``
            channels (0: dynamics without input).
        max_iterations: Adam steps at most.
        learning_rate, grow, shrink: each candidate's step size starts at
            ``learning_rate`` and is multiplied by ``grow`` after a step that lowered its
            q, by ``shrink`` after one that did not (the adaptive rate of FixedPointFinder,
            per candidate: a candidate's path depends on itself alone). grow * shrink < 1,
            so that the rate of a candidate that oscillates decays; the defaults found
            the most fixed points of chaotic rate networks (N = 64, gain 1.5) among the
            pairs tried, (1.05 ... 1.5) x (0.5 ... 0.95).
        stop_q: a candidate whose q falls below it stops moving; the optimisation ends
            when all have (0: run ``max_iterations`` steps).
        q_tolerance: points with q < ``q_tolerance`` are kept (fixed and slow points).
        unique_tolerance: of points closer than this (Euclidean), the lowest q is kept.
        outlier_distance: points farther than ``outlier_distance`` times the spread of the
            member's initial states (their mean distance to their centroid) from that
            centroid are dropped (FixedPointFinder's outlier rule); ``None`` keeps all. A
            member whose initial states coincide has no spread and no outliers.
        time, alpha: stability of the map (``"discrete"``) or of the flow it is the Euler
            step of, with leak ``alpha`` (``"continuous"``, see the module docstring).
        marginal_tolerance: a mode is unstable when |lambda| > 1 + ``marginal_tolerance``
            (Re mu > ``marginal_tolerance``); modes within it of the boundary are marginal
            and count as not unstable. Marginal modes are exact in some networks: a ReLU
            network without biases at zero input is positively homogeneous, F(c h) = c F(h)
            for c > 0, so its fixed points other than 0 lie on rays of fixed points, each
            with an eigenvalue 1 along its ray, which rounding alone would put on either
            side of 1.

    Every step updates all candidates of all members with one ``torch.optim.Adam`` step
    (its displacement scaled per candidate by its step size, exact as Adam's step is
    proportional to its learning rate). Gradients come from the dynamics'
    ``speed_gradient`` or ``torch.autograd.grad``, so parameters of the dynamics (network
    weights) gain no ``.grad``.
    """
    states, x = _check_states(dynamics, initial_states, inputs, input_size)
    max_iterations = check_positive_int("max_iterations", max_iterations, minimum=0)
    learning_rate = check_real("learning_rate", learning_rate, above=0)
    if not (check_real("grow", grow) >= 1 and 0 < check_real("shrink", shrink) <= 1):
        raise ValueError(f"need grow >= 1 and 0 < shrink <= 1, got {grow} and {shrink}")
    if grow * shrink >= 1:
        raise ValueError(
            f"grow * shrink = {grow * shrink:g} must be < 1, or a step size that alternates "
            "between growing and shrinking grows without bound"
        )
    stop_q = check_real("stop_q", stop_q, minimum=0)
    q_tolerance = check_real("q_tolerance", q_tolerance, above=0)
    unique_tolerance = check_real("unique_tolerance", unique_tolerance, minimum=0)
    if outlier_distance is not None:
        outlier_distance = check_real("outlier_distance", outlier_distance, above=0)
    check_choice("time", time, TIMES)
    marginal_tolerance = check_real("marginal_tolerance", marginal_tolerance, minimum=0)
    if time == "continuous" and (alpha is None or not 0 <= check_real("alpha", alpha) < 1):
        raise ValueError(f'time="continuous" needs the leak alpha in [0, 1), got {alpha!r}')

    final, q, iterations = _descend(
        dynamics, states, x, max_iterations, learning_rate, grow, shrink, stop_q
    )
    keep = (q < q_tolerance) & _inliers(final, states, outlier_distance)
    order, count = _unique(final, q, keep, unique_tolerance)
    size = int(count.max())
    order = order[:, :size]
    mask = torch.arange(size, device=q.device) < count[:, None]
    points = final.gather(1, order[..., None].expand(-1, -1, final.shape[-1]))
    eigenvalues, modes, directions = _linearise(
        dynamics, points, x[:, :size], mask, time, alpha, marginal_tolerance
    )
    return FixedPoints(
        points=points.masked_fill(~mask[..., None], float("nan")),
        q=q.gather(1, order).masked_fill(~mask, float("nan")),
        mask=mask,
        eigenvalues=eigenvalues,
        unstable_modes=modes,
        unstable_directions=directions,
        candidate_q=q,
        iterations=iterations,
        time=time,
    )


def _check_states(dynamics, initial_states, inputs, input_size):
    """The candidates (E, K, N) and the input expanded to (E, K, N_in), checked."""
    if not callable(getattr(dynamics, "step", None)):
        raise TypeError(f"dynamics must have a step(states, x) method, got {describe(dynamics)}")
    if not callable(getattr(dynamics, "speed_gradient", None) or callable):
        raise TypeError(
            "dynamics.speed_gradient must be None or a function of x returning "
            f"write(h, residual, gradient), got {describe(dynamics.speed_gradient)}"
        )
    check_tensor("initial_states", initial_states, (None, None, None), axes="(E, K, N)")
    if initial_states.dtype not in (torch.float32, torch.float64) or 0 in initial_states.shape:
        raise ValueError(
            "initial_states must be a non-empty float32 or float64 tensor (E, K, N), got "
            f"{describe(initial_states)}"
        )
    check_finite("initial_states", initial_states)
    E, K, _ = initial_states.shape
    options = {"dtype": initial_states.dtype, "device": initial_states.device}
    if inputs is None:
        size = check_positive_int("input_size", input_size, minimum=0)
        inputs = torch.zeros(size, **options)
    check_tensor("inputs", inputs, **options, finite=True)
    if inputs.dim() == 1:
        inputs = inputs.expand(E, -1)
    if inputs.dim() != 2 or inputs.shape[0] != E:
        raise ValueError(
            f"inputs must be (E, N_in) = ({E}, N_in) or (N_in,), got {tuple(inputs.shape)}"
        )
    x = inputs[:, None].expand(E, K, inputs.shape[-1]).contiguous()  # bmm copies expanded
    validate = getattr(dynamics, "validate", None)
    if validate is not None:
        validate(initial_states, x)
    return initial_states, x


def _descend(dynamics, initial, x, max_iterations, learning_rate, grow, shrink, stop_q):
    """Adam on all candidates at once, step sizes adapted per candidate; returns the final
    states (E, K, N), their q (E, K) and the number of steps. F(h) - h and the gradient of
    q, (J - I)^T (F(h) - h), come from the dynamics' ``speed_gradient``, else autograd. No
    (E, K, N) tensor is allocated per step (fresh ones cost page faults: 1.5x the time)."""
    speed = getattr(dynamics, "speed_gradient", None)
    write = _autograd_speed(dynamics, x) if speed is None else speed(x)
    states = initial.detach().clone()
    residual, before = torch.empty_like(states), torch.empty_like(states)
    states.grad = torch.empty_like(states)
    optimizer = torch.optim.Adam([states], lr=1.0, fused=True)  # one kernel (CPU: torch 2.4)
    rate = torch.full_like(initial[..., 0], learning_rate)
    q, previous, factor = torch.empty_like(rate), torch.full_like(rate, float("inf")), rate.clone()
    for iteration in range(max_iterations + 1):
        with torch.no_grad():  # the weights of the dynamics may require grad
            write(states, residual, states.grad)
            torch.linalg.vector_norm(residual, dim=-1, out=q).square_().mul_(0.5)
            stopped = q < stop_q  # a NaN q (a diverged candidate) keeps moving
            if iteration == max_iterations or bool(stopped.all()):
                return states, q, iteration
            factor.fill_(shrink).masked_fill_(q < previous, grow)
            rate.mul_(factor).masked_fill_(stopped, 0.0)
            before.copy_(states)
            optimizer.step()
            torch.lerp(before, states, rate[..., None], out=states)
        q, previous = previous, q


def _autograd_speed(dynamics, x):
    """The writer of F(h, x) - h and (J - I)^T (F(h, x) - h) from ``dynamics.step`` and
    its vector-Jacobian product by reverse-mode autograd."""

    def write(h, residual, gradient):
        with torch.enable_grad():
            state = h.detach().requires_grad_(True)
            image = dynamics.step(state, x)
            torch.sub(image.detach(), h, out=residual)
            (pulled,) = torch.autograd.grad(image, state, residual)
        torch.sub(pulled, residual, out=gradient)

    return write


def _inliers(points: torch.Tensor, initial: torch.Tensor, scale: float | None) -> torch.Tensor:
    """(E, K): points within ``scale`` spreads of the centroid of their member's initial
    states, the spread being the initial states' mean distance to that centroid."""
    if scale is None:
        return torch.ones(points.shape[:2], dtype=torch.bool, device=points.device)
    centroid = initial.mean(1, keepdim=True)
    spread = (initial - centroid).norm(dim=-1).mean(1, keepdim=True)
    distance = (points - centroid).norm(dim=-1)
    return (distance <= scale * spread) | (spread == 0)


def _unique(points, q, keep, tolerance):
    """Greedy de-duplication in order of increasing q, for all members at once: a kept
    point is one that no better kept point lies within ``tolerance`` of. Returns the
    candidates' indices (E, K), kept ones first by increasing q, and the counts (E,).

    The greedy choice is the fixed point of keep_i = valid_i and no kept j < i is close
    (in q order); iterating that map from "all valid" settles the first r points in r
    passes, and stops at the first repeat, the unique fixed point (usually 2 or 3 passes).
    """
    by_q = torch.where(keep, q, float("inf")).argsort(dim=1, stable=True)
    valid = keep.gather(1, by_q)
    ranked = points.gather(1, by_q[..., None].expand_as(points))
    distance = torch.cdist(ranked, ranked, compute_mode="donot_use_mm_for_euclid_dist")
    K = points.shape[1]
    earlier = torch.ones(K, K, dtype=torch.bool, device=q.device).tril(-1)
    conflict = (distance < tolerance) & earlier & valid[:, None, :]
    kept = valid
    for _ in range(K):
        update = valid & ~(conflict & kept[:, None, :]).any(-1)
        if torch.equal(update, kept):
            break
        kept = update
    first = (~kept).to(torch.uint8).argsort(dim=1, stable=True)
    return by_q.gather(1, first), kept.sum(1)


def _linearise(dynamics, points, x, mask, time, alpha, tolerance):
    """At the ``points`` (E, P, N) where ``mask`` (E, P) holds: the eigenvalues (E, P, N)
    by decreasing instability, the unstable mode counts (E, P) and each saddle's leading
    unstable direction (E, P, N); NaN (counts 0) elsewhere. The Jacobians of all points
    come from one tangent call, the eigendecompositions of the real ones from one
    ``torch.linalg.eig``."""
    E, P, N = points.shape
    eye = torch.eye(N, dtype=points.dtype, device=points.device).expand(E, P, N, N)
    with torch.no_grad():
        tangent = getattr(dynamics, "tangent", None)
        if tangent is None:
            jacobians = autograd_tangent(dynamics.step, points, x, eye)
        else:
            jacobians = tangent(points, x, eye)
        values, vectors = torch.linalg.eig(jacobians[mask])  # (M, N), (M, N, N)
    if time == "continuous":
        values = (values - 1) / (1 - alpha)
        growth, threshold = values.real, tolerance
    else:
        growth, threshold = values.abs(), 1.0 + tolerance
    order = growth.argsort(dim=-1, descending=True, stable=True)
    modes = (growth > threshold).sum(-1)
    leading = vectors.gather(-1, order[:, None, :1].expand(-1, N, 1))[..., 0]
    phase = leading.gather(-1, leading.abs().argmax(-1, keepdim=True))
    direction = (leading * phase.conj() / phase.abs()).real
    direction = direction / direction.norm(dim=-1, keepdim=True)
    saddle = (modes > 0) & (modes < N)
    padded = (
        torch.full((E, P, N), float("nan"), dtype=values.dtype, device=values.device),
        torch.zeros(E, P, dtype=modes.dtype, device=modes.device),
        torch.full((E, P, N), float("nan"), dtype=points.dtype, device=points.device),
    )
    padded[0][mask] = values.gather(-1, order)
    padded[1][mask] = modes
    padded[2][mask] = direction.masked_fill(~saddle[:, None], float("nan"))
    return padded


def sample_initial_states(
    hidden: torch.Tensor, count: int, *, noise_scale: float = 0.0, seed=0
) -> torch.Tensor:
    """Candidates (E, K, N) for :func:`find_fixed_points`: per member, ``count`` states
    drawn uniformly (with replacement) from its trials' hidden states ``hidden`` (E, B, T, N)
    plus Gaussian noise of standard deviation ``noise_scale`` (FixedPointFinder's
    ``sample_states``).

    ``seed``, one or one per member, keys the member's counter-based ``"evaluation"``
    stream (:mod:`neurodyn.rng`): a member's candidates depend on its seed and its own
    trajectories alone, not on the ensemble it is in.
    """
    check_tensor("hidden", hidden, (None, None, None, None), axes="(E, B, T, N)")
    if not hidden.is_floating_point() or 0 in hidden.shape:
        raise ValueError(
            f"hidden must be a non-empty floating-point tensor (E, B, T, N), got {describe(hidden)}"
        )
    check_finite("hidden", hidden)
    count = check_positive_int("count", count)
    noise_scale = check_real("noise_scale", noise_scale, minimum=0)
    E, B, T, N = hidden.shape
    seeds = rng.member_seeds(seed, E)
    keys = rng.member_keys(seeds, "evaluation", hidden.device, salt=SAMPLING_SALT)
    uniform = rng.counter_uniform(keys, 0, (count,), torch.float64)
    index = (uniform * (B * T)).long().clamp_max(B * T - 1)
    states = hidden.reshape(E, B * T, N).gather(1, index[..., None].expand(E, count, N))
    noise = rng.counter_normal(keys, 1, (count, N), hidden.dtype)
    return states + noise_scale * noise
