"""Fixed points of random asymmetric binary networks with self-coupling.

Scardecchia, *Learning by Steering the Neural Dynamics* (arXiv 2510.11984), chapter 3 and
spec ``steering.md`` section 6. A network of N spins s in {-1, +1}^N has couplings
J_ij ~ N(0, 1/N) i.i.d. for i != j (J_ij independent of J_ji) and the self-coupling
J_ii = J_D; ``random_couplings(..., symmetric=True)`` gives the symmetric model of the
thesis's open question 1 instead (J_ij = J_ji, see
:mod:`neurodyn.analysis.symmetric_fixed_points`). A configuration is a fixed point of the
zero-temperature dynamics s_i <- sign(h_i), h_i = sum_{j != i} J_ij s_j + J_D s_i, when
every spin is stable:

    s_i sum_{j != i} J_ij s_j + J_D >= 0   for all i          (spec 6.1)

(a zero field keeps the current value, as in :mod:`neurodyn.networks.binary`).

This module holds the model and its exact statistics: coupling and state sampling, the
stability test, the exact enumeration of all 2^N configurations and the expected number
of fixed points (spec 6.2),

    E[#FP] = 2^N Phi(J_D / sigma_N)^N,   sigma_N^2 = (N - 1) / N,

which tends to (2 Phi(J_D))^N: for a fixed s the N fields sum_{j != i} J_ij s_j are
independent Gaussians of variance (N - 1) / N, since the rows of J are independent.
:mod:`neurodyn.analysis.asynchronous` runs the dynamics and
:mod:`neurodyn.analysis.focusing_bp` searches fixed points by message passing.

Conventions shared by these modules (as in :mod:`neurodyn.networks.binary`):

* ``couplings`` (E, N, N) holds E independent networks stored presynaptic x
  postsynaptic, so the fields of a state are ``state @ couplings``: the paper's J_ij is
  ``couplings[e, j, i]``. Its diagonal must be zero; the self-coupling is passed apart.
* ``self_coupling`` is a float or a tensor broadcastable to (E, B): instance (e, b) is
  network e with self-coupling ``self_coupling[e, b]``. A (B,) grid is shared by every
  network (the networks are then compared across J_D with common random couplings).
* States are (E, B, N) tensors of +-1 in the couplings' dtype.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from neurodyn.checks import check_finite, check_matrices, check_positive_int, check_shape

MAX_ENUMERATION_SIZE = 24  # 2^23 configurations per network, minutes on one core
ENUMERATION_BLOCK = 1 << 22  # elements of the (E, chunk, N) field block per step


def random_couplings(
    size: int,
    *,
    ensemble_size: int = 1,
    generator: torch.Generator,
    symmetric: bool = False,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """E independent coupling matrices, J_ij ~ N(0, 1/N) for i != j and a zero diagonal.

    Returns (E, N, N), presynaptic x postsynaptic. Network e is the e-th float64 draw G
    of N x N normals from the generator (on its device), scaled and cast: a seed gives the
    same networks in every dtype and for every E, and memory peaks at one float64 network.
    By default J = G / sqrt(N) (J_ij independent of J_ji). ``symmetric=True`` gives
    J = (G + G^T) / sqrt(2N) from the same draw: J_ij = J_ji, the pairs i < j independent,
    and every off-diagonal entry keeps the variance 1/N of the asymmetric model (the
    Sherrington-Kirkpatrick convention), so the two models differ only in the correlation
    of J_ij and J_ji (0 or 1).
    """
    check_positive_int("size", size, minimum=2)
    check_positive_int("ensemble_size", ensemble_size)
    couplings = torch.empty(ensemble_size, size, size, dtype=dtype, device=device)
    scale = math.sqrt(2 * size if symmetric else size)
    for network in couplings:
        draw = torch.randn(
            size, size, generator=generator, dtype=torch.float64, device=generator.device
        )
        network.copy_((draw + draw.T if symmetric else draw).div_(scale))
    couplings.diagonal(dim1=1, dim2=2).zero_()
    return couplings


def random_spins(
    shape: Sequence[int],
    *,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Uniformly random configurations in {-1, +1} of the given shape, e.g. (E, B, N)."""
    for axis, n in enumerate(shape):
        check_positive_int(f"shape[{axis}]", n)
    bits = torch.randint(0, 2, tuple(shape), generator=generator, device=generator.device)
    return (2 * bits - 1).to(dtype=dtype, device=device)


