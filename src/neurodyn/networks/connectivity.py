"""Biological constraints on the recurrent weights of rate RNNs: Dale's law and masks.

Weights are stored presynaptic x postsynaptic (h_t = ... + f(h_{t-1}) @ W), so the sign
of a unit under Dale's law is that of its ROW. For the trained parameter W~ (E, N, N)
the effective recurrent weights, those the dynamics, Jacobians and analyses use, are

    W_eff = |W~| * S   (members under Dale's law),     W_eff = W~ * M   (the others),

with S[j, i] = d_j M[j, i], d_j = +1 for the first round(f N) (excitatory) units and -1
for the others, and M the 0/1 connectivity mask (all ones without one). This is the
parameterisation of Song, Yang & Wang (2016, PLoS Comput Biol 12:e1004792) with |.| for
their rectification: its derivative is sign(W~) instead of a step, so a weight that
reaches 0 is not dead; the map is a projection (applying it twice changes nothing), so
effective weights are valid parameters too. The chain rule through it is elementwise,

    dL/dW~ = dL/dW_eff * S * sign(W~)     (Dale),     dL/dW_eff * M     (the others),

so a local rule (e-prop, RFLO) stays local, and a masked parameter, whose gradient is 0,
never moves under Adam.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from neurodyn import rng
from neurodyn.checks import check_choice, check_real, check_tensor, describe, member_values

DALE_INITS = ("plain", "balanced")
MASK_SALT = 1  # the masks' split of each member's "init" stream (the weights use a generator)


def excitatory_count(hidden_size: int, fraction: float) -> int:
    """round(f N), the number of excitatory units (the first ones)."""
    return int(round(fraction * hidden_size))


def unit_signs(hidden_size: int, fraction: float) -> torch.Tensor:
    """d (N,): +1 for the first round(f N) units (excitatory), -1 for the others."""
    signs = -torch.ones(hidden_size)
    signs[: excitatory_count(hidden_size, fraction)] = 1.0
    return signs


def plain_outlier(hidden_size: int, gain: float, fraction: float, density: float = 1.0) -> float:
    """Where the plain Dale initialisation puts its outlier eigenvalue (real, positive).

    W~ = |Z| g / sqrt(N q) on the q N^2 connections kept by a random mask, Z ~ N(0, 1), so
    an entry of the postsynaptic x presynaptic matrix J = W_eff^T has mean
    d_j q g sqrt(2 / pi) / sqrt(N q): the mean matrix is the rank one 1 m^T with
    eigenvalue m^T 1 = g sqrt(2 q N / pi) (2 f - 1), f = n_E / N. The fluctuations, of
    variance g^2 (1 - 2 q / pi) / N, form a disk of radius g sqrt(1 - 2 q / pi) (Rajan &
    Abbott 2006), and a rank-one perturbation outside the disk keeps its eigenvalue
    (Tao 2013, Probab Theory Relat Fields 155:231, outliers)."""
    f = excitatory_count(hidden_size, fraction) / hidden_size
    return gain * math.sqrt(2 * density * hidden_size / math.pi) * (2 * f - 1)


def initial_recurrent(
    normal: torch.Tensor,
    gain: float,
    *,
    signs: torch.Tensor | None = None,
    balanced: bool = False,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """The initial W~ (N, N) of one member from standard normal numbers Z = ``normal``.

    Without Dale's law (``signs`` None): Z g / sqrt(N), the paper's N(0, g^2 / N). With
    unit ``signs`` d (N,): ``plain`` |Z| g / sqrt(N) d_j (row j), whose mean makes the
    outlier of :func:`plain_outlier`. A ``mask`` (N, N) zeroes the missing connections
    and divides the others by sqrt(q), q the fraction kept, so that the fluctuations keep
    their variance.

    ``balanced`` (Rajan & Abbott 2006, Phys Rev Lett 97:188104): magnitudes s (|Z| + c_P)
    with the shift c_P = 0 for the larger population and sqrt(2 / pi) (n_large / n_small
    - 1) for the smaller, so that both populations give the same mean total input and
    their weights fluctuate with the same variance s^2 (1 - 2 / pi) (R&A's equal-variance
    case); then the inhibitory inputs of every postsynaptic unit i are scaled (by about 1)
    so that they cancel its excitatory ones exactly, sum_j W_eff[j, i] = 0. So J 1 = 0
    for J = W_eff^T, the eigenvalues of J are those of J - 1 m^T for any m with
    m^T 1 = 0 (no outlier), and the circular law gives the radius
    s sqrt(N q (1 - 2 / pi + (1 - q) sum_P f_P (sqrt(2 / pi) + c_P)^2)) (q = 1 without a
    mask, which adds the variance of the means): s makes it g."""
    N = normal.shape[0]
    density = 1.0 if mask is None else float(mask.float().mean())
    if signs is None:
        weights = normal * gain / math.sqrt(N)
    elif not balanced:
        weights = normal.abs() * gain / math.sqrt(N)
    else:
        return _balanced(normal, gain, signs > 0, mask, density)
    if mask is not None:
        weights = weights * mask / math.sqrt(density) if density > 0 else weights * mask
    return weights if signs is None else weights * signs[:, None]


def _balanced(normal, gain, excitatory, mask, density: float) -> torch.Tensor:
    """The balanced initialisation of :func:`initial_recurrent`."""
    N, n_exc = normal.shape[0], int(excitatory.sum())
    if not 0 < n_exc < N:
        raise ValueError("a balanced initialisation needs excitatory and inhibitory units")
    mean = math.sqrt(2 / math.pi)  # E|Z|
    sizes = torch.tensor([n_exc, N - n_exc], dtype=torch.float64)
    means = mean * sizes.max() / sizes  # per population: n_E mean_E = n_I mean_I
    shifted = normal.abs() + torch.where(excitatory, means[0], means[1]).view(-1, 1) - mean
    spread = 1 - mean**2 + (1 - density) * float((sizes / N * means**2).sum())
    weights = shifted * gain / math.sqrt(N * density * spread)
    if mask is not None:
        weights = weights * mask
    excitatory_input = weights[excitatory].sum(0)
    inhibitory_input = weights[~excitatory].sum(0)
    ratio = torch.where(inhibitory_input > 0, excitatory_input / inhibitory_input, 0.0)
    weights[~excitatory] *= ratio.to(weights.dtype)
    return weights * torch.where(excitatory, 1.0, -1.0).view(-1, 1).to(weights.dtype)


def random_mask(
    seeds: Sequence[int],
    hidden_size: int,
    probability: float | Sequence[float] | torch.Tensor,
) -> torch.Tensor:
    """Random connectivity masks (E, N, N) of 0/1 floats, presynaptic x postsynaptic: each
    connection present with ``probability``, one value, one per member (E,), or per pair
    (N, N) or (E, N, N) (:func:`block_probabilities`, :func:`area_probabilities`).

    Member e's mask comes from its own counter-based ``"init"`` stream (split
    ``MASK_SALT``), so it depends only on seeds[e] and its probabilities."""
    keys = rng.member_keys(rng.check_seeds("seeds", seeds), "init", salt=MASK_SALT)
    E, N = keys.shape[0], hidden_size
    if isinstance(probability, torch.Tensor) and probability.dim() >= 2:
        expected = (N, N) if probability.dim() == 2 else (E, N, N)
        check_tensor("probability", probability, expected, axes="(N, N) or (E, N, N)")
        probs = probability.to(torch.float64).expand(E, N, N)
    else:
        probs = member_values("probability", probability, E, minimum=0.0, dtype=torch.float64)
        probs = probs.view(E, 1, 1)
    if not bool(((probs >= 0) & (probs <= 1)).all()):
        raise ValueError(f"probability must lie in [0, 1], got {describe(probability)}")
    uniform = rng.counter_uniform(keys, 0, (N, N), torch.float64)
    return (uniform < probs).float()


def block_probabilities(sizes: Sequence[int], probabilities) -> torch.Tensor:
    """Connection probabilities (N, N) of populations of ``sizes`` (N = their sum, in that
    order): ``probabilities`` (K, K) [presynaptic population][postsynaptic population],
    e.g. E/I blocks [[p_EE, p_EI], [p_IE, p_II]]. For :func:`random_mask`."""
    sizes = list(sizes)
    if not sizes or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
        raise ValueError(f"sizes must be positive integers, got {describe(sizes)}")
    table = torch.as_tensor(probabilities, dtype=torch.float64)
    if table.shape != (len(sizes), len(sizes)):
        raise ValueError(
            f"probabilities must be ({len(sizes)}, {len(sizes)}), one per pair of populations, "
            f"got shape {tuple(table.shape)}"
        )
    if not bool(((table >= 0) & (table <= 1)).all()):
        raise ValueError(f"probabilities must lie in [0, 1], got {table.tolist()}")
    index = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    return table[index][:, index]


def area_probabilities(sizes: Sequence[int], within: float, between) -> torch.Tensor:
    """Multi-area connection probabilities (N, N): ``within`` inside each area of
    ``sizes``, ``between`` (one value, or (K, K) [from area][to area], e.g. zero below the
    diagonal for feedforward areas) across areas; the diagonal of ``between`` is ignored."""
    K = len(list(sizes))
    table = torch.as_tensor(between, dtype=torch.float64).expand(K, K).clone()
    table.fill_diagonal_(float(within))
    return block_probabilities(sizes, table)


@dataclass(frozen=True)
class Constraints:
    """Dale's law and masks of an ensemble (see the module docstring): ``dale`` (E,) bool,
    ``signs`` (E, N, N) = S for the members under Dale's law and M for the others."""

    dale: torch.Tensor
    signs: torch.Tensor

    def effective(self, recurrent: torch.Tensor) -> torch.Tensor:
        """W_eff (E, N, N) of the parameters W~ (E, N, N)."""
        if bool(self.dale.all()):
            return recurrent.abs() * self.signs
        if not bool(self.dale.any()):
            return recurrent * self.signs
        return torch.where(self.dale.view(-1, 1, 1), recurrent.abs(), recurrent) * self.signs

    def pull_back(self, recurrent: torch.Tensor, gradient: torch.Tensor) -> torch.Tensor:
        """dL/dW~ from dL/dW_eff, in place on ``gradient`` (returned)."""
        gradient.mul_(self.signs)
        if bool(self.dale.any()):
            sign = recurrent.sign()
            if not bool(self.dale.all()):
                sign = torch.where(self.dale.view(-1, 1, 1), sign, 1.0)
            gradient.mul_(sign)
        return gradient


