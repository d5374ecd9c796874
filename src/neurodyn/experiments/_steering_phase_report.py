"""Summary and figure of ``steering-phase-transition`` (Scardecchia 2025, arXiv 2510.11984,
chapter 3), from the run folder's ``result.json`` alone.

:func:`summary` prints the thresholds J_a(N) per size and their extrapolation in 1/N, the
convergence probability at the learner's J_D = 0.5, the enumerated fixed-point counts next
to the closed form and the entropy per spin. :func:`plot` draws a finished or
half-finished run (``neurodyn plot``): ``phase_transition.png`` has four panels, the
probability of reaching a fixed point vs J_D (asynchronous dynamics and focusing BP, per
N), the median number of sweeps to convergence, the 1/2-crossing thresholds vs 1/N with
their linear extrapolation, and the enumerated mean number of fixed points next to
2^N Phi(J_D sqrt(N/(N-1)))^N and (2 Phi(J_D))^N (spec ``steering.md`` 6.2-6.5).
"""

from __future__ import annotations

import numpy as np

from neurodyn.plotting import colors, figure
from neurodyn.runs import RunFolder


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def summary(result: dict) -> str:
    lines = [f"{'N':>6}{'J_a(N) dynamics':>22}{'J(N) focusing BP':>19}"]
    for row in result["per_size"]:
        dynamics = row.get("dynamics", {})
        error = dynamics.get("threshold_error")
        shown = _fmt(dynamics.get("threshold")) + ("" if error is None else f" +- {error:.3f}")
        lines.append(
            f"{row['size']:>6}{shown:>22}{_fmt(row.get('focusing_bp', {}).get('threshold')):>19}"
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
    for form, fit in (result.get("dynamics_threshold_fits") or {}).items():
        if fit is None:
            lines.append(f"J_a(N) {form} fit: not determined by these sizes")
            continue
        shown = ", ".join(
            f"{name} = {value:.3g} +- {fit['errors'][name]:.2g}"
            for name, value in fit["parameters"].items()
        )
        lines.append(f"J_a(N) {form} fit: {shown}; chi^2/dof = {fit['chi2_per_dof']:.2f}")
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


def plot(folder: RunFolder) -> None:
    """``phase_transition.png`` from ``folder``'s result.json (panels of the docstring)."""
    result = folder.read_result()
    grid = np.asarray(result["self_couplings"])
    fig, axes = figure(2, 2, size=(12, 9), squeeze=False)
    _probabilities(axes[0][0], grid, result["per_size"])
    _sweeps(axes[0][1], grid, result["per_size"])
    _thresholds(axes[1][0], result)
    _counts(axes[1][1], grid, result["enumeration"])
    fig.tight_layout()
    folder.save_figure(fig, "phase_transition.png")


def _legend(ax, **options) -> None:
    """A legend where the panel has labelled lines (a half-finished run may have none)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**options)


def _probabilities(ax, grid: np.ndarray, per_size: list[dict]) -> None:
    series = (
        ("dynamics", "convergence_probability", "o-", "dynamics"),
        ("focusing_bp", "success_probability", "s--", "focusing BP"),
    )
    for color, row in zip(colors() * 3, per_size, strict=False):
        for part, key, style, name in series:
            if part in row:
                label = f"{name} N={row['size']}"
                ax.plot(grid, row[part][key], style, ms=3, color=color, label=label)
    ax.axhline(0.5, color="grey", linewidth=0.5)
    ax.set_xlabel("self-coupling $J_D$")
    ax.set_ylabel("probability of reaching a fixed point")
    _legend(ax, fontsize=7, ncol=2)


def _sweeps(ax, grid: np.ndarray, per_size: list[dict]) -> None:
    for color, row in zip(colors() * 3, per_size, strict=False):
        if "dynamics" in row:
            medians = [np.nan if v is None else v for v in row["dynamics"]["median_sweeps"]]
            ax.semilogy(grid, medians, "o-", ms=3, color=color, label=f"N={row['size']}")
    ax.set_xlabel("self-coupling $J_D$")
    ax.set_ylabel("median sweeps to convergence")
    _legend(ax, fontsize=7)


def _thresholds(ax, result: dict) -> None:
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
    _legend(ax, fontsize=7)


def _counts(ax, grid: np.ndarray, enumeration: list[dict]) -> None:
    for color, row in zip(colors(), enumeration, strict=False):
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
    _legend(ax, fontsize=7)
