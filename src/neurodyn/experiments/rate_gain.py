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

Tasks: Romo (Schuessler's generator, alpha = 0.5, masked MSE), perceptual decision making
and delayed match-to-sample (neurogym defaults at dt = tau = 100 ms, so alpha = 0, cross
entropy on every step).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from neurodyn import rng  # noqa: E402
from neurodyn.checks import check_positive_int  # noqa: E402
from neurodyn.config import to_dict  # noqa: E402
from neurodyn.experiments import Experiment, register  # noqa: E402
from neurodyn.experiments._stages import Stages  # noqa: E402
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights  # noqa: E402
from neurodyn.runs import RunFolder  # noqa: E402
from neurodyn.tasks.decision import DelayMatchSample, PerceptualDecision  # noqa: E402
from neurodyn.tasks.romo import Romo  # noqa: E402
from neurodyn.training.rate import train_rate  # noqa: E402

TASKS = {  # name: (task, alpha)
    "romo": (Romo(), 0.5),
    "decision": (PerceptualDecision(), 0.0),
    "match-sample": (DelayMatchSample(), 0.0),
}


@dataclass(frozen=True)
class RateGainConfig:
    tasks: tuple[str, ...] = ("romo", "decision", "match-sample")
    rules: tuple[str, ...] = ("bptt", "eprop")
    gains: tuple[float, ...] = (0.2, 0.5, 1.0, 1.5, 2.0)
    learning_rates: tuple[float, ...] = (1e-4, 3e-4, 1e-3, 3e-3)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    hidden_size: int = 64
    batch_size: int = 32
    iterations: int = 2000
    log_every: int = 100
    test_trials: int = 1000
    clip_norm: float = 0.0

    def __post_init__(self) -> None:
        unknown = [t for t in self.tasks if t not in TASKS]
        if unknown:
            raise ValueError(f"unknown tasks {unknown}; known: {list(TASKS)}")
        for rule in self.rules:
            if rule not in ("bptt", "eprop", "rflo"):
                raise ValueError(f"rules must be among bptt, eprop, rflo, got {rule!r}")
        for name in ("hidden_size", "batch_size", "iterations", "log_every", "test_trials"):
            check_positive_int(name, getattr(self, name))
        if self.iterations < self.log_every:
            raise ValueError("iterations must cover at least one logging window")
        if not self.clip_norm >= 0:
            raise ValueError(f"clip_norm must be >= 0 (0: no clipping), got {self.clip_norm}")

    def members(self) -> list[tuple[float, float, int]]:
        return [(g, lr, s) for g in self.gains for lr in self.learning_rates for s in self.seeds]


def logged_losses(losses: torch.Tensor, window: int) -> torch.Tensor:
    """Running means over consecutive windows of ``window`` iterations: (I // window, E)."""
    usable = losses[: losses.shape[0] // window * window]
    return usable.view(-1, window, losses.shape[1]).mean(1)


def ensemble(config: RateGainConfig, task, alpha: float) -> tuple[LeakyRateNetwork, list[int]]:
    """One network per (gain, learning rate, seed) member of ``config`` and their seeds."""
    members = config.members()
    network = LeakyRateNetwork(
        task.input_size,
        config.hidden_size,
        task.output_size,
        ensemble_size=len(members),
        gain=[g for g, _, _ in members],
        alpha=alpha,
    )
    return network, [s for _, _, s in members]


def train_stage(
    stages: Stages,
    name: str,
    config: RateGainConfig,
    task,
    alpha: float,
    rule: str,
    progress: bool,
    *,
    initial: RateWeights | None = None,
) -> dict:
    """Train every member with ``rule`` from ``initial`` (default: its initialisation),
    score fresh trials, and keep losses, accuracy and the trained weights as stage
    ``name``; a finished stage returns its stored values."""
    if stages.done(name):
        return stages.values(name)
    network, seeds = ensemble(config, task, alpha)
    weights = network.init(seeds) if initial is None else initial
    feedback = None
    if rule == "rflo":
        gen = rng.generator(config.seeds[0], "init")
        scale = 1 / np.sqrt(config.hidden_size)
        feedback = (
            torch.rand(len(seeds), task.output_size, config.hidden_size, generator=gen) * 2 - 1
        ) * scale
    weights, losses = train_rate(
        network,
        weights,
        task,
        rule=rule,
        iterations=config.iterations,
        learning_rate=[lr for _, lr, _ in config.members()],
        seeds=seeds,
        batch_size=config.batch_size,
        feedback=feedback,
        clip_norm=config.clip_norm or None,
        progress=progress,
    )
    test = task.sample(config.test_trials, rng.generator(10_000, "evaluation"))
    with torch.no_grad():
        outputs, _ = network.run(weights, test.inputs)
    accuracy = {key: value.tolist() for key, value in task.accuracy(outputs, test).items()}
    values = {"losses": losses.T.tolist(), "accuracy": accuracy}
    stages.save(name, done=True, values=values, **weights.tensors())
    return values


def stage_weights(stages: Stages, name: str) -> RateWeights:
    """The trained weights a finished :func:`train_stage` kept."""
    return RateWeights(*(stages.tensor(name, key) for key in ("recurrent", "inputs", "readout")))


def selected_members(config: RateGainConfig, losses: torch.Tensor) -> dict[float, tuple]:
    """Per gain, the learning rate with the lowest mean over seeds of the last 20 logged
    losses (the lab code's criterion) and the indices of its members: {gain: (lr, index)}."""
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
    stages = Stages(folder)
    result = {"experiment": "rate-gain", "config": to_dict(config), "runs": {}}
    for task_name in config.tasks:
        task, alpha = TASKS[task_name]
        for rule in config.rules:
            name = f"{task_name} {rule}"
            values = train_stage(stages, name, config, task, alpha, rule, progress)
            result["runs"][name] = gain_rows(config, values)
    folder.write_result(result)
    plot(result, folder)
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
                f"  gain {gain:>4}: lr {row['learning_rate']:g}, loss at 200 "
                f"{row['loss_200'][0]:.4f}+-{row['loss_200'][1]:.4f}, final "
                f"{row['loss_final'][0]:.4f}+-{row['loss_final'][1]:.4f}; accuracy {accuracy}"
            )
    return "\n".join(lines)


def plot_curve(ax, row: dict, every: int, label: str) -> np.ndarray:
    """A logged loss curve of :func:`gain_rows` (``curve_mean``, ``curve_sd``): the mean over
    seeds with a +- sd band, against the iteration; returns the mean."""
    mean, sd = np.array(row["curve_mean"]), np.array(row["curve_sd"])
    steps = (np.arange(len(mean)) + 1) * every
    ax.plot(steps, mean, label=label)
    ax.fill_between(steps, np.maximum(mean - sd, 1e-12), mean + sd, alpha=0.2)
    return mean


def plot(result: dict, folder: RunFolder) -> None:
    """Loss curves per gain, a row per task and a column per rule (figures 1, 2 and 5).

    The band is mean +- sd over seeds; on the log axis its lower edge is cut by the axis
    limits, which follow the means (a diverged seed would otherwise flatten the plot).
    """
    runs = result["runs"]
    every = result["config"]["log_every"]
    tasks = list(dict.fromkeys(name.split(" ")[0] for name in runs))
    rules = list(dict.fromkeys(name.split(" ")[1] for name in runs))
    fig, axes = plt.subplots(
        len(tasks), len(rules), figsize=(4.6 * len(rules), 3.4 * len(tasks)), squeeze=False
    )
    for (row_index, task), (column, rule) in itertools.product(enumerate(tasks), enumerate(rules)):
        ax = axes[row_index][column]
        means = []
        for gain, row in runs[f"{task} {rule}"].items():
            means.append(plot_curve(ax, row, every, f"gain {gain} (lr {row['learning_rate']:g})"))
        finite = np.concatenate(means)
        finite = finite[np.isfinite(finite) & (finite > 0)]
        if finite.size:
            ax.set_ylim(finite.min() / 2, min(finite.max(), 100 * np.median(finite)) * 2)
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel("loss (running mean)")
        ax.set_title(f"{task}, {rule} (mean +- sd over seeds)", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    folder.save_figure(fig, "loss_curves.png")
    plt.close(fig)


register(
    Experiment(
        "rate-gain",
        "Initial gain vs learning with BPTT and e-prop on Romo, 2AF and DMS (Liu et al. 2024)",
        RateGainConfig,
        run,
        summary,
        lambda: RateGainConfig(
            tasks=("romo",),
            gains=(0.2, 1.0),
            learning_rates=(1e-3, 3e-3),
            seeds=(0, 1),
            iterations=300,
            test_trials=200,
        ),
    )
)
