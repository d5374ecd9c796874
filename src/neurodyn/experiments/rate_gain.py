"""Initial gain vs learning with BPTT and e-prop (Liu, Zhang & Liu, arXiv 2410.11164).

Spec ``rate-rnn-eprop-lyapunov.md`` sections 7-8. For every task and rule, one ensemble
of N = 64 leaky ReLU RNNs holds every (gain, learning rate, seed): W_h ~ N(0, gain^2 / N),
Adam, batch 32. Per gain the learning rate is selected as in the authors' lab code: the
lowest mean (over seeds) of the last 20 logged losses, each logged loss the running mean
of 100 iterations. No gradient clipping by default, as the paper; ``clip_norm`` > 0 clips
each member's gradient norm (the gradient-flossing code's task training uses 0.03, spec
section 6). Reported: loss curves (mean +- sd over seeds) at the selected rates
(the paper's figures 1, 2 and 5), the loss at iteration 200 and at the end, and the
decision accuracy on fresh trials (2AF also per coherence).

Tasks are looked up in the task registry (:func:`neurodyn.tasks.get`: Romo, Schuessler's
generator, alpha = 0.5, masked MSE; perceptual decision making and delayed
match-to-sample, neurogym defaults at dt = tau = 100 ms, so alpha = 0, cross entropy on
every step; or any neurogym id), rules in the rate-rule registry
(:func:`neurodyn.rules.get`: ``bptt``, ``eprop``, ``rflo``, where each member draws its
own RFLO feedback, or a registered rule of the user's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from neurodyn import rng, rules, tasks
from neurodyn.config import Config, option, to_dict
from neurodyn.experiments import Experiment, MemberAxes, register
from neurodyn.experiments._loss_figures import lr_text, plot_losses
from neurodyn.experiments._stages import Stages, join_stages
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.plotting import figure
from neurodyn.runs import RunFolder
from neurodyn.training.rate import train_rate


@dataclass(frozen=True)
class RateGridConfig(Config):
    """The gain x learning rate x seed grid of ``rate-gain`` and its training settings,
    without the tasks: the base of every experiment that trains such grids."""

    rules: tuple[str, ...] = option(
        ("bptt", "eprop"),
        "registered rate rules",
        unbounded=True,  # checked against the rule registry
        unique=True,
    )
    gains: tuple[float, ...] = option(
        (0.2, 0.5, 1.0, 1.5, 2.0), "initial gains g, W_h ~ N(0, g^2/N)", minimum=0.0, unique=True
    )
    learning_rates: tuple[float, ...] = option(
        (1e-4, 3e-4, 1e-3, 3e-3),
        "Adam learning rates; the best per gain is selected",
        above=0.0,
        unique=True,
    )
    seeds: tuple[int, ...] = option(
        (0, 1, 2, 3, 4), "seeds per (gain, learning rate)", minimum=0, unique=True
    )
    hidden_size: int = option(64, "N, hidden units", minimum=1)
    batch_size: int = option(32, "trials per iteration and member", minimum=1)
    iterations: int = option(2000, "training iterations", minimum=1)
    log_every: int = option(100, "iterations per logged running-mean loss", minimum=1)
    test_trials: int = option(1000, "fresh trials for the final accuracy", minimum=1)
    clip_norm: float = option(0.0, "clip each member's gradient norm to this (0: off)", minimum=0.0)
    device: str = option("cpu", "torch device of the ensembles (cpu, cuda, ...)", device=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        rules.rate_rule.RULES.require(self.rules, "rules")
        if self.iterations < self.log_every:
            raise ValueError(
                f"config field 'iterations' must cover at least one logging window of "
                f"log_every = {self.log_every}, got {self.iterations}"
            )

    def members(self) -> list[tuple[float, float, int]]:
        """The (gain, learning rate, seed) of every network of one condition."""
        return [(g, lr, s) for g in self.gains for lr in self.learning_rates for s in self.seeds]

    def ensemble_members(self) -> list[tuple]:
        """Every network of the ensemble, a tuple ending in (gain, learning rate, seed):
        here the :meth:`members`; an experiment with conditions (``rate-gain-dale``) puts
        its conditions first, in blocks of :meth:`members`."""
        return self.members()

    def network_options(self, hidden_size: int, members: list[tuple]) -> dict:
        """Per-member options of :class:`LeakyRateNetwork` for ``members`` (none here)."""
        return {}


@dataclass(frozen=True)
class RateGainConfig(RateGridConfig):
    tasks: tuple[str, ...] = option(
        ("romo", "decision", "match-sample"),
        "registered task names or neurogym ids",
        unbounded=True,  # checked against the task registry
        unique=True,
    )
    experiment: ClassVar[str] = "rate-gain"  # the name its run's result carries

    def __post_init__(self) -> None:
        super().__post_init__()
        tasks.registry.require(self.tasks)

    def task(self, name: str):
        """The task ``name`` of :attr:`tasks`, as this experiment builds it."""
        return tasks.get(name)


# The grid of the tiny configs (seconds): two gains, one learning rate and seed, N = 16.
TINY_GRID = {
    "gains": (0.5, 1.0),
    "learning_rates": (3e-3,),
    "seeds": (0,),
    "hidden_size": 16,
    "iterations": 20,
    "log_every": 10,
    "test_trials": 20,
}


def logged_losses(losses: torch.Tensor, window: int) -> torch.Tensor:
    """Running means over consecutive windows of ``window`` iterations: (I // window, E)."""
    usable = losses[: losses.shape[0] // window * window]
    return usable.view(-1, window, losses.shape[1]).mean(1)


def ensemble(config: RateGainConfig, task) -> tuple[LeakyRateNetwork, list[int]]:
    """One network per member of ``config`` (:meth:`RateGainConfig.ensemble_members`, with
    :meth:`~RateGainConfig.network_options`) and their seeds, with the task's leak alpha."""
    members = config.ensemble_members()
    network = LeakyRateNetwork(
        task.input_size,
        config.hidden_size,
        task.output_size,
        ensemble_size=len(members),
        gain=[m[-3] for m in members],
        alpha=task.alpha,
        device=config.device,
        **config.network_options(config.hidden_size, members),
    )
    return network, [m[-1] for m in members]


def train_stage(
    stages: Stages,
    name: str,
    config: RateGainConfig,
    task,
    rule: str,
    progress: bool,
    *,
    initial: RateWeights | None = None,
) -> dict:
    """Train every member with the registered rule ``rule`` from ``initial`` (default: its
    initialisation), score fresh trials, and keep losses, accuracy and the trained weights
    as stage ``name``; a finished stage returns its stored values."""
    if stages.done(name):
        return stages.values(name)
    network, seeds = ensemble(config, task)
    if initial is None:
        weights = network.init(seeds)
    else:  # stored weights are on the CPU
        weights = RateWeights(*(p.to(network.device) for p in initial.parameters()))
    weights, losses = train_rate(
        network,
        weights,
        task,
        rule=rules.get(rule)(),
        iterations=config.iterations,
        learning_rate=[m[-2] for m in config.ensemble_members()],
        seeds=seeds,
        batch_size=config.batch_size,
        clip_norm=config.clip_norm or None,
        progress=progress,
    )
    test = task.sample(config.test_trials, rng.generator(10_000, "evaluation"))
    outputs = evaluate(network, weights, test.inputs, seeds)
    accuracy = {key: value.tolist() for key, value in task.accuracy(outputs, test).items()}
    values = {"losses": losses.T.tolist(), "accuracy": accuracy}
    stages.save(name, done=True, values=values, **weights.tensors())
    return values


EVALUATION_BLOCK = 100  # test trials per forward pass


def evaluate(network: LeakyRateNetwork, weights: RateWeights, inputs, seeds) -> torch.Tensor:
    """Outputs (E, B, T, N_out) of every member on the test ``inputs`` (B, T, N_in), run
    in blocks of :data:`EVALUATION_BLOCK` trials: the hidden states (E, B, T, N) of all
    of them at once would not fit in memory for large ensembles (1200 networks x 1000
    trials: 17 GB). Block k's noise, where there is any, is draw k of each member's
    ``"evaluation"`` key."""
    keys = rng.member_keys(seeds, "evaluation", network.device)
    outputs = []
    for block, start in enumerate(range(0, inputs.shape[0], EVALUATION_BLOCK)):
        x = inputs[start : start + EVALUATION_BLOCK].to(network.device, network.dtype)
        x, noise = network.sample_noise(x, keys, block)
        with torch.no_grad():
            outputs.append(network.run(weights, x, noise=noise)[0])
    return torch.cat(outputs, dim=1)


def stage_weights(stages: Stages, name: str) -> RateWeights:
    """The trained weights a finished :func:`train_stage` kept."""
    return RateWeights(*(stages.tensor(name, key) for key in ("recurrent", "inputs", "readout")))


def selected_members(config: RateGainConfig, losses: torch.Tensor) -> dict[float, tuple]:
    """Per gain, the learning rate with the lowest mean over seeds of the last 20 logged
    losses (the lab code's criterion) and the indices of its members: {gain: (lr, index)}.
    Where every learning rate diverged (no finite criterion, e.g. activity that overflows
    at initialisation) the learning rate is None and the index holds all the gain's members."""
    members = config.members()
    criterion = logged_losses(losses, config.log_every)[-20:].mean(0)
    selected = {}
    for gain in config.gains:
        best_lr, best_index, best_score = None, [], float("inf")
        for lr in config.learning_rates:
            index = [i for i, m in enumerate(members) if m[0] == gain and m[1] == lr]
            score = float(criterion[index].mean())
            if score < best_score:
                best_lr, best_index, best_score = lr, index, score
        if best_lr is None:
            best_index = [i for i, m in enumerate(members) if m[0] == gain]
        selected[gain] = (best_lr, best_index)
    return selected


def gain_rows(config: RateGainConfig, values: dict) -> dict[str, dict]:
    """Per gain, at the selected learning rate: loss curve (mean and sd over seeds), loss
    at iteration 200 and at the end, and accuracy."""
    losses = torch.tensor(values["losses"]).T  # (I, E)
    logged = logged_losses(losses, config.log_every)
    per_gain = {}
    for gain, (best_lr, index) in selected_members(config, losses).items():
        curve = logged[:, index]
        at_200 = losses[min(199, losses.shape[0] - 1), index]
        per_gain[f"{gain:g}"] = {
            "learning_rate": best_lr,
            "curve_mean": curve.mean(1).tolist(),
            "curve_sd": curve.std(1, correction=0).tolist(),
            "loss_200": [float(at_200.mean()), float(at_200.std(correction=0))],
            "loss_final": [float(curve[-1].mean()), float(curve[-1].std(correction=0))],
            "accuracy": {
                k: float(np.mean([v[i] for i in index])) for k, v in values["accuracy"].items()
            },
        }
    return per_gain


def run(config: RateGainConfig, folder: RunFolder, progress: bool = True) -> dict:
    """Train every (task, rule) stage in turn (``config.task``); result.json grows per stage."""
    stages = Stages(folder)
    result = {"experiment": config.experiment, "config": to_dict(config), "runs": {}}
    for task_name in config.tasks:
        task = config.task(task_name)
        for rule in config.rules:
            name = f"{task_name} {rule}"
            values = train_stage(stages, name, config, task, rule, progress)
            result["runs"][name] = gain_rows(config, values)
            folder.write_result(result)
    return result


def summary(result: dict) -> str:
    lines = []
    for name, per_gain in result["runs"].items():
        lines.append(f"{name}:")
        for gain, row in per_gain.items():
            accuracy = ", ".join(
                f"{k} {v:.3f}"
                for k, v in row["accuracy"].items()
                if k in ("all", "coherence >= 12.8")
            )
            lines.append(
                f"  gain {gain:>4}: {lr_text(row)}, loss at 200 "
                f"{row['loss_200'][0]:.4f}+-{row['loss_200'][1]:.4f}, final "
                f"{row['loss_final'][0]:.4f}+-{row['loss_final'][1]:.4f}; accuracy {accuracy}"
            )
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """Loss curves per gain, a row per task and a column per rule (figures 1, 2 and 5).

    The band is mean +- sd over seeds; on the log axis its lower edge is cut by the axis
    limits, which follow the means (a diverged seed would otherwise flatten the plot).
    """
    result = folder.read_result()
    runs = result["runs"]
    every = result["config"]["log_every"]
    task_names = list(dict.fromkeys(name.split(" ")[0] for name in runs))
    rule_names = list(dict.fromkeys(name.split(" ")[1] for name in runs))
    size = (4.6 * len(rule_names), 3.4 * len(task_names))
    fig, axes = figure(len(task_names), len(rule_names), size=size, squeeze=False)
    for row_index, task in enumerate(task_names):
        for column, rule in enumerate(rule_names):
            ax = axes[row_index][column]
            if f"{task} {rule}" not in runs:  # a half-finished run
                ax.set_axis_off()
                continue
            plot_losses(ax, {"": runs[f"{task} {rule}"]}, every, f"{task}, {rule}")
    fig.tight_layout()
    folder.save_figure(fig, "loss_curves.png")


AXES = {
    "task": "tasks",
    "rule": "rules",
    "gain": "gains",
    "learning_rate": "learning_rates",
    "seed": "seeds",
}


def member_rows(config: RateGainConfig, folder: RunFolder) -> list[dict]:
    """Per (task, rule) stage, member and logged window: the running-mean loss at the
    window's last iteration, and on the last window the member's test accuracy."""
    stages, rows = Stages(folder), []
    for task_name in config.tasks:
        for rule in config.rules:
            values = stages.values(f"{task_name} {rule}")
            for i, (gain, lr, seed) in enumerate(config.members()):
                member = {"task": task_name, "rule": rule, "gain": gain}
                member |= {"learning_rate": lr, "seed": seed}
                rows += [member | row for row in stage_rows(values, i, config.log_every)]
    return rows


def stage_rows(values: dict, index: int, window: int) -> list[dict]:
    """Rows of member ``index`` of a stage's values: per window of ``window`` iterations the
    running-mean loss at its last iteration (one row at iteration 0 where the stage trains
    nothing), the last with the member's lambda_1 and accuracy where the stage keeps them.
    Each member's windows are averaged on its own, so its rows do not depend on its
    ensemble."""
    rows = [{"iteration": 0}]
    if "losses" in values:
        losses = logged_losses(torch.tensor(values["losses"][index])[:, None], window)[:, 0]
        rows = [{"iteration": (w + 1) * window, "loss": v} for w, v in enumerate(losses.tolist())]
    if "max_exponent" in values:
        rows[-1]["max_exponent"] = values["max_exponent"][index]
    for key, value in values.get("accuracy", {}).items():
        rows[-1]["accuracy" if key == "all" else f"accuracy {key}"] = value[index]
    return rows


def gather(config: RateGainConfig, parts: list[RunFolder], folder: RunFolder) -> dict:
    """The result of the whole config from its chunks' stages (see MemberAxes)."""
    join_stages(config, parts, folder, lambda c, _: c.ensemble_members())
    return run(config, folder, progress=False)


register(
    Experiment(
        "rate-gain",
        "Initial gain vs learning with BPTT and e-prop on Romo, 2AF and DMS (Liu et al. 2024)",
        RateGainConfig,
        run,
        summary,
        plot=plot,
        tiny=lambda: RateGainConfig(tasks=("romo", "decision"), **TINY_GRID),
        quick=lambda: RateGainConfig(
            tasks=("romo",),
            gains=(0.2, 1.0),
            learning_rates=(1e-3, 3e-3),
            seeds=(0, 1),
            iterations=300,
            test_trials=200,
        ),
        members=MemberAxes(AXES, member_rows, gather),
    )
)