def constraints(
    hidden_size: int,
    dale: Sequence[bool],
    excitatory_fraction: float,
    mask: torch.Tensor | None,
    **placement,
) -> Constraints | None:
    """The :class:`Constraints` of per-member ``dale`` flags and a ``mask`` (E, N, N) (or
    None), with ``placement`` (dtype, device) for their tensors; None without either."""
    if not any(dale) and mask is None:
        return None
    flags = torch.tensor(dale, dtype=torch.bool)
    rows = unit_signs(hidden_size, excitatory_fraction).view(1, -1, 1)
    signs = torch.where(flags.view(-1, 1, 1), rows, 1.0).expand(-1, -1, hidden_size)
    if mask is not None:
        signs = signs * mask
    return Constraints(flags.to(placement.get("device")), signs.contiguous().to(**placement))


def check_mask(mask, ensemble_size: int, hidden_size: int) -> torch.Tensor | None:
    """A mask (N, N) or (E, N, N) of 0/1 values (bool or numbers) as (E, N, N) float32."""
    if mask is None:
        return None
    E, N = ensemble_size, hidden_size
    check_tensor("mask", mask, axes="(N, N) or (E, N, N) of 0/1")
    if mask.shape not in ((N, N), (E, N, N)):
        raise ValueError(f"mask must have shape ({N}, {N}) or ({E}, {N}, {N}), got {mask.shape}")
    values = mask.detach().to("cpu", torch.float64)
    if not bool(((values == 0) | (values == 1)).all()):
        raise ValueError("mask must hold only 0 and 1 (or False and True)")
    return values.to(torch.float32).expand(E, N, N).contiguous()


def check_dale(
    dale, dale_init, excitatory_fraction, ensemble_size: int
) -> tuple[list[bool], list[str], float]:
    """Per-member flags and initialisations from one value or one per member, and the
    excitatory fraction, a number in [0, 1]; a clear error for anything else."""
    fraction = check_real("excitatory_fraction", excitatory_fraction, minimum=0.0)
    if fraction > 1:
        raise ValueError(f"excitatory_fraction must lie in [0, 1], got {fraction}")
    flags = [dale] * ensemble_size if isinstance(dale, bool) else dale
    inits = [dale_init] * ensemble_size if isinstance(dale_init, str) else dale_init
    for name, values, kind in (("dale", flags, bool), ("dale_init", inits, str)):
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise TypeError(f"{name} must be one {kind.__name__} or one per member")
        if len(values) != ensemble_size or not all(isinstance(v, kind) for v in values):
            raise ValueError(
                f"{name} must be one {kind.__name__} or {ensemble_size} of them (one per "
                f"member), got {describe(values)}"
            )
    for value in inits:
        check_choice("dale_init", value, DALE_INITS)
    return list(flags), list(inits), fraction
