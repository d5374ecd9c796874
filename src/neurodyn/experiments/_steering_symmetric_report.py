"""Summary and figures of ``steering-symmetric`` (Scardecchia, arXiv 2510.11984, open
question 1), from the run folder's ``result.json`` alone.

* ``fixed_point_counts.png``: the enumerated mean number of fixed points vs J_D for
  symmetric (circles) and asymmetric (squares) couplings, each model's expectation
  (solid: symmetric, dashed: asymmetric), and the ratio measured / expected;
* ``dynamics.png``: median sweeps to converge, convergence probability, stability margin
  and energy per spin of the fixed points reached, vs J_D per N (solid: symmetric,
  dashed: asymmetric, converged runs only);
* ``local_entropy.png``: the excess c(d) of fixed points at distance d around the reached
  and the typical fixed point at the largest N (one line per J_D), and c(1) vs J_D.
"""

from __future__ import annotations

import numpy as np

from neurodyn.plotting import colors, figure
from neurodyn.runs import RunFolder

MODELS = ("asymmetric", "symmetric")
STYLES = {"asymmetric": ("s", "--"), "symmetric": ("o", "-")}


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _shown(grid: list[float]) -> list[int]:
    """About five J_D values of the grid, its ends included."""
    return sorted(set(np.linspace(0, len(grid) - 1, 5).round().astype(int).tolist()))


def summary(result: dict) -> str:
    grid, models = result["self_couplings"], result["models"]
    shown = _shown(grid)
    head = "".join(f"{f'J_D={grid[k]:g}':>22}" for k in shown)
    lines = [f"mean #FP +- s.e. (expectation of the model){'':>4}", f"{'model':>11}{'N':>4}{head}"]
    for model in MODELS:
        for row in models[model]["enumeration"]:
            cells = "".join(
                f"{row['mean_count'][k]:>9.2f}+-{row['standard_error'][k]:<5.2f}"
                f"({row['expected'][k]:>5.1f})"
                for k in shown
            )
            lines.append(f"{model:>11}{row['size']:>4}{cells}")
    for model, z in result["enumeration_max_abs_z"].items():
        if z is not None:
            lines.append(f"{model}: largest |mean - expected| / standard error {z:.2f}")
    lines.append(f"dynamics (median sweeps / median margin of reached FPs){'':>2}")
    lines.append(f"{'model':>11}{'N':>6}{head}")
    for model in MODELS:
        for row in models[model]["dynamics"]:
            cells = "".join(
                f"{_fmt(row['median_sweeps'][k], 0):>12}/{_fmt(row['median_margin'][k]):>9}"
                for k in shown
            )
            lines.append(f"{model:>11}{row['size']:>6}{cells}")
    lines.append("c(1) +- s.e.: excess of fixed points at distance 1 (> 0: denser than uniform)")
    lines.append(f"{'model':>11}{'reference':>10}{'N':>4}{head}{'c(1) = 0 at J_D':>18}")
    for model in MODELS:
        for row in models[model]["local_entropy"]:
            for reference in ("dynamics", "typical"):
                part = row[reference]
                cells = "".join(
                    f"{_fmt(part['nearest_excess'][k]):>13}+-{_fmt(part['nearest_excess_error'][k]):<7}"
                    for k in shown
                )
                threshold = _fmt(part["cluster_threshold"])
                lines.append(f"{model:>11}{reference:>10}{row['size']:>4}{cells}{threshold:>18}")
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """The three figures of the module docstring from ``folder``'s result.json."""
    result = folder.read_result()
    grid, models = np.asarray(result["self_couplings"]), result["models"]
    fig, axes = figure(1, 2, size=(12, 4.5), squeeze=False)
    _counts(axes[0], grid, models)
    fig.tight_layout()
    folder.save_figure(fig, "fixed_point_counts.png")
    fig, axes = figure(2, 2, size=(12, 9), squeeze=False)
    _dynamics(axes, grid, models)
    fig.tight_layout()
    folder.save_figure(fig, "dynamics.png")
    fig, axes = figure(2, 3, size=(15, 8.5), squeeze=False)
    _local_entropy(axes, grid, models)
    fig.tight_layout()
    folder.save_figure(fig, "local_entropy.png")


def _legend(ax, **options) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**options)


