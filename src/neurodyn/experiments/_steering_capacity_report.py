"""Summary and figure of ``steering-capacity`` (Scardecchia 2025, arXiv 2510.11984), from
the run folder's ``result.json`` alone.

:func:`summary` prints the mean P_max per depth and width (flagging values censored by
the search ceiling) and the slope of P_max against H per depth next to the thesis's
0.38 (L = 2) and 0.86 (L = 7). :func:`plot` draws ``capacity.png`` from a finished or
half-finished run: P_max vs H per depth with the fitted lines, and the slope vs depth.
"""

from __future__ import annotations

import math

import numpy as np

from neurodyn.plotting import colormap, figure
from neurodyn.runs import RunFolder

PAPER = {
    "slopes": {"2": 0.38, "7": 0.86},
    "note": "thesis summary: capacity scaling slope 0.38 for L = 2 rising to 0.86 for L = 7; "
    "protocol unavailable (spec 4.3)",
}


def summary(result: dict) -> str:
    lines = []
    for depth, row in result["capacities"].items():
        shown = ", ".join(
            f"H={w}: {m:.1f}{' (ceiling)' if c else ''}"
            for w, m, c in zip(row["widths"], row["mean"], row["at_ceiling"], strict=True)
        )
        lines.append(f"L={depth}: mean P_max {shown}")
    for depth, fit in result["slopes"].items():
        error = "" if fit["standard_error"] is None else f" +- {fit['standard_error']:.3f}"
        paper = PAPER["slopes"].get(depth)
        exponent = "-" if fit["exponent"] is None else f"{fit['exponent']:.2f}"
        total = fit.get("total_slope")  # absent from results of older versions
        per_neuron = "" if total is None else f", per neuron of L H {total:.3f}"
        lines.append(
            f"L={depth}: slope dP_max/dH = {fit['slope']:.3f}{error} (log-log exponent "
            f"{exponent}{per_neuron})" + ("" if paper is None else f"   [thesis: {paper}]")
        )
    lines.append(f"[{PAPER['note']}]")
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """``capacity.png``: P_max vs H per depth (mean +- standard error over seeds) with the
    fitted lines; the slope vs depth next to the thesis's values."""
    result = folder.read_result()
    fig, (left, right) = figure(1, 2, size=(12, 4.5))
    shades = colormap("viridis")(np.linspace(0, 0.9, len(result["capacities"])))
    for color, (depth, row) in zip(shades, result["capacities"].items(), strict=True):
        widths, values = np.array(row["widths"]), np.array(row["per_seed"])
        errors = values.std(0, ddof=1) / math.sqrt(len(values)) if len(values) > 1 else None
        left.errorbar(widths, values.mean(0), yerr=errors, fmt="o", color=color, capsize=2)
        fit = result["slopes"].get(depth)
        label = f"L={depth}"
        if fit is not None:
            line = np.linspace(0, widths.max(), 50)
            left.plot(line, fit["slope"] * line + fit["intercept"], "-", color=color)
            label += f": slope {fit['slope']:.2f}"
        left.plot([], [], "o-", color=color, label=label)
    left.set_xlabel("width H")
    left.set_ylabel("$P_{max}$ (all patterns stored)")
    left.set_xlim(left=0)
    left.set_ylim(bottom=0)
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    if result["slopes"]:
        depths = [int(d) for d in result["slopes"]]
        fits = list(result["slopes"].values())
        right.errorbar(
            depths,
            [f["slope"] for f in fits],
            yerr=[f["standard_error"] or 0.0 for f in fits],
            fmt="o-",
            capsize=3,
            label="measured (mean +- s.e. over seeds)",
        )
    right.plot(
        [int(d) for d in PAPER["slopes"]],
        list(PAPER["slopes"].values()),
        "r*",
        ms=12,
        label="thesis",
    )
    right.set_xlabel("depth L")
    right.set_ylabel("slope $dP_{max}/dH$")
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    fig.tight_layout()
    folder.save_figure(fig, "capacity.png")
