"""Free-energy attractor networks of continuous-Bernoulli units.

Spisak & Friston, *Self-orthogonalizing attractor neural networks emerging from the free
energy principle* (arXiv 2505.22749, 2025); spec ``free-energy-attractor.md`` sections 1-2.

N units with states sigma_i in [-1, 1]. Unit i receives h_i = sum_{j != i} J_ij sigma_j
(zero diagonal) and the bias b_i (the input channel: b = evidence x pattern while a
pattern is shown), and updates synchronously, every input computed from the previous
state as in the authors' code:

    theta = precision * (b + h),   sigma_new ~ CB(theta)   (stochastic)
                                   sigma_new = L(theta)    (deterministic)

with CB the continuous Bernoulli on [-1, 1] and L its mean (the Langevin function).
``precision`` is the inverse temperature (``iT`` in the code), one value per member.

Weights are stored presynaptic x postsynaptic like every neurodyn network, so
``h = sigma @ couplings`` and the paper's J_ij is ``couplings[..., j, i]``. The state has
shape (E, B, N): E ensemble members, B independent chains per member.
"""

from __future__ import annotations

import torch

from neurodyn.checks import (
    MemberValue,
    check_device,
    check_finite,
    check_float_dtype,
    check_positive_int,
    check_tensor,
    member_values,
)
from neurodyn.networks import continuous_bernoulli as cb


