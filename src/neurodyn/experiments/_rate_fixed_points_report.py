"""Summary and figures of ``rate-fixed-points``: the table per task, rule and gain, the
measures against the gain, and each task's state planes."""

from __future__ import annotations

from neurodyn.analysis.state_space import draw_state_plane
from neurodyn.experiments._stages import Stages
from neurodyn.experiments._statistics import rho_text
from neurodyn.experiments.rate_lyapunov import errorbars
from neurodyn.plotting import figure
from neurodyn.runs import RunFolder

COLUMNS = {
    "accuracy": "accuracy",
    "max_exponent": "lambda_1",
    "stable": "stable",
    "saddle": "saddles",
    "slow": "slow pts",
    "slow_dimension": "slow dim",
}
PANELS = ("stable", "saddle", "slow_dimension", "max_exponent")
LABELS = {"slow_dimension": "slow-manifold dim.", "max_exponent": "lambda_1 (finite ones)"}


def summary(result: dict) -> str:
    lines = []
    for task_name, runs in result["runs"].items():
        lines.append(f"{task_name}: after training, mean +- sd over seeds at the selected rate")
        lines.append("  rule  gain  lr      " + "".join(f"{c:>15}" for c in COLUMNS.values()))
        lines.append("  (lambda_1 over the seeds where it is finite, the others counted)")
        for rule, per_gain in runs.items():
            if rule == "spearman":
                continue
            for gain, lr in per_gain["learning_rate"].items():
                cells = "".join(
                    f"{per_gain[key][gain][0]:>8.3f}+-{per_gain[key][gain][1]:<5.2f}"
                    for key in COLUMNS
                )
                collapsed = per_gain["collapsed"][gain]
                note = f"  (lambda_1 = -inf: {collapsed})" if collapsed else ""
                lines.append(f"  {rule:<5} {gain:>4}  {lr:<7g}{cells}{note}")
        rho = ", ".join(f"{k} {rho_text(v)}" for k, v in runs["spearman"].items())
        lines.append(f"  Spearman rho over the selected members: {rho}")
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """``structure.png`` (the measures against the gain, a column per task) and
    ``state_space_<task>.png`` (a row per rule, a column per gain)."""
    result = folder.read_result()
    _plot_structure(result, folder)
    stages = Stages(folder)
    for task_name, runs in result["runs"].items():
        _plot_planes(stages, result["config"], task_name, runs, folder)


def _plot_structure(result: dict, folder: RunFolder) -> None:
    runs = result["runs"]
    fig, axes = figure(
        len(PANELS), len(runs), size=(3.4 * len(runs), 2.6 * len(PANELS)), squeeze=False
    )
    for column, (task_name, task_runs) in enumerate(runs.items()):
        for row, key in enumerate(PANELS):
            ax = axes[row][column]
            for rule, per_gain in task_runs.items():
                if rule == "spearman":
                    continue
                errorbars(ax, per_gain[key], label=rule)
            ax.set_ylabel(LABELS.get(key, COLUMNS[key]))
            ax.set_xlabel("gain")
        axes[0][column].set_title(task_name)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    folder.save_figure(fig, "structure.png")


def _plot_planes(stages: Stages, config: dict, task_name: str, runs: dict, folder) -> None:
    rules = [rule for rule in runs if rule != "spearman"]
    gains = list(runs[rules[0]]["shown"])
    fig, axes = figure(
        len(rules), len(gains), size=(3.2 * len(gains), 3.0 * len(rules)), squeeze=False
    )
    for row, rule in zip(axes, rules, strict=True):
        stage = f"{task_name} {rule} fixed points"
        for ax, gain in zip(row, gains, strict=True):
            e = runs[rule]["shown"][gain]
            draw_state_plane(
                ax,
                *(stages.tensor(stage, key)[e] for key in ("trajectories", "conditions")),
                *(stages.tensor(stage, key)[e] for key in ("points", "modes", "fixed")),
                stages.tensor(stage, "directions")[e],
                size=config["hidden_size"],
            )
            ax.set_title(f"{rule}, gain {gain}", fontsize=9)
    axes[0][0].legend(fontsize=6)
    fig.suptitle(f"{task_name}: trials by condition, fixed points by stability (first seed)")
    fig.tight_layout()
    folder.save_figure(fig, f"state_space_{task_name}.png")
