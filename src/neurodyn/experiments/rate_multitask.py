"""One network per member on the 20 tasks of Yang et al. 2019 at once (issue 23 part 3).

Yang, Joglekar, Song, Newsome & Wang, Nature Neuroscience 22, 297-306 (2019). The
``rate-gain`` machinery (:mod:`neurodyn.experiments.rate_gain`: one ensemble per rule
holding every (gain, learning rate, seed), Adam, the learning rate selected per gain,
loss curves mean +- sd over seeds) on :class:`~neurodyn.tasks.multitask.NeurogymMultitask`:
neurogym's ``yang19.*-v0`` environments interleaved per trial with one-hot rule inputs,
response periods weighted ``decision_weight`` (5). Reported per gain: neurogym's decision
accuracy per task (a no-go trial right when no response comes), over all test trials and
the mean over tasks, and the task-variance clustering of the paper's figure 2
(:mod:`neurodyn.analysis.task_variance`), from ``variance_trials`` fresh trials per task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from neurodyn import rng
from neurodyn.analysis.task_variance import cluster_units, task_variance
from neurodyn.config import from_dict, option, to_dict
from neurodyn.experiments import Experiment, MemberAxes, register
from neurodyn.experiments._stages import Stages, join_stages
from neurodyn.experiments.rate_gain import (
    AXES,
    TINY_GRID,
    RateGainConfig,
    ensemble,
    gain_rows,
    selected_members,
    stage_rows,
    stage_weights,
    train_stage,
)
from neurodyn.experiments.rate_gain import plot as plot_losses
from neurodyn.plotting import figure
from neurodyn.runs import RunFolder
from neurodyn.tasks.multitask import YANG19, NeurogymMultitask


@dataclass(frozen=True)
class RateMultitaskConfig(RateGainConfig):
    """The ``rate-gain`` fields with the environments of one multitask as ``tasks``, the
    loss weight of their response periods and the trials of the task-variance analysis."""

    tasks: tuple[str, ...] = option(
        YANG19, "neurogym ids learned together (one rule input each)", unbounded=True, unique=True
    )
    decision_weight: float = option(
        5.0, "loss weight of the response periods' steps (others 1)", minimum=0.0
    )
    variance_trials: int = option(200, "fresh trials per task for the task variance", minimum=2)
    experiment: ClassVar[str] = "rate-multitask"

    def multitask(self) -> NeurogymMultitask:
        return NeurogymMultitask(self.tasks, decision_weight=self.decision_weight)


STAGE = "multitask"  # the stages are "multitask <rule>" and "multitask <rule> variance"


def variance_stage(stages: Stages, name: str, config, task: NeurogymMultitask) -> torch.Tensor:
    """The task variance (E, N, tasks) of every member trained in stage ``name``
    (:func:`task_variance` of its rates on ``variance_trials`` fresh trials per task),
    kept as stage ``name + " variance"``."""
    key = f"{name} variance"
    if not stages.done(key):
        network, _ = ensemble(config, task)
        weights = stage_weights(stages, name)
        weights = type(weights)(*(p.to(network.device) for p in weights.parameters()))
        variance = []
        for k in range(len(task.env_ids)):
            batch = task.sample_task(k, config.variance_trials, rng.generator(k, "evaluation"))
            with torch.no_grad():
                hidden = network.run(weights, batch.inputs.to(network.device, network.dtype))[1]
            info = batch.info
            rates = network.rate(hidden).cpu()
            variance.append(task_variance(rates, info["fixation_end"], info["steps"]))
        stages.save(key, done=True, values={}, variance=torch.stack(variance, -1))
    return stages.tensor(key, "variance")


def run(config: RateMultitaskConfig, folder: RunFolder, progress: bool = True) -> dict:
    """Train every rule in turn, then its task variance; result.json grows per rule."""
    stages, task = Stages(folder), config.multitask()
    result = {"experiment": config.experiment, "config": to_dict(config), "runs": {}}
    result["tasks"], result["clusters"] = task.names, {}
    for rule in config.rules:
        name = f"{STAGE} {rule}"
        values = train_stage(stages, name, config, task, rule, progress)
        rows = gain_rows(config, values)
        for row in rows.values():
            row["task_mean"] = float(np.nanmean([row["accuracy"][t] for t in task.names]))
        result["runs"][name] = rows
        variance = variance_stage(stages, name, config, task).double().numpy()
        losses = torch.tensor(values["losses"]).T
        result["clusters"][name] = {
            f"{gain:g}": cluster_units(variance[index[0]])["summary"]
            for gain, (_, index) in selected_members(config, losses).items()
        }
        folder.write_result(result)
    return result


def summary(result: dict) -> str:
    lines, names = [], result["tasks"]
    columns = [(name, gain) for name, per_gain in result["runs"].items() for gain in per_gain]
    for name, gain in columns:
        row, clusters = result["runs"][name][gain], result["clusters"][name][gain]
        lines.append(
            f"{name}, gain {gain}: lr {row['learning_rate']:g}, final loss "
            f"{row['loss_final'][0]:.4f}+-{row['loss_final'][1]:.4f}; accuracy: mean over "
            f"tasks {row['task_mean']:.3f}, all trials {row['accuracy']['all']:.3f}; "
            f"{clusters['active']} active units in {clusters['clusters']} clusters"
        )
    labels = [f"{name.split(' ')[1]}@{gain}" for name, gain in columns]
    lines.append("accuracy per task (neurogym's score, no-go trials right without a response)")
    lines.append(f"{'task':<12}" + "".join(f"{label:>12}" for label in labels))
    rows = [result["runs"][name][gain] for name, gain in columns]
    for task in names:
        lines.append(f"{task:<12}" + "".join(f"{row['accuracy'][task]:>12.3f}" for row in rows))
    lines.append(f"{'mean':<12}" + "".join(f"{row['task_mean']:>12.3f}" for row in rows))
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """The loss curves of ``rate-gain`` and, per rule (row) and gain (column), the units x
    tasks normalised task variance of the first seed at the selected learning rate, units
    sorted by cluster (the paper's figure 2b)."""
    plot_losses(folder)
    result = folder.read_result()
    config = from_dict(RateMultitaskConfig, folder.config)
    stages = Stages(folder)
    runs = [name for name in result["runs"] if stages.done(f"{name} variance")]
    if not runs:
        return
    fig, axes = figure(
        len(runs), len(config.gains), size=(3.2 * len(config.gains), 4.2 * len(runs)),
        squeeze=False,
    )  # fmt: skip
    for row, name in enumerate(runs):
        losses = torch.tensor(stages.values(name)["losses"]).T
        variance = stages.tensor(f"{name} variance", "variance").double().numpy()
        for column, (gain, (_, index)) in enumerate(selected_members(config, losses).items()):
            ax, clustered = axes[row][column], cluster_units(variance[index[0]])
            image = ax.imshow(
                clustered["fractions"], aspect="auto", cmap="hot", vmin=0, vmax=1,
                interpolation="nearest",
            )  # fmt: skip
            for edge in np.flatnonzero(np.diff(clustered["labels"])):
                ax.axhline(edge + 0.5, color="cyan", lw=0.6)
            ax.set_xticks(range(len(result["tasks"])), result["tasks"], rotation=90, fontsize=6)
            ax.set_ylabel("active units, by cluster")
            ax.set_title(f"{name}, gain {gain:g}", fontsize=9)
    fig.colorbar(image, ax=axes.ravel().tolist(), label="normalised task variance")
    folder.save_figure(fig, "task_variance.png")


# Member axes of a sweep: the rule stages, then the members of each stage (one task).
MULTITASK_AXES = {axis: field for axis, field in AXES.items() if axis != "task"}


def member_rows(config: RateMultitaskConfig, folder: RunFolder) -> list[dict]:
    """Per rule, member and logged window: the running-mean loss, and on the last window
    the member's accuracy over all test trials and per task."""
    stages, rows = Stages(folder), []
    for rule in config.rules:
        values = stages.values(f"{STAGE} {rule}")
        for i, (gain, lr, seed) in enumerate(config.members()):
            member = {"rule": rule, "gain": gain, "learning_rate": lr, "seed": seed}
            rows += [member | row for row in stage_rows(values, i, config.log_every)]
    return rows


def gather(config: RateMultitaskConfig, parts: list[RunFolder], folder: RunFolder) -> dict:
    """The result of the whole config from its chunks' stages (see MemberAxes)."""
    join_stages(config, parts, folder, lambda c, _: c.ensemble_members())
    return run(config, folder, progress=False)


TINY_TASKS = ("yang19.go-v0", "yang19.dm1-v0", "yang19.dms-v0")

register(
    Experiment(
        "rate-multitask",
        "One network on the 20 tasks of Yang et al. 2019 under BPTT, e-prop or RFLO (issue 23)",
        RateMultitaskConfig,
        run,
        summary,
        plot=plot,
        tiny=lambda: RateMultitaskConfig(
            tasks=TINY_TASKS, rules=("bptt",), variance_trials=8, **TINY_GRID
        ),
        quick=lambda: RateMultitaskConfig(
            rules=("bptt",),
            gains=(1.0,),
            learning_rates=(1e-3,),
            seeds=(0,),
            hidden_size=128,
            iterations=600,
            test_trials=1000,
        ),
        members=MemberAxes(MULTITASK_AXES, member_rows, gather),
        defaults={
            "rules": ("bptt", "eprop", "rflo"),
            "gains": (0.5, 1.0, 1.5),
            "learning_rates": (1e-3,),
            "seeds": (0, 1, 2),
            "hidden_size": 128,
            "iterations": 20000,
        },
    )
)