def check_couplings(couplings: torch.Tensor) -> tuple[int, int]:
    """Validate (E, N, N) couplings with a zero diagonal; returns (E, N)."""
    check_matrices("couplings", couplings, minimum_size=2)
    if bool(couplings.diagonal(dim1=1, dim2=2).any()):
        raise ValueError(
            "couplings must have a zero diagonal; pass the self-coupling J_D as self_coupling"
        )
    return couplings.shape[0], couplings.shape[-1]


def instance_self_coupling(
    self_coupling: float | Sequence[float] | torch.Tensor,
    couplings: torch.Tensor,
    batch: int | None = None,
) -> torch.Tensor:
    """J_D of every instance as an (E, B) tensor in the couplings' dtype and device.

    ``batch`` is B; by default it is the last axis of ``self_coupling`` (1 for a scalar).
    """
    values = torch.as_tensor(self_coupling, dtype=torch.float64)
    check_finite("self_coupling", values)
    if values.dim() > 2:
        raise ValueError(f"self_coupling must have at most 2 axes, got {tuple(values.shape)}")
    if batch is None:
        batch = values.shape[-1] if values.dim() else 1
    shape = (couplings.shape[0], batch)
    try:
        values = torch.broadcast_to(values, shape)
    except RuntimeError:
        raise ValueError(
            f"self_coupling of shape {tuple(values.shape)} does not broadcast to (E, B) = {shape}"
        ) from None
    return values.to(dtype=couplings.dtype, device=couplings.device).contiguous()


def check_spins(name: str, state: torch.Tensor, couplings: torch.Tensor) -> torch.Tensor:
    """Validate an (E, B, N) state of +-1 for ``couplings``; returns it in their dtype."""
    check_shape(name, state, (couplings.shape[0], None, couplings.shape[-1]))
    if not bool(((state == 1) | (state == -1)).all()):
        raise ValueError(f"{name} must contain only -1 and +1")
    return state.to(dtype=couplings.dtype, device=couplings.device)


