"""Summary and figures of ``free-energy-regimes`` (Spisak & Friston 2025, simulation 2),
from the run folder's ``result.json`` alone.

:func:`summary` prints the example cases (retrieval, generalisation, attractors,
orthogonality, mean +- sd over seeds) next to the authors' saved output, the data's own
orthogonality and the best-scale Hebbian and projector baselines.
:func:`plot` draws what a finished or half-finished run holds: ``regimes.png``, the four
heat maps over temperature 1 / precision x evidence (3 x 3 median filter, as the paper),
once the grid is done, and ``baselines.png`` once the baselines are.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from neurodyn.plotting import figure
from neurodyn.runs import RunFolder

METRICS = ("retrieval", "generalization", "orthogonality", "attractor_count")


def summary(result: dict) -> str:
    lines = [
        f"{'case':<30}{'retrieval':>16}{'generalization':>18}{'attractors':>13}"
        f"{'orthogonality':>17}   paper (saved output)"
    ]

    def cell(stat, digits=3):
        if stat["mean"] is None:
            return "nan"
        return f"{stat['mean']:.{digits}f}+-{stat['sd']:.{digits}f}"

    for case, row in result["cases"].items():
        paper = row["paper"]
        shown = (
            ", ".join(f"{k[:4]} {v}" for k, v in paper.items()) if paper else "fails (E[dJ] = 0)"
        )
        lines.append(
            f"{case:<30}{cell(row['retrieval']):>16}{cell(row['generalization']):>18}"
            f"{cell(row['attractor_count'], 1):>13}{cell(row['orthogonality'], 1):>17}   {shown}"
        )
    data = result["data_orthogonality"]
    lines.append(
        f"data orthogonality: {data['coded']:.2f} as coded, "
        f"{data['distinct_pairs']:.2f} over distinct pairs"
    )
    for kind, best in result.get("baselines", {}).get("best", {}).items():
        lines.append(
            f"{kind} baseline (best ||J|| = {best['norm']:.3g}): "
            f"retrieval {best['retrieval']:.3f}, generalization {best['generalization']:.3f}, "
            f"attractors {best['attractor_count']:.0f}"
        )
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """``regimes.png`` once the grid is done, ``baselines.png`` once the baselines are."""
    result = folder.read_result()
    if "grid" in result:
        _plot_grid(result, folder)
    if "baselines" in result:
        _plot_baselines(result, folder)


def _plot_grid(result: dict, folder: RunFolder) -> None:
    """The paper's figure of simulation 2: each metric over temperature x evidence."""
    config = result["config"]
    fig, axes = figure(1, 4, size=(17, 3.8))
    temperature = 1 / np.array(config["precisions"])
    evidence = np.array(config["evidence_levels"])
    styles = {
        "retrieval": ("RdBu_r", (-0.36, 0.36)),
        "generalization": ("RdBu_r", (-0.08, 0.08)),
        "orthogonality": ("viridis_r", (0, 60)),
        "attractor_count": ("viridis", (1, 10)),
    }
    for ax, metric in zip(axes, METRICS, strict=True):
        values = np.array(result["grid"][metric], dtype=float)
        cmap, (low, high) = styles[metric]
        # undefined orthogonality (a single attractor) is drawn at the top of the scale
        smooth = median_filter(np.nan_to_num(values, nan=high), size=3, mode="nearest")
        mesh = ax.pcolormesh(
            temperature, evidence, smooth, cmap=cmap, vmin=low, vmax=high, shading="nearest"
        )
        ax.set_xscale("log")
        ax.set_xlabel("temperature 1 / precision")
        ax.set_ylabel("evidence")
        ax.set_title(metric.replace("_", " "))
        fig.colorbar(mesh, ax=ax)
    fig.tight_layout()
    folder.save_figure(fig, "regimes.png")


def _plot_baselines(result: dict, folder: RunFolder) -> None:
    """Hebbian and projector couplings vs their norm, the learned balanced case dashed."""
    baselines = result["baselines"]["all"]
    fig, axes = figure(1, 3, size=(13, 3.6))
    balanced = result["cases"]["balanced"]
    for ax, metric in zip(axes, ("retrieval", "generalization", "attractor_count"), strict=True):
        for kind in ("hebbian", "projector"):
            rows = [i for i, k in enumerate(baselines["kind"]) if k == kind]
            ax.plot(
                [baselines["norm"][i] for i in rows],
                [baselines[metric][i] for i in rows],
                "o-",
                label=f"{kind} (no learning)",
            )
        ax.axhline(balanced[metric]["mean"], color="k", linestyle="--", label="learned (balanced)")
        ax.set_xscale("log")
        ax.set_xlabel("||J|| (Frobenius)")
        ax.set_title(metric.replace("_", " "))
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    folder.save_figure(fig, "baselines.png")
