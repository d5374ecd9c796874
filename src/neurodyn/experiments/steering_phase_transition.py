"""Fixed points of random asymmetric networks vs self-coupling: accessibility and counts.

Thesis (Scardecchia, arXiv 2510.11984) chapter 3: fixed points of random asymmetric
binary networks with self-coupling J_D become accessible to the simple asynchronous
dynamics and to focusing BP only above algorithm- and size-dependent thresholds J_a(N).
Protocol of spec ``steering.md`` section 6.3 (a proposal: the thesis's own numbers were
not available):

* **dynamics**: for every N, ``networks`` coupling matrices J_ij ~ N(0, 1/N) shared by
  the whole J_D grid (common random couplings), ``initial_states`` random starts per
  (network, J_D), random-order asynchronous sweeps until a sweep without flips or
  ``max_sweeps`` (:mod:`neurodyn.analysis.asynchronous_dynamics`). Reported: the
  convergence probability, the (lower) median number of sweeps (non-converged runs count
  as infinite, so it exists where the probability is >= 1/2) and J_a(N), the J_D where the
  probability crosses 1/2, extrapolated linearly in 1/N; over the converged runs, the
  median stability margin and energy per spin of the fixed points reached.
* **focusing BP** (spec 6.5, :mod:`neurodyn.analysis.focusing_bp`) on the same networks,
  one run per (network, J_D): the probability of returning a verified fixed point, and
  its 1/2 crossing.
* **enumeration**: all 2^N states of ``enumeration_networks`` networks at small N; the
  mean number of fixed points next to E[#FP] = 2^N Phi(J_D sqrt(N/(N-1)))^N and its
  large-N form (2 Phi(J_D))^N (spec 6.2).

The stages live in :mod:`._fixed_point_stages`, shared with ``steering-symmetric``.
``run`` rewrites ``result.json`` and ``metrics.csv`` (one row per (N, J_D)) after every size
and every enumeration, so that a half-finished run can be drawn; ``summary`` and ``plot``
(:mod:`._steering_phase_report`) read result.json alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from neurodyn.analysis import fixed_points as fp
from neurodyn.analysis.focusing_bp import FocusingBPSettings
from neurodyn.analysis.threshold_fits import threshold_fits
from neurodyn.config import Config, option, to_dict
from neurodyn.experiments import Experiment, register
from neurodyn.experiments._fixed_point_stages import dynamics, enumeration, finite, focusing
from neurodyn.experiments._stages import Stages
from neurodyn.experiments._steering_phase_report import plot, summary
from neurodyn.runs import RunFolder

PAPER = {
    "expected_fixed_points": "(2 Phi(J_D))^N (spec 6.2: own derivation, very likely the "
    "thesis's closed form)",
    "entropy_per_spin": {"0.3": 0.212, "0.5": 0.324, "1": 0.520},  # Sigma(J_D), spec 6.2
    "threshold": "size-dependent J_a(N) above which the asynchronous dynamics finds fixed "
    "points; grows with N (thesis abstract); numerical values not available",
    "learning_setting": "the steering learner runs at J_D = 0.5, H = 1600 (spec 6.3)",
}


@dataclass(frozen=True)
class PhaseTransitionConfig(Config):
    """Defaults: the protocol of the module docstring (spec 6.3); an empty list of sizes
    skips its part (dynamics, focusing BP or enumeration)."""

    sizes: tuple[int, ...] = option(
        (100, 200, 400, 800, 1600, 3200),
        "N values of the dynamics",
        minimum=2,
        unique=True,
        allow_empty=True,
    )
    self_couplings: tuple[float, ...] = option(
        tuple(round(0.05 * k, 2) for k in range(25)),
        "J_D grid (increasing), shared by every algorithm and size",
        unbounded=True,
    )
    networks: int = option(
        20,
        "coupling matrices J_ij ~ N(0, 1/N) per N, shared by the J_D grid and focusing BP",
        minimum=1,
    )
    initial_states: int = option(
        1, "random starting states per (network, J_D) for the dynamics", minimum=1
    )
    max_sweeps: int = option(
        1000, "asynchronous sweeps before a run counts as not converged", minimum=1
    )
    bp_sizes: tuple[int, ...] = option(
        (100, 200, 400, 800), "N values of focusing BP", minimum=2, unique=True, allow_empty=True
    )
    bp_replicas: float = option(8.0, "y, replicas of focusing BP (>= 1)", minimum=1.0)
    bp_coupling_step: float = option(
        0.01, "gamma_step, growth per iteration of the focusing coupling gamma", minimum=0.0
    )
    bp_damping: float = option(
        0.5, "d in H <- d H_old + (1 - d) H_new, in [0, 1)", minimum=0.0, below=1.0
    )
    bp_max_iterations: int = option(400, "focusing-BP iterations allowed per instance", minimum=1)
    enumeration_sizes: tuple[int, ...] = option(
        (8, 12, 16, 20),
        "N values whose 2^N states are enumerated to count fixed points",
        minimum=2,
        maximum=fp.MAX_ENUMERATION_SIZE,
        unique=True,
        allow_empty=True,
    )
    enumeration_networks: int = option(500, "networks per enumerated N", minimum=1)
    seed: int = option(0, "master seed; every (N, purpose) draws its own stream from it", minimum=0)
    device: str = option("cpu", "torch device (cpu, cuda, ...)", device=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.self_couplings) < 2 or np.any(np.diff(self.self_couplings) <= 0):
            raise ValueError(
                f"config field 'self_couplings' must list at least two increasing values, "
                f"got {self.self_couplings}"
            )
        if not (self.sizes or self.bp_sizes or self.enumeration_sizes):
            raise ValueError(
                "config fields 'sizes', 'bp_sizes' and 'enumeration_sizes' are all empty: "
                "nothing to run"
            )

    def bp_settings(self) -> FocusingBPSettings:
        return FocusingBPSettings(
            replicas=self.bp_replicas,
            coupling_step=self.bp_coupling_step,
            damping=self.bp_damping,
            max_iterations=self.bp_max_iterations,
        )


def run(config: PhaseTransitionConfig, folder: RunFolder, progress: bool = True) -> dict:
    """Dynamics and focusing BP per size, then the enumerations; the result so far is
    written after each of them."""
    stages = Stages(folder)
    sizes = sorted(set(config.sizes) | set(config.bp_sizes))
    per_size, counts = [], []
    for size in tqdm(sizes, disable=not progress, unit="size", desc="sizes"):
        row = {"size": size}
        if size in config.sizes:
            row["dynamics"] = dynamics(config, size, stages, progress)
        if size in config.bp_sizes:
            row["focusing_bp"] = focusing(config, size, stages, progress)
        per_size.append(row)
        _write(config, folder, per_size, counts)
    for size in config.enumeration_sizes:
        counts.append(enumeration(config, size, stages))
        _write(config, folder, per_size, counts)
    return _write(config, folder, per_size, counts)


def _write(
    config: PhaseTransitionConfig, folder: RunFolder, per_size: list, enumeration: list
) -> dict:
    """metrics.csv and result.json from the finished stages; returns the result."""
    folder.write_metrics(_metric_rows(config, per_size))
    result = summarise(config, per_size, enumeration)
    folder.write_result(result)
    return result


def _metric_rows(config: PhaseTransitionConfig, per_size: list[dict]) -> list[dict]:
    """metrics.csv: one row per (N, J_D); empty cells where an algorithm was not run."""
    series = {
        "convergence_probability": ("dynamics", "convergence_probability"),
        "median_sweeps": ("dynamics", "median_sweeps"),
        "bp_success_probability": ("focusing_bp", "success_probability"),
    }
    return [
        {"size": row["size"], "self_coupling": coupling}
        | {
            column: row[part][key][k] if part in row else None
            for column, (part, key) in series.items()
        }
        for row in per_size
        for k, coupling in enumerate(config.self_couplings)
    ]


def summarise(config: PhaseTransitionConfig, per_size: list[dict], enumeration: list) -> dict:
    """Headline numbers: thresholds and their extrapolation, enumeration vs theory."""
    rows = [r for r in per_size if "dynamics" in r]
    dynamics = [(r["size"], r["dynamics"]["threshold"]) for r in rows]
    focusing = [(r["size"], r["focusing_bp"]["threshold"]) for r in per_size if "focusing_bp" in r]

    def extrapolation(points):
        if not points:
            return None
        sizes, thresholds = zip(*points, strict=True)
        fit = fp.extrapolate_threshold(sizes, [math.nan if t is None else t for t in thresholds])
        return fit | {k: finite(fit[k]) for k in ("infinite_size", "slope")}

    deviations = [
        (m - e) / s
        for row in enumeration
        for m, e, s in zip(row["mean_count"], row["expected"], row["standard_error"], strict=True)
        if s > 0
    ]
    largest = max(enumeration, key=lambda r: r["size"]) if enumeration else None
    entropy = None
    if largest is not None:
        entropy = {
            f"{j:g}": {
                "measured": finite(math.log(m) / largest["size"]) if m > 0 else None,
                "finite_size_theory": math.log(e) / largest["size"],
                "large_size_theory": float(fp.fixed_point_entropy(j)),
            }
            for j, m, e in zip(
                config.self_couplings, largest["mean_count"], largest["expected"], strict=True
            )
            if f"{j:g}" in PAPER["entropy_per_spin"]
        }
    learning = config.self_couplings.index(0.5) if 0.5 in config.self_couplings else None
    return {
        "experiment": "steering-phase-transition",
        "config": to_dict(config),
        "self_couplings": list(config.self_couplings),
        "per_size": per_size,
        "dynamics_threshold": {str(n): t for n, t in dynamics},
        "convergence_probability_at_learning_self_coupling": None
        if learning is None
        else {
            str(r["size"]): r["dynamics"]["convergence_probability"][learning]
            for r in per_size
            if "dynamics" in r
        },
        "dynamics_threshold_extrapolation": extrapolation(dynamics),
        "dynamics_threshold_fits": threshold_fits(
            [r["size"] for r in rows],
            *([_number(r["dynamics"][k]) for r in rows] for k in ("threshold", "threshold_error")),
        ),
        "focusing_bp_threshold": {str(n): t for n, t in focusing},
        "focusing_bp_threshold_extrapolation": extrapolation(focusing),
        "enumeration": enumeration,
        "enumeration_max_abs_z": max((abs(z) for z in deviations), default=None),
        "entropy_per_spin": entropy,
        "paper": PAPER,
    }


def _number(value: float | None) -> float:
    return math.nan if value is None else value


def quick() -> PhaseTransitionConfig:
    """Well under a minute: N <= 400, a coarser J_D grid, 8 networks x 2 starts, 200 sweeps."""
    return PhaseTransitionConfig(
        sizes=(100, 200, 400),
        self_couplings=tuple(round(0.1 * k, 1) for k in range(13)),
        networks=8,
        initial_states=2,
        max_sweeps=200,
        bp_sizes=(100, 200),
        bp_max_iterations=300,
        enumeration_sizes=(8, 12),
        enumeration_networks=400,
    )


def tiny() -> PhaseTransitionConfig:
    """Seconds: N in {30, 60}, J_D in {0.2, 0.6, 1}, 3 networks, BP at N = 30, N = 6 counts."""
    return PhaseTransitionConfig(
        sizes=(30, 60),
        self_couplings=(0.2, 0.6, 1.0),
        networks=3,
        max_sweeps=30,
        bp_sizes=(30,),
        bp_max_iterations=50,
        enumeration_sizes=(6,),
        enumeration_networks=20,
    )


register(
    Experiment(
        "steering-phase-transition",
        "Fixed points of random asymmetric nets vs self-coupling: dynamics, focusing BP, counts",
        PhaseTransitionConfig,
        run,
        summary,
        plot=plot,
        tiny=tiny,
        quick=quick,
    )
)