def _none_to_nan(values) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in values], dtype=float)


def _counts(axes, grid: np.ndarray, models: dict) -> None:
    count_axis, ratio_axis = axes
    sizes = sorted({r["size"] for m in MODELS for r in models[m]["enumeration"]})
    palette = dict(zip(sizes, colors() * 3, strict=False))
    for model in MODELS:
        marker, line = STYLES[model]
        for row in models[model]["enumeration"]:
            color = palette[row["size"]]
            mean, error = np.asarray(row["mean_count"]), np.asarray(row["standard_error"])
            expected = np.asarray(row["expected"])
            label = f"{model} N={row['size']}"
            count_axis.errorbar(grid, mean, yerr=error, fmt=marker, ms=3, color=color, label=label)
            count_axis.plot(grid, expected, line, color=color, linewidth=1)
            ratio_axis.errorbar(
                grid, mean / expected, yerr=error / expected, fmt=marker + line, ms=3, color=color
            )
    count_axis.set_yscale("log")
    count_axis.set_xlabel("self-coupling $J_D$")
    count_axis.set_ylabel("mean number of fixed points")
    count_axis.set_title("lines: each model's expectation (solid symmetric)", fontsize=9)
    _legend(count_axis, fontsize=7, ncol=2)
    ratio_axis.axhline(1.0, color="grey", linewidth=0.5)
    ratio_axis.set_xlabel("self-coupling $J_D$")
    ratio_axis.set_ylabel("measured / expected (own model)")


def _dynamics(axes, grid: np.ndarray, models: dict) -> None:
    panels = (
        (axes[0][0], "median_sweeps", "median sweeps to converge", True),
        (axes[0][1], "convergence_probability", "probability of converging", False),
        (axes[1][0], "median_margin", "stability margin of reached FP", False),
        (axes[1][1], "median_energy", "energy per spin of reached FP", False),
    )
    sizes = sorted({r["size"] for m in MODELS for r in models[m]["dynamics"]})
    palette = dict(zip(sizes, colors() * 3, strict=False))
    for ax, key, label, logarithmic in panels:
        for model in MODELS:
            marker, line = STYLES[model]
            for row in models[model]["dynamics"]:
                ax.plot(
                    grid,
                    _none_to_nan(row[key]),
                    marker + line,
                    ms=3,
                    color=palette[row["size"]],
                    label=f"{model} N={row['size']}",
                )
        if logarithmic:
            ax.set_yscale("log")
        ax.set_xlabel("self-coupling $J_D$")
        ax.set_ylabel(label)
    _legend(axes[0][0], fontsize=7, ncol=2)


def _local_entropy(axes, grid: np.ndarray, models: dict) -> None:
    shades = colors() * 4
    for m, model in enumerate(MODELS):
        rows = models[model]["local_entropy"]
        for r, reference in enumerate(("dynamics", "typical")):
            ax = axes[m][r]
            if rows:
                row = rows[-1]
                size = row["size"]
                for k in _shown(list(grid)):
                    curve = row[reference]["excess"][k]
                    if curve is not None:
                        half = size // 2 + 1  # d > N/2 mirrors d < N/2 (-s* is a fixed point)
                        label = f"$J_D$={grid[k]:g}"
                        distance, values = np.arange(1, half) / size, curve[1:half]
                        ax.plot(distance, values, "o-", ms=2, color=shades[k], label=label)
                ax.set_title(f"{model}, {reference} reference, N={size}", fontsize=9)
            ax.axhline(0.0, color="grey", linewidth=0.5)
            ax.set_xlabel("distance d / N")
            ax.set_ylabel("excess c(d) over uniform")
            _legend(ax, fontsize=7)
        ax = axes[m][2]
        for row, color in zip(rows, colors() * 3, strict=False):
            for reference, line in (("dynamics", "o-"), ("typical", "s--")):
                values = _none_to_nan(row[reference]["nearest_excess"])
                ax.plot(grid, values, line, ms=3, color=color, label=f"{reference} N={row['size']}")
        ax.axhline(0.0, color="grey", linewidth=0.5)
        ax.set_title(f"{model}: excess at distance 1", fontsize=9)
        ax.set_xlabel("self-coupling $J_D$")
        ax.set_ylabel("c(1)")
        _legend(ax, fontsize=7)