def local_fields(couplings: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
    """Off-diagonal fields sum_{j != i} J_ij s_j of (E, B, N) states: (E, B, N)."""
    return torch.bmm(state, couplings)


def minimum_stability(couplings: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
    """min_i s_i sum_{j != i} J_ij s_j of (E, B, N) states, unchecked: (E, B).

    A state is a fixed point at self-coupling J_D iff this is >= -J_D.
    """
    return (state * local_fields(couplings, state)).amin(-1)


def is_fixed_point(
    couplings: torch.Tensor,
    self_coupling: float | Sequence[float] | torch.Tensor,
    state: torch.Tensor,
) -> torch.Tensor:
    """Whether each (E, B, N) state is a fixed point: all s_i h_i^off + J_D >= 0. (E, B)."""
    check_couplings(couplings)
    state = check_spins("state", state, couplings)
    threshold = instance_self_coupling(self_coupling, couplings, state.shape[1])
    return minimum_stability(couplings, state) >= -threshold


def _configurations(start: int, stop: int, size: int, dtype: torch.dtype, device) -> torch.Tensor:
    """Configurations start..stop-1 in binary, s_i = 2 bit_i - 1: (stop - start, N)."""
    return code_spins(torch.arange(start, stop, dtype=torch.int64, device=device), size, dtype)


def code_spins(codes: torch.Tensor, size: int, dtype: torch.dtype) -> torch.Tensor:
    """Configurations of integer codes, s_i = 2 bit_i - 1: (..., N)."""
    bits = (codes[..., None] >> torch.arange(size, device=codes.device)) & 1
    return (2 * bits - 1).to(dtype)


def enumerate_stabilities(couplings: torch.Tensor, block: int = ENUMERATION_BLOCK):
    """Yield ``(spins, stability)`` over the 2^(N-1) configurations with s_N = +1, in order.

    ``spins`` (chunk, N) float64; ``stability`` (E, chunk) the smallest stability
    min_i s_i sum_{j != i} J_ij s_j of each, in float64; chunks hold about ``block``
    elements of the (E, chunk, N) fields. The other half are the mirror images -s, with the
    same stabilities. Unchecked: callers validate the couplings and N.
    """
    ensemble, size = couplings.shape[0], couplings.shape[-1]
    exact = couplings.double()
    half = 1 << (size - 1)
    chunk = max(1, min(half, block // (ensemble * size)))
    for start in range(0, half, chunk):
        spins = _configurations(start, min(start + chunk, half), size, torch.float64, exact.device)
        spins[:, -1] = 1.0
        yield spins, (spins * torch.matmul(spins, exact)).amin(-1)


def check_enumerable(couplings: torch.Tensor) -> tuple[int, int]:
    """Validate couplings small enough to enumerate; returns (E, N)."""
    ensemble, size = check_couplings(couplings)
    if size > MAX_ENUMERATION_SIZE:
        raise ValueError(
            f"exact enumeration visits 2^N states; N = {size} exceeds the limit "
            f"{MAX_ENUMERATION_SIZE}"
        )
    return ensemble, size


def count_fixed_points(
    couplings: torch.Tensor, self_coupling: float | Sequence[float] | torch.Tensor
) -> torch.Tensor:
    """Exact number of fixed points of each instance, by enumerating all 2^N states: (E, B).

    Instance (e, b) is network e with self-coupling ``self_coupling[e, b]`` (a (B,) grid
    counts every network at every J_D). For each configuration the smallest stability
    min_i s_i sum_{j != i} J_ij s_j is computed once (in float64), and s is a fixed point
    at J_D iff it is >= -J_D. Stabilities are invariant under s -> -s, so only the half
    with s_N = +1 is enumerated and counted twice. Blocks of configurations keep the
    memory bounded.
    """
    check_enumerable(couplings)
    threshold = instance_self_coupling(self_coupling, couplings).double()
    counts = torch.zeros(threshold.shape, dtype=torch.int64, device=couplings.device)
    for _, stability in enumerate_stabilities(couplings):
        counts += (stability[:, :, None] >= -threshold[:, None, :]).sum(1)
    return 2 * counts


def expected_fixed_points(size: int, self_coupling: float | np.ndarray) -> float | np.ndarray:
    """E[#FP] = 2^N Phi(J_D / sigma_N)^N with sigma_N^2 = (N - 1) / N (spec 6.2).

    Exact at every N for J_ij ~ N(0, 1/N), i != j. For large N it becomes
    (2 Phi(J_D))^N = exp(N Sigma(J_D)); see :func:`fixed_point_entropy`.
    """
    check_positive_int("size", size, minimum=2)
    sigma = math.sqrt((size - 1) / size)
    return np.exp(size * (math.log(2.0) + _log_ndtr(np.asarray(self_coupling) / sigma)))


def fixed_point_entropy(self_coupling: float | np.ndarray) -> float | np.ndarray:
    """Annealed entropy of fixed points per spin, Sigma(J_D) = ln 2 + ln Phi(J_D) (spec 6.2).

    Sigma(0) = 0 (about one fixed point), Sigma(0.3) = 0.212, Sigma(0.5) = 0.324.
    """
    return math.log(2.0) + _log_ndtr(np.asarray(self_coupling))


def _log_ndtr(x: np.ndarray) -> np.ndarray:
    return torch.special.log_ndtr(torch.as_tensor(x, dtype=torch.float64)).numpy()


def crossing_point(
    self_couplings: Sequence[float], probabilities: Sequence[float], level: float = 0.5
) -> float:
    """J_D at which a measured probability crosses ``level`` upwards, by linear interpolation.

    Used for the size-dependent threshold J_a(N) of the dynamics (spec 6.3): the J_D where
    the convergence probability crosses 1/2. With sampling noise the curve can cross more
    than once; the last upward crossing is returned (above it the probability stays
    >= ``level`` on the grid). NaN when the curve never crosses: the threshold lies
    outside the grid.
    """
    x = np.asarray(self_couplings, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    if x.shape != p.shape or x.ndim != 1:
        raise ValueError("self_couplings and probabilities must be 1-D and of equal length")
    if np.any(np.diff(x) <= 0):
        raise ValueError("self_couplings must increase strictly")
    below = np.flatnonzero(p < level)
    if below.size == 0 or below[-1] == x.size - 1:
        return math.nan
    k = below[-1]
    return float(x[k] + (level - p[k]) * (x[k + 1] - x[k]) / (p[k + 1] - p[k]))


def extrapolate_threshold(sizes: Sequence[int], thresholds: Sequence[float]) -> dict:
    """Least-squares line J_a(N) = J_a(inf) + slope / N through the finite thresholds.

    Returns ``{"infinite_size": J_a(inf), "slope": slope, "points": n}`` (NaN entries
    when fewer than two finite thresholds exist).
    """
    n = np.asarray(sizes, dtype=float)
    j = np.asarray(thresholds, dtype=float)
    finite = np.isfinite(j)
    if int(finite.sum()) < 2:
        return {"infinite_size": math.nan, "slope": math.nan, "points": int(finite.sum())}
    slope, intercept = np.polyfit(1.0 / n[finite], j[finite], 1)
    return {"infinite_size": float(intercept), "slope": float(slope), "points": int(finite.sum())}
