"""Summary and figures of ``steering-equilibration`` (Scardecchia, arXiv 2510.11984, open
question 4), from the run folder's ``result.json`` and ``arrays.safetensors`` alone.

* ``sweeps.png``: histograms of the sweeps to converge, pooled over the seeds, of the free
  relaxation of the in-distribution test images and of each OOD set (left), and of the
  steered relaxation under the correct label and under the wrong ones (right); the last
  bin, budget + 1, holds the runs that did not converge;
* ``roc.png``: per OOD set, the ROC curves (first seed) of the OOD scores against the
  in-distribution test images, the readout's max logit dashed.
"""

from __future__ import annotations

import numpy as np

from neurodyn.plotting import colors, figure
from neurodyn.runs import RunFolder

OOD = ("random", "permuted", "held-out")
SCORES = {  # score: (array key, sign making it larger out of distribution)
    "sweeps": ("sweeps", 1.0),
    "unstable_eval": ("unstable_eval", 1.0),
    "unstable_final": ("unstable_final", 1.0),
    "max_logit": ("max_logit", -1.0),
}


def _cell(pair: list[float]) -> str:
    return f"{pair[0]:.3f} +- {pair[1]:.3f}"


def summary(result: dict) -> str:
    mean, seeds = result["mean"], len(result["members"])
    budget = result["config"]["max_sweeps"]
    lines = [
        f"mean +- standard error over {seeds} seed(s); not converged = {budget + 1} sweeps",
        f"(a) readout accuracy {_cell(mean['readout_accuracy'])}, fastest-label accuracy "
        f"{_cell(mean['fastest_label_accuracy'])} (tied {_cell(mean['tied_fraction'])})",
        f"    least-unstable-label accuracy {_cell(mean['least_unstable_label_accuracy'])}",
        f"    mean sweeps: correct label {_cell(mean['mean_sweeps_correct_label'])}, wrong "
        f"labels {_cell(mean['mean_sweeps_wrong_labels'])}",
        f"(b) AUROC vs in-distribution ({result['set_sizes']['in-distribution']} images)",
        f"{'OOD set':>10}{'n':>6}" + "".join(f"{score:>18}" for score in SCORES),
    ]
    for name in OOD:
        cells = "".join(f"{_cell(mean[f'auroc.{name}.{score}']):>18}" for score in SCORES)
        lines.append(f"{name:>10}{result['set_sizes'][name]:>6}{cells}")
    lines.append(f"{'set':>16}{'converged':>20}{'median sweeps':>20}")
    for name in ("in-distribution", *OOD):
        lines.append(
            f"{name:>16}{_cell(mean[f'{name}.converged']):>20}"
            f"{_cell(mean[f'{name}.median_sweeps']):>20}"
        )
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """The two figures of the module docstring."""
    from sklearn.metrics import roc_curve

    result, arrays = folder.read_result(), folder.read_arrays()
    budget = result["config"]["max_sweeps"]
    top = max(int(arrays[f"{name}.sweeps"].max()) for name in ("in-distribution", *OOD, "steered"))
    bins = np.arange(0.5, top + 1.5)  # up to the longest run (budget + 1: not converged)
    fig, axes = figure(1, 2, size=(12, 4.5), squeeze=False)
    left, right = axes[0]
    for color, name in zip(colors(), ("in-distribution", *OOD), strict=False):
        sweeps = arrays[f"{name}.sweeps"].flatten().numpy()
        left.hist(sweeps, bins=bins, density=True, histtype="step", color=color, label=name)
    steered = arrays["steered.sweeps"]
    correct = np.eye(steered.shape[-1], dtype=bool)[arrays["labels"].numpy()]
    correct = np.broadcast_to(correct, steered.shape)
    for mask, label, color in ((correct, "correct label", "C0"), (~correct, "wrong labels", "C3")):
        values = steered.numpy()[mask]
        right.hist(values, bins=bins, density=True, histtype="step", color=color, label=label)
    for ax, title in ((left, "free relaxation"), (right, "steered relaxation, in-distribution")):
        ax.set_yscale("log")
        ax.set_xlabel(f"sweeps to converge ({budget + 1}: not converged)")
        ax.set_ylabel("fraction")
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.tight_layout()
    folder.save_figure(fig, "sweeps.png")

    fig, axes = figure(1, len(OOD), size=(4.2 * len(OOD), 4.2), squeeze=False)
    for ax, name in zip(axes[0], OOD, strict=True):
        for color, (score, (key, sign)) in zip(colors(), SCORES.items(), strict=False):
            inside = sign * arrays[f"in-distribution.{key}"][0].double().numpy()
            outside = sign * arrays[f"{name}.{key}"][0].double().numpy()
            truth = np.r_[np.zeros(inside.size), np.ones(outside.size)]
            false, true, _ = roc_curve(truth, np.r_[inside, outside])
            area = result["members"][0][f"auroc.{name}.{score}"]
            style = "--" if score == "max_logit" else "-"
            ax.plot(false, true, style, color=color, label=f"{score} ({area:.2f})")
        ax.plot([0, 1], [0, 1], ":", color="grey", linewidth=1)
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.set_title(f"{name} vs in-distribution ({result['members'][0]['name']})")
        ax.legend(fontsize=8)
    fig.tight_layout()
    folder.save_figure(fig, "roc.png")