class FreeEnergyAttractorNetwork:
    """Configuration of an ensemble of attractor networks; couplings are passed explicitly.

    Args:
        size: N, number of units.
        ensemble_size: E, independent networks computed as one batch.
        precision: inverse temperature beta multiplying the total input, per member.
    """

    def __init__(
        self,
        size: int,
        *,
        ensemble_size: int = 1,
        precision: MemberValue = 1.0,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ):
        self.size = check_positive_int("size", size, minimum=2)
        self.ensemble_size = check_positive_int("ensemble_size", ensemble_size)
        self.device = check_device("device", device)
        self.dtype = check_float_dtype("dtype", dtype)
        self.precision = member_values(
            "precision", precision, ensemble_size, minimum=0.0, dtype=dtype, device=self.device
        )
        self._off_diagonal = 1 - torch.eye(size, dtype=dtype, device=self.device)

    def init(self) -> torch.Tensor:
        """Couplings start at zero (the authors' code): (E, N, N)."""
        E, N = self.ensemble_size, self.size
        return torch.zeros(E, N, N, dtype=self.dtype, device=self.device)

    def zero_state(self, batch: int = 1) -> torch.Tensor:
        return torch.zeros(
            self.ensemble_size, batch, self.size, dtype=self.dtype, device=self.device
        )

    def member_patterns(self, patterns: torch.Tensor) -> torch.Tensor:
        """Patterns (K, N) shared by all members, or (E, K, N) per member; returns
        (E, K, N) in the network's dtype and device."""
        if patterns.dim() == 2:
            patterns = patterns.unsqueeze(0).expand(self.ensemble_size, -1, -1)
        if patterns.dim() != 3 or patterns.shape[0] != self.ensemble_size:
            raise ValueError(
                f"patterns must be (K, {self.size}) or ({self.ensemble_size}, K, "
                f"{self.size}), got {tuple(patterns.shape)}"
            )
        if patterns.shape[-1] != self.size or patterns.shape[1] == 0:
            raise ValueError(f"patterns must hold at least one pattern of {self.size} values")
        check_finite("patterns", patterns)
        return patterns.to(device=self.device, dtype=self.dtype)

    def check_couplings(self, couplings: torch.Tensor, *, finite: bool = True) -> torch.Tensor:
        """Raise one clear error unless ``couplings`` are (E, N, N) in the network's dtype
        and on its device (and with ``finite``, free of NaN and infinities)."""
        E, N = self.ensemble_size, self.size
        options = {"dtype": self.dtype, "device": self.device, "finite": finite}
        return check_tensor("couplings", couplings, (E, N, N), axes="(E, N, N)", **options)

    def check_state(self, name: str, state: torch.Tensor, *, finite: bool = True) -> torch.Tensor:
        """A state (E, B, N) in the network's dtype and on its device."""
        options = {"dtype": self.dtype, "device": self.device, "finite": finite}
        shape = (self.ensemble_size, None, self.size)
        return check_tensor(name, state, shape, axes="(E, B, N)", **options)

    def check(
        self,
        couplings: torch.Tensor,
        sigma: torch.Tensor,
        bias: torch.Tensor,
        *,
        uniform: torch.Tensor | None = None,
        finite: bool = True,
    ) -> None:
        """Raise one clear error for tensors that do not fit this network or each other:
        couplings (E, N, N), state (E, B, N), bias (E, B or 1, N), uniform (E, B, N)."""
        self.check_couplings(couplings, finite=finite)
        self.check_state("state", sigma, finite=finite)
        self.check_state("bias", bias, finite=finite)
        if bias.shape[1] not in (1, sigma.shape[1]):
            raise ValueError(
                f"bias must have shape (E, 1, N) or the state's {tuple(sigma.shape)}, got "
                f"{tuple(bias.shape)}"
            )
        if uniform is not None:
            check_tensor("uniform", uniform, tuple(sigma.shape), axes="(E, B, N), the state's")

    def _fits(self, couplings, sigma, bias, uniform) -> bool:
        """The cheap test of :meth:`step`'s hot path: shapes and dtypes as :meth:`check`
        wants them (False sends the arguments to :meth:`check` for the error)."""
        try:
            members, dtype = (self.ensemble_size, self.size), self.dtype
            return (
                couplings.dtype is dtype
                and sigma.dtype is dtype
                and bias.dtype is dtype
                and couplings.shape == (*members, self.size)
                and sigma.dim() == bias.dim() == 3
                and sigma.shape[0::2] == bias.shape[0::2] == members
                and bias.shape[1] in (1, sigma.shape[1])
                and (uniform is None or uniform.shape == sigma.shape)
            )
        except AttributeError:  # not tensors
            return False

    def with_zero_diagonal(self, couplings: torch.Tensor) -> torch.Tensor:
        return couplings * self._off_diagonal

    def recurrent_input(self, couplings: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """h_i = sum_{j != i} J_ij sigma_j: (E, B, N)."""
        return torch.bmm(sigma, couplings)

    def natural_parameter(
        self, h: torch.Tensor, bias: torch.Tensor, precision: torch.Tensor | None = None
    ) -> torch.Tensor:
        """theta = precision (b + h), with per-member precision (E,)."""
        beta = self.precision if precision is None else precision
        return beta.view(-1, 1, 1) * (bias + h)

    def step(
        self,
        couplings: torch.Tensor,
        sigma: torch.Tensor,
        bias: torch.Tensor,
        *,
        uniform: torch.Tensor | None = None,
        precision: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One synchronous update; returns (sigma_new, h) where h is the input it used.

        With ``uniform`` (same shape as sigma, values in (0, 1)) the units are sampled from
        CB(theta); without it they take the mean L(theta) (deterministic update).
        Shapes and dtypes are checked (:meth:`check`), finiteness only by the loops' entry
        points (:func:`~neurodyn.training.learn_patterns`): a cheap test per step.
        """
        if not self._fits(couplings, sigma, bias, uniform):
            self.check(couplings, sigma, bias, uniform=uniform, finite=False)
        fits = isinstance(precision, torch.Tensor) and precision.shape == self.precision.shape
        if precision is not None and not fits:
            check_tensor("precision", precision, (self.ensemble_size,), axes="(E,)")
        h = self.recurrent_input(couplings, sigma)
        theta = self.natural_parameter(h, bias, precision)
        new = cb.langevin(theta) if uniform is None else cb.sample_with(theta, uniform)
        return new, h


def free_energy(couplings: torch.Tensor, state: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Variational free energy monitored by the authors' code, per member and chain: (E, B).

    With b_q = b + J m: complexity = sum_i KL(CB(b_q,i) || CB(b_i)) and accuracy =
    b . L(b_q) + L(b_q)^T J L(b_q); VFE = complexity - accuracy.
    """
    b_q = bias + torch.bmm(state, couplings)
    mean = cb.langevin(b_q)
    complexity = (cb.log_partition(bias) - cb.log_partition(b_q) + (b_q - bias) * mean).sum(-1)
    accuracy = (bias * mean).sum(-1) + (torch.bmm(mean, couplings) * mean).sum(-1)
    return complexity - accuracy
