"""The figures of ``rate-gain-dale`` (:mod:`.rate_gain_dale`): loss curves per condition
(Liu, Zhang & Liu's figures 1-2), lambda_1 before and after training vs gain (figure 3)
and lambda_1 before training against the loss at iteration 200."""

from __future__ import annotations

from neurodyn.experiments._loss_figures import plot_losses
from neurodyn.experiments._statistics import rho_text
from neurodyn.experiments.rate_lyapunov import errorbars
from neurodyn.plotting import figure
from neurodyn.runs import RunFolder


def _split(result: dict) -> tuple[list[str], list[str]]:
    names = list(result["runs"])
    return list(dict.fromkeys(n.split(" ")[0] for n in names)), list(
        dict.fromkeys(n.split(" ")[1] for n in names)
    )


def plot(folder: RunFolder) -> None:
    """Per task ``loss_curves_TASK.png`` (figures 1-2: a row per Dale setting and
    connection probability, a column per rule; noise off solid, on dashed) and
    ``max_exponent_TASK.png`` (figure 3: lambda_1 before, solid, and after training,
    dashed, vs gain, a row per rule and a column per Dale setting);
    ``exponent_vs_speed.png``: lambda_1 before training against the loss at iteration
    200, every (condition, gain)."""
    result = folder.read_result()
    task_names, rule_names = _split(result)
    every = result["config"]["log_every"]
    for task in task_names:
        _plot_losses(result, task, rule_names, every, folder)
        _plot_exponents(result, task, rule_names, folder)
    _plot_speed(result, task_names, rule_names, folder)


def _plot_losses(result, task, rule_names, every, folder) -> None:
    config = result["config"]
    rows = [(d, p) for d in config["dale"] for p in config["connection_probabilities"]]
    fig, axes = figure(
        len(rows), len(rule_names), size=(4.6 * len(rule_names), 3.2 * len(rows)), squeeze=False
    )
    for i, (dale, probability) in enumerate(rows):
        for j, rule in enumerate(rule_names):
            run_result = result["runs"].get(f"{task} {rule}")
            if run_result is None:  # a half-finished run
                axes[i][j].set_axis_off()
                continue
            series = {
                f", noise {row['noise']}": row["gains"]
                for row in run_result["conditions"].values()
                if row["dale"] == dale and row["connection_probability"] == probability
            }
            title = f"{task} {rule}: dale {dale}, p {probability:g}"
            plot_losses(axes[i][j], series, every, title)
    fig.tight_layout()
    folder.save_figure(fig, f"loss_curves_{task}.png")


def _plot_exponents(result, task, rule_names, folder) -> None:
    dales = result["config"]["dale"]
    fig, axes = figure(
        len(rule_names), len(dales), size=(4.2 * len(dales), 3.4 * len(rule_names)), squeeze=False
    )
    for i, rule in enumerate(rule_names):
        run_result = result["runs"].get(f"{task} {rule}", {"conditions": {}})
        for j, dale in enumerate(dales):
            ax = axes[i][j]
            for row in run_result["conditions"].values():
                if row["dale"] != dale:
                    continue
                short = f"p {row['connection_probability']:g}, noise {row['noise']}"
                line = errorbars(ax, row["max_exponent_before"], label=f"{short}: before")
                color = line[0].get_color()
                errorbars(ax, row["max_exponent_after"], color=color, ls="--", label="after")
            ax.axhline(0, color="grey", lw=0.8)
            ax.set_xlabel("gain")
            ax.set_title(f"{task} {rule}, Dale {dale}", fontsize=9)
            ax.legend(fontsize=6)
        axes[i][0].set_ylabel("max Lyapunov exponent (per step)")
    fig.tight_layout()
    folder.save_figure(fig, f"max_exponent_{task}.png")


def _plot_speed(result, task_names, rule_names, folder) -> None:
    markers = {"off": "o", "plain": "s", "balanced": "^"}
    fig, axes = figure(
        len(task_names),
        len(rule_names),
        size=(4.2 * len(rule_names), 3.4 * len(task_names)),
        squeeze=False,
    )
    for i, task in enumerate(task_names):
        for j, rule in enumerate(rule_names):
            ax, run_result = axes[i][j], result["runs"].get(f"{task} {rule}")
            if run_result is None:
                ax.set_axis_off()
                continue
            for row in run_result["conditions"].values():
                gains = list(row["gains"])
                x = [row["max_exponent_before"][g][0] for g in gains]
                y = [row["gains"][g]["loss_200"][0] for g in gains]
                ax.scatter(x, y, c=[float(g) for g in gains], marker=markers[row["dale"]], s=18)
            rhos = run_result["spearman_exponent_vs_loss_200"]["all"]
            rho = ", ".join(f"{side} {rho_text(value)}" for side, value in rhos.items())
            ax.set_yscale("log")
            ax.set_xlabel("lambda_1 before training")
            ax.set_ylabel("loss at iteration 200")
            ax.set_title(
                f"{task} {rule}: Spearman {rho}\n(o Dale off, s plain, ^ balanced; colour: gain)",
                fontsize=8,
            )
    fig.tight_layout()
    folder.save_figure(fig, "exponent_vs_speed.png")
