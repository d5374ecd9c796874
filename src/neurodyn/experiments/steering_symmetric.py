"""Symmetric vs asymmetric couplings: fixed-point counts, dynamics and local entropy vs J_D.

The thesis's open question 1 (Scardecchia, arXiv 2510.11984, p. 100-102; issue 19 part 1):
does the phase transition of random asymmetric networks with self-coupling J_D (spec
``steering.md`` 6.3: dense clusters of fixed points above a critical J_D) persist when
J is symmetric? Both models side by side, on common random numbers (the symmetric
networks are the symmetrised draws of the asymmetric ones), with the stages of
:mod:`._fixed_point_stages`:

* **counts**: exact enumeration at small N, the mean number of fixed points next to the
  expectation of each model, 2^N Phi(J_D sqrt(N/(N-1)))^N (asymmetric, spec 6.2) and
  2^N E_z[Phi((J_D + z / sqrt N) / sqrt((N-2)/N))^N] (symmetric,
  :mod:`neurodyn.analysis.symmetric_fixed_points`);
* **dynamics**: random-order asynchronous sweeps from random starts. Symmetric dynamics
  at J_D >= 0 always converge (each flip lowers the energy -sum_{i<j} J_ij s_i s_j by
  more than 2 J_D), so the measures are the sweeps to converge and the stability margin
  min_i s_i h_i and energy per spin of the fixed points reached;
* **local entropy**: at small N, for a reference s* (the fixed point the dynamics reached
  from a random start, and a fixed point drawn uniformly from the enumeration), the
  number n_d of fixed points at Hamming distance d (:mod:`neurodyn.analysis.local_entropy`).
  Reported per (N, model, reference, J_D), over the instances whose reference exists,
  the log-average <ln(1 + n_d)> and the excess over uniformly placed fixed points

      c(d) = < ln[(1 + n_d) / (1 + binom(N, d) (F - 2) / (2^N - 2))] >,

  F the instance's number of fixed points (s* and -s* excluded from the background).
  c(d) < 0 at small d (no fixed points near s*) rising to 0 marks an isolated s*;
  c(d) > 0 decreasing to 0, a maximum at small d, marks s* inside a dense cluster. The
  J_D where c(1) crosses 0 upwards is reported per N, model and reference.

Focusing BP is not run: its cavity terms assume J_ij independent of J_ji
(:mod:`neurodyn.analysis.focusing_bp`); ``steering-phase-transition`` has it for the
asymmetric model. ``summary`` and ``plot`` (:mod:`._steering_symmetric_report`) read
result.json alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import gammaln
from tqdm.auto import tqdm

from neurodyn.analysis import fixed_points as fp
from neurodyn.analysis.asynchronous_dynamics import relax_asynchronous
from neurodyn.analysis.local_entropy import fixed_points_by_distance, uniform_fixed_points
from neurodyn.config import Config, option, to_dict
from neurodyn.experiments import Experiment, register
from neurodyn.experiments._fixed_point_stages import (
    couplings,
    dynamics,
    enumeration,
    finite,
    generator,
    stage_name,
)
from neurodyn.experiments._stages import Stages
from neurodyn.experiments._steering_symmetric_report import plot, summary
from neurodyn.runs import RunFolder

MODELS = ("asymmetric", "symmetric")
REFERENCES = ("dynamics", "typical")
PAPER = {
    "question": "does the dense-cluster phase transition vs J_D persist for symmetric J? "
    "(thesis open question 1, p. 100-102: 'still a work in progress')",
    "symmetric_entropy_at_zero": "0.1992 per spin (Tanaka and Edwards 1980, SK metastable "
    "states; the large-N limit of the symmetric expectation at J_D = 0)",
}


@dataclass(frozen=True)
class SymmetricConfig(Config):
    """Defaults: the protocol of the module docstring; an empty list of sizes skips its part."""

    sizes: tuple[int, ...] = option(
        (100, 200, 400, 800, 1600),
        "N values of the dynamics",
        minimum=2,
        unique=True,
        allow_empty=True,
    )
    self_couplings: tuple[float, ...] = option(
        tuple(round(0.05 * k, 2) for k in range(25)),
        "J_D grid (increasing, >= 0), shared by every part, model and size",
        minimum=0.0,
    )
    networks: int = option(20, "coupling matrices per N for the dynamics", minimum=1)
    initial_states: int = option(
        1, "random starting states per (network, J_D) for the dynamics", minimum=1
    )
    max_sweeps: int = option(
        1000, "asynchronous sweeps before a run counts as not converged", minimum=1
    )
    enumeration_sizes: tuple[int, ...] = option(
        (8, 12, 16, 20),
        "N values whose 2^N states are enumerated to count fixed points",
        minimum=3,
        maximum=fp.MAX_ENUMERATION_SIZE,
        unique=True,
        allow_empty=True,
    )
    enumeration_networks: int = option(500, "networks per enumerated N", minimum=2)
    local_entropy_sizes: tuple[int, ...] = option(
        (12, 16, 20),
        "N values of the local-entropy curves (enumerated)",
        minimum=3,
        maximum=fp.MAX_ENUMERATION_SIZE,
        unique=True,
        allow_empty=True,
    )
    local_entropy_networks: int = option(100, "networks per local-entropy N", minimum=1)
    seed: int = option(0, "master seed; every (N, purpose) draws its own stream from it", minimum=0)
    device: str = option("cpu", "torch device (cpu, cuda, ...)", device=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.self_couplings) < 2 or np.any(np.diff(self.self_couplings) <= 0):
            raise ValueError(
                f"config field 'self_couplings' must list at least two increasing values, "
                f"got {self.self_couplings}"
            )
        if not (self.sizes or self.enumeration_sizes or self.local_entropy_sizes):
            raise ValueError(
                "config fields 'sizes', 'enumeration_sizes' and 'local_entropy_sizes' are "
                "all empty: nothing to run"
            )


def _local_entropy(config: SymmetricConfig, size: int, stages: Stages, symmetric: bool) -> dict:
    """n_d around the reached and the typical fixed point of every (network, J_D)."""
    name = stage_name("local-entropy", size, symmetric)
    if not stages.done(name):
        weights = couplings(
            config,
            size,
            symmetric=symmetric,
            purpose="local-entropy",
            count=config.local_entropy_networks,
            dtype=torch.float64,
        )
        draws = generator(config, size, "local-entropy-draws")
        grid = torch.tensor(config.self_couplings, dtype=torch.float64)
        start = fp.random_spins(
            (weights.shape[0], grid.numel(), size), generator=draws, dtype=torch.float64
        )
        reached = relax_asynchronous(
            weights, grid, start.to(config.device), max_sweeps=config.max_sweeps, generator=draws
        )
        typical, found = uniform_fixed_points(weights, grid, generator=draws)
        references = torch.stack((reached.state, typical), 2)
        counts = fixed_points_by_distance(weights, grid, references)
        valid = torch.stack((reached.converged, found), 2)
        stages.save(name, done=True, counts=counts, valid=valid)
    return _curves(config, size, stages.tensor(name, "counts"), stages.tensor(name, "valid"))


def _curves(config: SymmetricConfig, size: int, counts: torch.Tensor, valid: torch.Tensor):
    """Log-averaged n_d and excess c(d) over the valid instances, per reference and J_D."""
    n = counts.double()  # (E, G, R, N + 1)
    total = n.sum(-1, keepdim=True)
    d = np.arange(size + 1)
    log_binomial = torch.as_tensor(gammaln(size + 1) - gammaln(d + 1) - gammaln(size - d + 1))
    background = log_binomial.exp() * (total - 2).clamp_min(0) / (2.0**size - 2)
    excess = torch.log1p(n) - torch.log1p(background)
    weight = valid.double()[..., None]
    used = valid.sum(0)  # (G, R)

    def average(values: torch.Tensor) -> torch.Tensor:
        return (values * weight).sum(0) / used[..., None].clamp_min(1)

    log_count, mean_excess = average(torch.log1p(n)), average(excess)
    spread = average((excess - mean_excess).square()) * used[..., None] / (used[..., None] - 1)
    error = (spread / used[..., None]).sqrt()  # standard error over instances (NaN for one)

    def kept(values: torch.Tensor, r: int) -> list:
        """Per J_D, the values of reference r where some instance has it, else None."""
        return [
            v if k else None
            for v, k in zip(values[:, r].tolist(), used[:, r].tolist(), strict=True)
        ]

    result = {"size": size}
    for r, reference in enumerate(REFERENCES):
        nearest = kept(mean_excess[..., 1], r)
        result[reference] = {
            "instances": used[:, r].tolist(),
            "log_count": kept(log_count, r),
            "excess": kept(mean_excess, r),
            "nearest_excess": nearest,
            "nearest_excess_error": [finite(v) for v in kept(error[..., 1], r)],
            "cluster_threshold": _crossing(config.self_couplings, nearest),
        }
    return result


def _crossing(grid, values) -> float | None:
    """J_D where c(1) crosses 0 upwards, on the J_D values where it is defined."""
    kept = [(j, v) for j, v in zip(grid, values, strict=True) if v is not None]
    if len(kept) < 2:
        return None
    x, y = zip(*kept, strict=True)
    return finite(fp.crossing_point(x, y, level=0.0))


def run(config: SymmetricConfig, folder: RunFolder, progress: bool = True) -> dict:
    """Per model: enumeration counts, dynamics per N, local entropy per N; the result so far
    is written after each stage."""
    stages = Stages(folder)
    parts = {model: {"dynamics": [], "enumeration": [], "local_entropy": []} for model in MODELS}
    steps = [
        (model, part, size)
        for part, sizes in (
            ("enumeration", config.enumeration_sizes),
            ("dynamics", config.sizes),
            ("local_entropy", config.local_entropy_sizes),
        )
        for size in sizes
        for model in MODELS
    ]
    for model, part, size in tqdm(steps, disable=not progress, unit="stage"):
        symmetric = model == "symmetric"
        if part == "enumeration":
            row = enumeration(config, size, stages, symmetric)
        elif part == "dynamics":
            row = {"size": size} | dynamics(config, size, stages, progress, symmetric)
        else:
            row = _local_entropy(config, size, stages, symmetric)
        parts[model][part].append(row)
        result = summarise(config, parts)
        folder.write_result(result)
    return result


def summarise(config: SymmetricConfig, parts: dict) -> dict:
    """Headline numbers: largest |z| of each model's counts against its expectation, and
    the J_D above which reached / typical fixed points have an excess of neighbours."""

    def largest_z(model: str) -> float | None:
        rows = parts[model]["enumeration"]
        z = [
            abs(m - e) / s
            for row in rows
            for m, e, s in zip(
                row["mean_count"], row["expected"], row["standard_error"], strict=True
            )
            if s > 0
        ]
        return max(z, default=None)

    return {
        "experiment": "steering-symmetric",
        "config": to_dict(config),
        "self_couplings": list(config.self_couplings),
        "models": parts,
        "enumeration_max_abs_z": {model: largest_z(model) for model in MODELS},
        "cluster_threshold": {
            model: {
                reference: {str(row["size"]): row[reference]["cluster_threshold"] for row in rows}
                for reference in REFERENCES
            }
            for model, rows in ((m, parts[m]["local_entropy"]) for m in MODELS)
        },
        "paper": PAPER,
    }


def quick() -> SymmetricConfig:
    """About a minute on one thread: dynamics N <= 400, counts N <= 12, local entropy N <= 16."""
    return SymmetricConfig(
        sizes=(100, 200, 400),
        self_couplings=tuple(round(0.1 * k, 1) for k in range(13)),
        networks=8,
        initial_states=2,
        max_sweeps=200,
        enumeration_sizes=(8, 12),
        enumeration_networks=400,
        local_entropy_sizes=(12, 16),
        local_entropy_networks=40,
    )


def tiny() -> SymmetricConfig:
    """Seconds: dynamics N = 30, J_D in {0, 0.5, 1}, counts N = 6, local entropy N = 8."""
    return SymmetricConfig(
        sizes=(30,),
        self_couplings=(0.0, 0.5, 1.0),
        networks=3,
        max_sweeps=30,
        enumeration_sizes=(6,),
        enumeration_networks=20,
        local_entropy_sizes=(8,),
        local_entropy_networks=4,
    )


register(
    Experiment(
        "steering-symmetric",
        "Symmetric vs asymmetric couplings: fixed-point counts, dynamics, local entropy vs J_D",
        SymmetricConfig,
        run,
        summary,
        plot=plot,
        tiny=tiny,
        quick=quick,
    )
)
