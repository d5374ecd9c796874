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
  probability crosses 1/2, extrapolated linearly in 1/N.
* **focusing BP** (spec 6.5, :mod:`neurodyn.analysis.focusing_bp`) on the same networks,
  one run per (network, J_D): the probability of returning a verified fixed point, and
  its 1/2 crossing.
* **enumeration**: all 2^N states of ``enumeration_networks`` networks at small N; the
  mean number of fixed points next to E[#FP] = 2^N Phi(J_D sqrt(N/(N-1)))^N and its
  large-N form (2 Phi(J_D))^N (spec 6.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from neurodyn.analysis import fixed_points as fp
from neurodyn.analysis.asynchronous_dynamics import relax_asynchronous
from neurodyn.analysis.focusing_bp import FocusingBPSettings, focusing_bp
from neurodyn.checks import check_positive_int
from neurodyn.config import to_dict
from neurodyn.experiments import Experiment, register
from neurodyn.experiments._stages import Stages
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
class PhaseTransitionConfig:
    sizes: tuple[int, ...] = (100, 200, 400, 800, 1600, 3200)
    self_couplings: tuple[float, ...] = tuple(round(0.05 * k, 2) for k in range(25))
    networks: int = 20
    initial_states: int = 1
    max_sweeps: int = 1000
    bp_sizes: tuple[int, ...] = (100, 200, 400, 800)
    bp_replicas: float = 8.0
    bp_coupling_step: float = 0.01
    bp_damping: float = 0.5
    bp_max_iterations: int = 400
    enumeration_sizes: tuple[int, ...] = (8, 12, 16, 20)
    enumeration_networks: int = 500
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        for name in ("networks", "initial_states", "max_sweeps", "enumeration_networks"):
            check_positive_int(name, getattr(self, name))
        for name in ("sizes", "bp_sizes", "enumeration_sizes"):
            for size in getattr(self, name):
                check_positive_int(f"{name} entries", size, minimum=2)
        if max(self.enumeration_sizes, default=0) > fp.MAX_ENUMERATION_SIZE:
            raise ValueError(f"enumeration_sizes must be <= {fp.MAX_ENUMERATION_SIZE}")
        grid = np.asarray(self.self_couplings, dtype=float)
        if grid.size < 2 or np.any(np.diff(grid) <= 0) or not np.all(np.isfinite(grid)):
            raise ValueError("self_couplings must list at least two increasing finite values")
        self.bp_settings()  # validates the BP fields

    def bp_settings(self) -> FocusingBPSettings:
        return FocusingBPSettings(
            replicas=self.bp_replicas,
            coupling_step=self.bp_coupling_step,
            damping=self.bp_damping,
            max_iterations=self.bp_max_iterations,
        )


PURPOSES = ("couplings", "dynamics", "focusing-bp", "enumeration")


def _generator(config: PhaseTransitionConfig, size: int, purpose: str) -> torch.Generator:
    """An independent stream per (seed, size, purpose); dynamics and BP share the couplings."""
    state = np.random.SeedSequence([config.seed, size, PURPOSES.index(purpose)])
    return torch.Generator().manual_seed(int(state.generate_state(1, np.uint64)[0]))


def _couplings(config: PhaseTransitionConfig, size: int) -> torch.Tensor:
    return fp.random_couplings(
        size,
        ensemble_size=config.networks,
        generator=_generator(config, size, "couplings"),
        device=config.device,
    )


def _dynamics(config: PhaseTransitionConfig, size: int, stages: Stages, progress: bool) -> dict:
    name = f"dynamics-{size}"
    if not stages.done(name):
        generator = _generator(config, size, "dynamics")
        grid = torch.tensor(config.self_couplings).repeat_interleave(config.initial_states)
        start = fp.random_spins(
            (config.networks, grid.numel(), size), generator=generator, device=config.device
        )
        relaxation = relax_asynchronous(
            _couplings(config, size),
            grid,
            start,
            max_sweeps=config.max_sweeps,
            generator=generator,
            progress=progress,
        )
        stages.save(name, done=True, converged=relaxation.converged, sweeps=relaxation.sweeps)
    converged, sweeps = (
        _per_self_coupling(config, stages.tensor(name, key)) for key in ("converged", "sweeps")
    )
    censored = torch.where(converged, sweeps.double(), math.inf)  # lower median below
    probability = converged.double().mean(1).tolist()
    return {
        "convergence_probability": probability,
        "median_sweeps": [_finite(v) for v in censored.median(1).values.tolist()],
        "threshold": _finite(fp.crossing_point(config.self_couplings, probability)),
    }


def _per_self_coupling(config: PhaseTransitionConfig, values: torch.Tensor) -> torch.Tensor:
    """(E, G R) instance values -> (G, E R): one row per J_D of the grid."""
    grid = len(config.self_couplings)
    return values.view(config.networks, grid, -1).transpose(0, 1).reshape(grid, -1)


def _focusing(config: PhaseTransitionConfig, size: int, stages: Stages, progress: bool) -> dict:
    name = f"focusing-bp-{size}"
    if not stages.done(name):
        result = focusing_bp(
            _couplings(config, size),
            torch.tensor(config.self_couplings),
            settings=config.bp_settings(),
            generator=_generator(config, size, "focusing-bp"),
            progress=progress,
        )
        stages.save(name, done=True, success=result.success, iterations=result.iterations)
    probability = stages.tensor(name, "success").double().mean(0).tolist()
    return {
        "success_probability": probability,
        "threshold": _finite(fp.crossing_point(config.self_couplings, probability)),
    }


def _enumeration(config: PhaseTransitionConfig, size: int, stages: Stages) -> dict:
    name = f"enumeration-{size}"
    if not stages.done(name):
        couplings = fp.random_couplings(
            size,
            ensemble_size=config.enumeration_networks,
            generator=_generator(config, size, "enumeration"),
            dtype=torch.float64,
            device=config.device,
        )
        counts = fp.count_fixed_points(couplings, torch.tensor(config.self_couplings))
        stages.save(name, done=True, counts=counts)
    counts = stages.tensor(name, "counts").double()
    grid = np.asarray(config.self_couplings)
    return {
        "size": size,
        "mean_count": counts.mean(0).tolist(),
        "standard_error": (counts.std(0) / math.sqrt(counts.shape[0])).tolist(),
        "expected": fp.expected_fixed_points(size, grid).tolist(),
        "large_size_expected": np.exp(size * fp.fixed_point_entropy(grid)).tolist(),
    }


def run(config: PhaseTransitionConfig, folder: RunFolder, progress: bool = True) -> dict:
    stages = Stages(folder)
    sizes = sorted(set(config.sizes) | set(config.bp_sizes))
    per_size = []
    for size in tqdm(sizes, disable=not progress, unit="size", desc="sizes"):
        row = {"size": size}
        if size in config.sizes:
            row["dynamics"] = _dynamics(config, size, stages, progress)
        if size in config.bp_sizes:
            row["focusing_bp"] = _focusing(config, size, stages, progress)
        per_size.append(row)
    folder.write_metrics(_metric_rows(config, per_size))
    enumeration = [_enumeration(config, size, stages) for size in config.enumeration_sizes]
    result = summarise(config, per_size, enumeration)
    folder.write_result(result)
    plot(result, folder)
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
    dynamics = [(r["size"], r["dynamics"]["threshold"]) for r in per_size if "dynamics" in r]
    focusing = [(r["size"], r["focusing_bp"]["threshold"]) for r in per_size if "focusing_bp" in r]

    def extrapolation(points):
        if not points:
            return None
        sizes, thresholds = zip(*points, strict=True)
        fit = fp.extrapolate_threshold(sizes, [math.nan if t is None else t for t in thresholds])
        return fit | {k: _finite(fit[k]) for k in ("infinite_size", "slope")}

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
                "measured": _finite(math.log(m) / largest["size"]) if m > 0 else None,
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
        "focusing_bp_threshold": {str(n): t for n, t in focusing},
        "focusing_bp_threshold_extrapolation": extrapolation(focusing),
        "enumeration": enumeration,
        "enumeration_max_abs_z": max((abs(z) for z in deviations), default=None),
        "entropy_per_spin": entropy,
        "paper": PAPER,
    }


def _finite(value: float) -> float | None:
    """JSON-friendly: NaN and infinities (undefined thresholds and medians) become None."""
    return float(value) if value is not None and math.isfinite(value) else None


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def summary(result: dict) -> str:
    lines = [f"{'N':>6}{'J_a(N) dynamics':>18}{'J(N) focusing BP':>19}"]
    for row in result["per_size"]:
        lines.append(
            f"{row['size']:>6}{_fmt(row.get('dynamics', {}).get('threshold')):>18}"
            f"{_fmt(row.get('focusing_bp', {}).get('threshold')):>19}"
        )
    for key, label in (
        ("dynamics_threshold_extrapolation", "dynamics"),
        ("focusing_bp_threshold_extrapolation", "focusing BP"),
    ):
        fit = result[key]
        if fit and fit["infinite_size"] is not None:
            lines.append(
                f"{label}: J(N) = {fit['infinite_size']:.3f} {fit['slope']:+.1f} / N "
                f"({fit['points']} sizes)  [thesis: size-dependent, values not available]"
            )
        elif fit:
            lines.append(f"{label}: fewer than two sizes with a threshold, no extrapolation")
    learning = result["convergence_probability_at_learning_self_coupling"]
    if learning:
        shown = ", ".join(f"N={n}: {p:.2f}" for n, p in learning.items())
        lines.append(f"convergence probability at J_D = 0.5 (the learner's value): {shown}")
    for row in result["enumeration"]:
        shown = [
            f"J_D={j:g}: {m:.2f}+-{s:.2f} vs {e:.2f} ((2Phi)^N {a:.2f})"
            for j, m, s, e, a in zip(
                result["self_couplings"],
                row["mean_count"],
                row["standard_error"],
                row["expected"],
                row["large_size_expected"],
                strict=True,
            )
        ][:: max(1, len(result["self_couplings"]) // 4)]
        lines.append(f"#FP N={row['size']}: " + "; ".join(shown))
    if result["enumeration_max_abs_z"] is not None:
        lines.append(
            f"largest |mean - expected| / standard error: {result['enumeration_max_abs_z']:.2f}"
        )
    for j, values in (result["entropy_per_spin"] or {}).items():
        lines.append(
            f"entropy per spin at J_D={j}: measured {_fmt(values['measured'])}, finite-N theory "
            f"{values['finite_size_theory']:.3f}, Sigma(J_D) = {values['large_size_theory']:.3f}"
        )
    return "\n".join(lines)


def plot(result: dict, folder: RunFolder) -> None:
    grid = np.asarray(result["self_couplings"])
    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ax = axes[0, 0]
    for color, row in zip(colors * 3, result["per_size"], strict=False):
        if "dynamics" in row:
            ax.plot(
                grid,
                row["dynamics"]["convergence_probability"],
                "o-",
                ms=3,
                color=color,
                label=f"dynamics N={row['size']}",
            )
        if "focusing_bp" in row:
            ax.plot(
                grid,
                row["focusing_bp"]["success_probability"],
                "s--",
                ms=3,
                color=color,
                label=f"focusing BP N={row['size']}",
            )
    ax.axhline(0.5, color="grey", linewidth=0.5)
    ax.set_xlabel("self-coupling $J_D$")
    ax.set_ylabel("probability of reaching a fixed point")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[0, 1]
    for color, row in zip(colors * 3, result["per_size"], strict=False):
        if "dynamics" in row:
            medians = [np.nan if v is None else v for v in row["dynamics"]["median_sweeps"]]
            ax.semilogy(grid, medians, "o-", ms=3, color=color, label=f"N={row['size']}")
    ax.set_xlabel("self-coupling $J_D$")
    ax.set_ylabel("median sweeps to convergence")
    ax.legend(fontsize=7)
    ax = axes[1, 0]
    for key, fit_key, marker, label in (
        ("dynamics_threshold", "dynamics_threshold_extrapolation", "o", "dynamics $J_a(N)$"),
        ("focusing_bp_threshold", "focusing_bp_threshold_extrapolation", "s", "focusing BP"),
    ):
        points = [(1 / int(n), t) for n, t in result[key].items() if t is not None]
        if not points:
            continue
        inverse, values = zip(*points, strict=True)
        line = ax.plot(inverse, values, marker, label=label)[0]
        fit = result[fit_key]
        if fit and fit["infinite_size"] is not None:
            x = np.linspace(0, max(inverse), 50)
            ax.plot(
                x,
                fit["infinite_size"] + fit["slope"] * x,
                "--",
                color=line.get_color(),
                label=f"fit: {fit['infinite_size']:.3f} {fit['slope']:+.1f}/N",
            )
    ax.set_xlim(left=0)
    ax.set_xlabel("1 / N")
    ax.set_ylabel("threshold (probability 1/2)")
    ax.legend(fontsize=7)
    ax = axes[1, 1]
    for color, row in zip(colors, result["enumeration"], strict=False):
        ax.errorbar(
            grid,
            row["mean_count"],
            yerr=row["standard_error"],
            fmt="o",
            ms=3,
            color=color,
            capsize=2,
            label=f"enumeration N={row['size']}",
        )
        ax.plot(grid, row["expected"], "-", color=color, linewidth=1)
        ax.plot(grid, row["large_size_expected"], ":", color=color, linewidth=1)
    ax.set_yscale("log")
    ax.set_xlabel("self-coupling $J_D$")
    ax.set_ylabel("mean number of fixed points")
    ax.set_title(r"solid: $2^N\Phi(J_D\sqrt{N/(N-1)})^N$, dotted: $(2\Phi(J_D))^N$", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    folder.save_figure(fig, "phase_transition.png")
    plt.close(fig)


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


register(
    Experiment(
        "steering-phase-transition",
        "Fixed points of random asymmetric nets vs self-coupling: dynamics, focusing BP, counts",
        PhaseTransitionConfig,
        run,
        summary,
        quick,
    )
)
