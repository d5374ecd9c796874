"""Fixed points of random asymmetric networks by focusing belief propagation.

Spec ``steering.md`` section 6.5 (the thesis's protocol was not available, so this is the
spec's proposal): belief propagation on the factor graph whose N factors are the
stability constraints theta(s_i (sum_{j != i} J_ij s_j + J_D)), with the Gaussian
(relaxed-BP / AMP) treatment of the dense cavity sums used for the perceptron, plus the
focusing term of Baldassi et al., PNAS 113, E7655 (2016), arXiv 1605.06444, as in
``carlobaldassi/BinaryCommitteeMachineFBP.jl``.

Equations (t is the iteration; products with J are batched matrix products):

* Factor i sees u_i = sum_{j != i} J_ij s_j as a Gaussian of mean and variance
      omega_i = sum_j J_ij m_j - V_i g_i^{t-1}      (Onsager reaction term)
      V_i     = sum_j J_ij^2 (1 - m_j^2),
  and its own spin s_i with the cavity magnetization mu_i = tanh(H_i - u_i^self). Its
  partition function is
      Z_i(omega) = sum_{s = +-1} (1 + s mu_i)/2 Phi((s omega + J_D) / sqrt(V_i)),
  with g_i = d log Z_i / d omega and g'_i = d^2 log Z_i / d omega^2.
* Factor i sends its own spin the field
      u_i^self = [log Phi((omega_i + J_D)/sqrt V_i) - log Phi((-omega_i + J_D)/sqrt V_i)] / 2
  and every other spin j the field J_ij g_i (first order in J_ij), so that spin j has
      H_j^BP = sum_i J_ij g_i + A_j m_j + u_j^self,   A_j = -sum_i J_ij^2 g'_i,
  A_j m_j being the Onsager term of the input side.
* Focusing (y replicas coupled with strength gamma to a reference configuration; the
  entropic node of the Julia code with pol = tanh gamma, r = y - 1):
      H_j = H_j^BP + atanh(tanh(gamma) tanh((y - 1) atanh(tanh(gamma) tanh H_j^BP))).
  gamma grows every iteration, gamma_t = gamma_0 + t * gamma_step ("scoping"), so that
  the marginals polarise; m = tanh H. H and u^self are damped,
  H <- d H_old + (1 - d) H_new.
* After each iteration the configuration s = sign(m) (ties to +1) is tested exactly
  (:func:`neurodyn.analysis.fixed_points.minimum_stability`); an instance succeeds at the
  first iteration whose s is a fixed point and then stops changing.

Symmetric couplings (J_ij = J_ji, ``random_couplings(..., symmetric=True)``) are refused.
The Gaussian cavity treatment and both Onsager terms above assume that J_ij and J_ji are
independent (spec 6.1): factor i's message to spin j and factor j's message to spin i
then carry independent couplings. With J_ij = J_ji they are one variable, and the
reaction terms of the symmetric model (those of the TAP equations of the
Sherrington-Kirkpatrick model) are missing, so the marginals would not be BP's. A
success would still be an exactly checked fixed point, but the success rate would
measure an uncontrolled heuristic, not focusing BP of the symmetric model.

Messages are computed in float64; the fixed-point test uses the couplings' own dtype, so
a success is a fixed point for :func:`~neurodyn.analysis.fixed_points.is_fixed_point`.
Messages start from small random fields drawn from the
caller's generator (the all-zero messages are a symmetric fixed point of BP).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from neurodyn.analysis.fixed_points import (
    check_couplings,
    instance_self_coupling,
    minimum_stability,
)
from neurodyn.checks import check_positive_int

MAGNETIZATION_LIMIT = 1.0 - 1e-12  # keeps log(1 +- m) and V finite once messages polarise
MINIMUM_VARIANCE = 1e-12


@dataclass(frozen=True)
class FocusingBPSettings:
    """Hyperparameters of :func:`focusing_bp`.

    ``replicas`` y; ``initial_coupling`` gamma_0 and ``coupling_step`` its growth per
    iteration; ``damping`` the weight of the old field in H <- d H_old + (1 - d) H_new;
    ``max_iterations`` the budget; ``initial_field`` the scale of the random initial
    fields. The sources give no protocol (spec 6.5); the defaults were chosen on 8
    networks of N = 200-400 at J_D in [0, 0.4]: without focusing (coupling_step = 0) BP
    found no fixed point below J_D = 1; y in {4, 8, 16}, steps 0.005-0.02 and damping
    0.2-0.5 gave similar success rates (y = 8 and step 0.01 the best of them), damping
    0.8 a lower one.
    """

    replicas: float = 8.0
    initial_coupling: float = 0.0
    coupling_step: float = 0.01
    damping: float = 0.5
    max_iterations: int = 400
    initial_field: float = 0.1

    def __post_init__(self) -> None:
        if not self.replicas >= 1.0:
            raise ValueError(f"replicas must be >= 1, got {self.replicas!r}")
        if not (self.initial_coupling >= 0.0 and self.coupling_step >= 0.0):
            raise ValueError("initial_coupling and coupling_step must be >= 0")
        if not 0.0 <= self.damping < 1.0:
            raise ValueError(f"damping must lie in [0, 1), got {self.damping!r}")
        check_positive_int("max_iterations", self.max_iterations)
        if not self.initial_field > 0.0:
            raise ValueError(f"initial_field must be > 0, got {self.initial_field!r}")


@dataclass(frozen=True)
class FocusingBPResult:
    """``state`` (E, B, N): sign of the marginals (a fixed point where ``success``);
    ``success`` (E, B): whether an exactly checked fixed point was found;
    ``iterations`` (E, B): iterations used (the budget where not successful)."""

    state: torch.Tensor
    success: torch.Tensor
    iterations: torch.Tensor


def focusing_bp(
    couplings: torch.Tensor,
    self_coupling: float | Sequence[float] | torch.Tensor,
    *,
    batch: int | None = None,
    settings: FocusingBPSettings = FocusingBPSettings(),
    generator: torch.Generator,
    progress: bool = False,
) -> FocusingBPResult:
    """Search a fixed point of every instance (network e, self-coupling [e, b]) by fBP.

    ``self_coupling`` broadcasts to (E, B); ``batch`` sets B when it is a scalar (several
    independent runs per network). Returns states in the couplings' dtype.
    """
    ensemble, size = check_couplings(couplings)
    if bool((couplings == couplings.transpose(1, 2)).flatten(1).all(1).any()):
        raise ValueError(
            "focusing_bp assumes J_ij independent of J_ji; its cavity (Onsager) terms are "
            "not valid for symmetric couplings (see the module docstring)"
        )
    self_coupling = instance_self_coupling(self_coupling, couplings, batch)
    instances = self_coupling.shape[1]
    device = couplings.device
    weights = couplings.double()
    squares = weights.square()
    offset = self_coupling.double()[..., None]
    fields = settings.initial_field * torch.randn(
        ensemble, instances, size, generator=generator, dtype=torch.float64, device=generator.device
    ).to(device)
    self_field = torch.zeros_like(fields)
    reaction = torch.zeros_like(fields)
    success = torch.zeros(ensemble, instances, dtype=torch.bool, device=device)
    iterations = torch.full((ensemble, instances), settings.max_iterations, device=device)
    state = torch.ones_like(fields)
    for t in tqdm(range(settings.max_iterations), disable=not progress, unit="it", mininterval=2.0):
        magnetization = torch.tanh(fields).clamp(-MAGNETIZATION_LIMIT, MAGNETIZATION_LIMIT)
        variance = torch.bmm(1 - magnetization.square(), squares).clamp_min(MINIMUM_VARIANCE)
        mean = torch.bmm(magnetization, weights) - variance * reaction
        cavity = torch.tanh(fields - self_field).clamp(-MAGNETIZATION_LIMIT, MAGNETIZATION_LIMIT)
        gradient, curvature, new_self_field = _factor_messages(mean, variance, cavity, offset)
        onsager = torch.bmm(-curvature, squares.transpose(1, 2))
        bp_field = torch.bmm(gradient, weights.transpose(1, 2)) + onsager * magnetization
        bp_field = bp_field + new_self_field
        gamma = settings.initial_coupling + t * settings.coupling_step
        new_fields = bp_field + _focusing_field(bp_field, gamma, settings.replicas)
        active = ~success[..., None]
        fields = torch.where(active, _damp(fields, new_fields, settings.damping), fields)
        self_field = torch.where(
            active, _damp(self_field, new_self_field, settings.damping), self_field
        )
        reaction = torch.where(active, gradient, reaction)
        candidate = torch.where(fields >= 0, 1.0, -1.0)
        state = torch.where(active, candidate, state)
        stability = minimum_stability(couplings, state.to(couplings.dtype))
        found = (stability >= -self_coupling) & ~success
        iterations[found] = t + 1
        success |= found
        if bool(success.all()):
            break
    return FocusingBPResult(state.to(couplings.dtype), success, iterations)


def _damp(old: torch.Tensor, new: torch.Tensor, damping: float) -> torch.Tensor:
    return damping * old + (1 - damping) * new


def _factor_messages(
    mean: torch.Tensor, variance: torch.Tensor, cavity: torch.Tensor, offset: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """g = d log Z / d omega, g' = d^2 log Z / d omega^2 and u^self of every factor.

    With a_+- = (+-omega + J_D)/sqrt(V), w_+- the posterior weights of s_i = +-1 inside
    the factor and r(a) = phi(a)/Phi(a) (computed in log space):
    g = (w_+ r(a_+) - w_- r(a_-)) / sqrt(V) and
    g' = -(w_+ a_+ r(a_+) + w_- a_- r(a_-)) / V - g^2.
    """
    scale = variance.sqrt()
    plus, minus = (offset + mean) / scale, (offset - mean) / scale
    log_cdf_plus, log_cdf_minus = torch.special.log_ndtr(plus), torch.special.log_ndtr(minus)
    log_plus = torch.log1p(cavity) + log_cdf_plus
    log_minus = torch.log1p(-cavity) + log_cdf_minus
    weight_plus = torch.sigmoid(log_plus - log_minus)
    weight_minus = 1 - weight_plus
    ratio_plus = torch.exp(_log_normal_density(plus) - log_cdf_plus)
    ratio_minus = torch.exp(_log_normal_density(minus) - log_cdf_minus)
    gradient = (weight_plus * ratio_plus - weight_minus * ratio_minus) / scale
    second = -(weight_plus * plus * ratio_plus + weight_minus * minus * ratio_minus) / variance
    self_field = 0.5 * (log_cdf_plus - log_cdf_minus)
    return gradient, second - gradient.square(), self_field


def _log_normal_density(x: torch.Tensor) -> torch.Tensor:
    return -0.5 * x.square() - 0.5 * math.log(2 * math.pi)


def _focusing_field(field: torch.Tensor, coupling: float, replicas: float) -> torch.Tensor:
    """atanh(tanh(gamma) tanh((y - 1) atanh(tanh(gamma) tanh h))): the replicas' message."""
    if coupling == 0.0 or replicas == 1.0:
        return torch.zeros_like(field)
    strength = min(math.tanh(coupling), MAGNETIZATION_LIMIT)
    inner = torch.atanh(strength * torch.tanh(field))
    return torch.atanh(strength * torch.tanh((replicas - 1.0) * inner))
