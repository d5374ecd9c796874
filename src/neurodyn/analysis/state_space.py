"""Trajectories and fixed points in the leading principal components of the hidden states.

The workflow of Sussillo & Barak 2013 (Neural Computation 25, figures 2-6) and Yang & Wang
2020 (Neuron 107, "Artificial neural networks for neuroscientists", section 6): fit a PCA
to the hidden states h_t of a batch of trials, per member, and draw the trials'
trajectories, coloured by their condition, with the fixed points of
:func:`~neurodyn.analysis.slow_points.find_fixed_points` projected into the same plane:
stable points filled, saddles open with their leading unstable direction drawn through
them, unstable points as crosses, slow points as small grey dots. PCA is scikit-learn's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from neurodyn.analysis.slow_points import FixedPoints
from neurodyn.checks import check_real, check_tensor, describe
from neurodyn.tasks._base import TrialBatch


def _pca(**options):
    """scikit-learn's PCA, imported when used: importing scikit-learn sets environment
    variables (KMP_DUPLICATE_LIB_OK, KMP_INIT_AT_FORK), which importing neurodyn must not."""
    from sklearn.decomposition import PCA

    return PCA(**options)


def trial_conditions(batch: TrialBatch) -> torch.Tensor:
    """The condition of each trial (..., B): its target at the last step for class targets
    (..., B, T) (the decision of 2AF and DMS); for real targets (..., B, T, O) the code
    sum_o [y_o > 0] 2^o of the last step with a nonzero target (Romo: the channel of the
    larger stimulus, 1 or 2; the 3-bit flip-flop: its 8 held patterns, 0 ... 7)."""
    targets = batch.targets
    if not targets.dtype.is_floating_point:
        return targets[..., -1]
    active = (targets != 0).any(-1)  # (..., B, T)
    steps = torch.arange(targets.shape[-2], device=targets.device)
    last = torch.where(active, steps, -1).amax(-1).clamp_min(0)
    pattern = targets.gather(-2, last[..., None, None].expand(*last.shape, 1, targets.shape[-1]))
    powers = 2 ** torch.arange(targets.shape[-1], device=targets.device)
    return ((pattern[..., 0, :] > 0).long() * powers).sum(-1)


@dataclass(frozen=True)
class StatePlanes:
    """Per member, everything in its own plane of the two leading principal components.

    Attributes:
        trajectories: (E, B, T, 2) the trials' hidden states.
        points: (E, P, 2) the fixed and slow points (NaN padding as in FixedPoints).
        directions: (E, P, 2) each saddle's unit unstable direction projected (its
            length, at most 1, is the part of it that lies in the plane); NaN elsewhere.
        explained: (E, 2) the fraction of the states' variance each component explains.
    """

    trajectories: torch.Tensor
    points: torch.Tensor
    directions: torch.Tensor
    explained: torch.Tensor


def state_planes(hidden: torch.Tensor, found: FixedPoints) -> StatePlanes:
    """Fit, per member, a 2-component PCA to its hidden states ``hidden`` (E, B, T, N)
    (all trials and steps) and project them and ``found``'s points and directions; a
    member whose states do not vary (a diverged member set to 0) gets NaN."""
    check_tensor("hidden", hidden, (None, None, None, found.points.shape[-1]), axes="(E, B, T, N)")
    if hidden.shape[0] != found.points.shape[0]:
        raise ValueError(f"hidden has {hidden.shape[0]} members, found {found.points.shape[0]}")
    trajectories, points, directions, explained = [], [], [], []
    for e, states in enumerate(hidden.detach().cpu().double().numpy()):
        states = states.reshape(-1, states.shape[-1])
        member = found.points[e].detach().cpu().double().numpy()
        unstable = found.unstable_directions[e].detach().cpu().double().numpy()
        if not np.ptp(states, axis=0).any():  # no plane to fit: NaN
            states, member, unstable = (np.full_like(a, np.nan) for a in (states, member, unstable))
            pca = None
        else:
            pca = _pca(n_components=2).fit(states)
        trajectories.append(pca.transform(states) if pca else states[:, :2])
        real = ~np.isnan(member).any(-1)
        projected = np.full((len(member), 2), np.nan)
        if real.any():
            projected[real] = pca.transform(member[real])
        points.append(projected)
        directions.append(unstable @ pca.components_.T if pca else unstable[:, :2])
        explained.append(pca.explained_variance_ratio_ if pca else np.full(2, np.nan))

    def stack(arrays, *shape):
        return torch.from_numpy(np.stack(arrays)).reshape(len(arrays), *shape).float()

    E, B, T, _ = hidden.shape
    P = found.points.shape[1]
    return StatePlanes(
        stack(trajectories, B, T, 2),
        stack(points, P, 2),
        stack(directions, P, 2),
        stack(explained, 2),
    )


def slow_dimension(found: FixedPoints, variance: float = 0.9) -> torch.Tensor:
    """(E,): per member, the number of principal components that explain ``variance`` of
    the spread of its points (the dimension of its slow manifold when ``found`` holds the
    slow points); 0 for a member with fewer than two points."""
    variance = check_real("variance", variance)
    if not 0 < variance <= 1:
        raise ValueError(f"variance must lie in (0, 1], got {variance}")
    dimensions = []
    for points, count in zip(found.points, found.count.tolist(), strict=True):
        if count < 2:
            dimensions.append(0)
            continue
        pca = _pca().fit(points[:count].detach().cpu().double().numpy())
        reached = np.cumsum(pca.explained_variance_ratio_) >= variance - 1e-12
        dimensions.append(int(np.argmax(reached)) + 1)
    return torch.tensor(dimensions)


def draw_state_plane(
    ax,
    trajectories: torch.Tensor,
    conditions: torch.Tensor,
    points: torch.Tensor,
    modes: torch.Tensor,
    fixed: torch.Tensor,
    directions: torch.Tensor,
    *,
    size: int,
) -> None:
    """One member's plane: ``trajectories`` (B, T, 2) coloured by ``conditions`` (B,),
    its ``points`` (P, 2) with their unstable ``modes`` (P,) among N = ``size``, ``fixed``
    (P,) True for fixed points (False: slow points, small grey dots), and the saddles'
    projected unstable ``directions`` (P, 2), drawn as segments of a tenth of the
    trajectories' extent times their projected length."""
    for name, value in (("trajectories", trajectories), ("points", points)):
        if not isinstance(value, torch.Tensor) or value.shape[-1] != 2:
            raise ValueError(f"{name} must be a tensor (..., 2), got {describe(value)}")
    colours = {c: f"C{i % 10}" for i, c in enumerate(sorted(set(conditions.tolist())))}
    for trial, condition in zip(trajectories, conditions.tolist(), strict=True):
        ax.plot(trial[:, 0], trial[:, 1], color=colours[condition], lw=0.7, alpha=0.6)
        ax.plot(trial[-1:, 0], trial[-1:, 1], "o", color=colours[condition], ms=2)
    real = ~points.isnan().any(-1)
    slow = real & ~fixed
    ax.plot(*points[slow].T, ".", color="0.6", ms=2, label="slow point")
    extent = float((trajectories.amax((0, 1)) - trajectories.amin((0, 1))).max()) / 10
    stable, unstable = fixed & (modes == 0), fixed & (modes == size)
    saddle = fixed & (modes > 0) & (modes < size)
    for p, d in zip(points[saddle], directions[saddle], strict=True):
        ends = torch.stack([p - extent * d, p + extent * d])
        ax.plot(ends[:, 0], ends[:, 1], color="C3", lw=1.2)
    ax.plot(*points[stable].T, "o", color="k", ms=6, label="stable")
    ax.plot(*points[saddle].T, "o", mfc="white", mec="C3", ms=6, label="saddle")
    ax.plot(*points[unstable].T, "x", color="C3", ms=6, label="unstable")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
