"""Max Lyapunov exponent vs gain, before and after training, and flossing before e-prop
(Liu, Zhang & Liu, arXiv 2410.11164, figures 3 and 4).

Spec ``rate-rnn-eprop-lyapunov.md`` sections 5, 6 and 8. The networks are trained by the
``rate-gain`` machinery (every (gain, learning rate, seed) in one ensemble, the learning
rate selected per gain by the lab code's criterion); the figures show mean +- sd over
seeds at the selected rates.

* Figure 3: lambda_1 (natural log per step) before and after training vs gain, for BPTT
  and e-prop. Expected (spec 8): increasing with gain before training, about 0 after,
  the largest change at small gains.
* Figure 4: e-prop from the initialisation and from 100 iterations of local gradient
  flossing (:class:`~neurodyn.rules.flossing.GradientFlossing`, Adam), loss curves per
  gain; expected to help most at sub-optimal (small) gains.

lambda_1 is measured with :func:`~neurodyn.analysis.lyapunov.lyapunov_spectrum` along
streams of consecutive task trials from h = 0, the first trial the warm-up, QR every
step (spec 5.3), on each member's own ``"evaluation"`` streams (the same before and after
training). It is computed in float64: with ReLU and gain 2 some trajectories grow without
bound and overflow float32 within a few hundred steps, while their Jacobians, which only
see the signs of h, stay well defined.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from neurodyn import rng, tasks
from neurodyn.analysis.lyapunov import StepDynamics, lyapunov_spectrum
from neurodyn.config import option, to_dict
from neurodyn.experiments import Experiment, MemberAxes, register
from neurodyn.experiments._loss_figures import lr_text, plot_curve
from neurodyn.experiments._stages import Stages, join_stages
from neurodyn.experiments._statistics import exponent_mean_sd, exponent_text, mean_sd
from neurodyn.experiments.rate_gain import (
    TINY_GRID,
    RateGainConfig,
    ensemble,
    gain_rows,
    selected_members,
    stage_rows,
    stage_weights,
    train_stage,
)
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.plotting import figure
from neurodyn.rules.flossing import FORMS, GradientFlossing
from neurodyn.runs import RunFolder
from neurodyn.training.rate import train_rate

# Spec 5.3 prototype (Romo, alpha = 0.5, N = 64, untrained, 3 seeds, stream protocol).
SPEC_PROTOTYPE_BEFORE = {"0.2": -0.58, "0.5": -0.42, "1": -0.21, "1.5": 0.0, "2": 0.02}


@dataclass(frozen=True)
class ExponentConfig(RateGainConfig):
    """The ``rate-gain`` training fields, then the protocol of lambda_1."""

    lyapunov_trajectories: int = option(16, "input streams per member for lambda_1", minimum=1)
    lyapunov_trials: int = option(10, "trials per stream, the first the warm-up", minimum=2)


@dataclass(frozen=True)
class RateLyapunovConfig(ExponentConfig):
    """The ``rate-gain`` training fields, then the Lyapunov protocol and flossing."""

    tasks: tuple[str, ...] = option(
        ("romo",), "registered task names or neurogym ids", unbounded=True, unique=True
    )
    flossing_iterations: int = option(100, "gradient-flossing pretraining iterations", minimum=1)
    flossing_learning_rate: float = option(1e-3, "Adam learning rate of flossing", above=0.0)
    flossing_exponents: int = option(
        1, "k, Lyapunov exponents pushed towards 0 (at most hidden_size)", minimum=1
    )
    flossing_batch_size: int = option(16, "input streams per flossing iteration", minimum=1)
    flossing_trials: int = option(2, "trials per flossing stream, the first the warm-up", minimum=2)
    flossing_form: str = option("local", "local (trajectory detached) or full", choices=FORMS)
    flossing_detach_basis: bool = option(False, "detach Q_{t-1} before every QR step")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.flossing_exponents > self.hidden_size:
            raise ValueError(
                f"config field 'flossing_exponents' must be <= hidden_size = "
                f"{self.hidden_size}, got {self.flossing_exponents}"
            )

    def flossing(self) -> GradientFlossing:
        """Streams of ``flossing_trials`` trials, the first one the warm-up (spec 5.3)."""
        return GradientFlossing(
            exponents=self.flossing_exponents,
            trials=self.flossing_trials,
            warmup_trials=1,
            form=self.flossing_form,
            detach_basis=self.flossing_detach_basis,
        )


def max_exponents(
    network: LeakyRateNetwork,
    weights: RateWeights,
    task,
    seeds: list[int],
    *,
    trajectories: int,
    trials: int,
) -> torch.Tensor:
    """lambda_1 per member (E,): the mean over ``trajectories`` streams of ``trials``
    trials from the member's ``"evaluation"`` key, the first trial the warm-up. In float64
    (the step and its Jacobian follow the dtype of the weights and the state). A member
    whose weights are not finite (its training diverged, as e-prop at gain 2 and a large
    learning rate can) or whose states overflow even in float64 (ReLU under Dale's law
    with the plain initialisation at large gains) gets NaN; the others are measured as
    usual."""
    weights = [p.to(network.device, torch.float64) for p in weights.parameters()]
    finite = torch.stack([p.flatten(1).isfinite().all(1) for p in weights]).all(0)
    weights = RateWeights(  # zeros stand in for the diverged members
        *(torch.where(finite.view(-1, *[1] * (p.dim() - 1)), p, 0.0) for p in weights)
    )
    keys = rng.member_keys(seeds, "evaluation", network.device)
    streams = task.sample_member_streams(trajectories, trials, keys, 0)
    streams = streams.to(network.device, torch.float64)
    state = torch.zeros(
        *streams.shape[:2], network.hidden_size, dtype=torch.float64, device=network.device
    )
    spectrum = lyapunov_spectrum(
        StepDynamics.of_network(network, weights),
        state,
        streams,
        warmup=streams.shape[2] // trials,
        diverged="nan",
    )
    return spectrum.maximum.mean(1).masked_fill(~finite, float("nan"))


def _pairs(config: RateLyapunovConfig) -> RateLyapunovConfig:
    """The (gain, seed) members of the stages that do not depend on the learning rate."""
    return replace(config, learning_rates=(config.flossing_learning_rate,))


PAIR_STAGES = ("initialisation", "flossing")  # labels of the stages over (gain, seed)


def stage_members(config: RateLyapunovConfig, stage: str) -> list[tuple]:
    """The members of stage ``stage`` in the order of its values (see ``join_stages``):
    (gain, seed) for :data:`PAIR_STAGES`, else (gain, learning rate, seed)."""
    if stage in {f"{t} {label}" for t in config.tasks for label in PAIR_STAGES}:
        return [(g, s) for g, _, s in _pairs(config).members()]
    return config.members()


def stage_exponents(stages: Stages, name: str, config: ExponentConfig, task) -> torch.Tensor:
    """lambda_1 per member of ``config`` of stage ``name``'s weights (the initialisation's if
    it keeps none), measured once and kept in its values: a sweep's join only reads it."""
    values = stages.values(name) if stages.done(name) else {}
    if "max_exponent" not in values:
        network, seeds = ensemble(config, task)
        trained = f"{name}.recurrent" in stages.tensors
        weights = stage_weights(stages, name) if trained else network.init(seeds)
        lengths = {"trajectories": config.lyapunov_trajectories, "trials": config.lyapunov_trials}
        exponents = max_exponents(network, weights, task, seeds, **lengths).tolist()
        stages.save(name, done=True, values=values | {"max_exponent": exponents})
    return torch.tensor(stages.values(name)["max_exponent"], dtype=torch.float64)


def _floss(stages: Stages, name: str, pairs: RateLyapunovConfig, task, progress) -> None:
    """Every (gain, seed) of ``pairs`` flossed from its initialisation: stage ``name``."""
    network, seeds = ensemble(pairs, task)
    weights, losses = train_rate(
        network,
        network.init(seeds),
        task,
        rule=pairs.flossing(),
        iterations=pairs.flossing_iterations,
        learning_rate=pairs.flossing_learning_rate,
        seeds=seeds,
        batch_size=pairs.flossing_batch_size,
        progress=progress,
    )
    stages.save(name, done=True, values={"losses": losses.T.tolist()}, **weights.tensors())


def _task_results(stages: Stages, config: RateLyapunovConfig, task_name: str, progress) -> dict:
    task, pairs = tasks.get(task_name), _pairs(config)
    members = stage_members(config, f"{task_name} flossing")
    by_gain = {gain: [i for i, m in enumerate(members) if m[0] == gain] for gain in config.gains}
    trajectories = config.lyapunov_trajectories
    before = stage_exponents(stages, f"{task_name} initialisation", pairs, task)
    stats, collapsed = exponent_mean_sd(before, by_gain, trajectories)
    result = {"max_exponent_before": stats, "collapsed_before": collapsed}
    result |= {"max_exponent_after": {}, "collapsed_after": {}, "learning_rate": {}}
    for rule in config.rules:
        name = f"{task_name} {rule}"
        values = train_stage(stages, name, config, task, rule, progress)
        selected = selected_members(config, torch.tensor(values["losses"]).T)
        after = stage_exponents(stages, name, config, task)
        index = {g: i for g, (_, i) in selected.items()}
        stats, collapsed = exponent_mean_sd(after, index, trajectories)
        result["max_exponent_after"][rule], result["collapsed_after"][rule] = stats, collapsed
        result["learning_rate"][rule] = {f"{g:g}": lr for g, (lr, _) in selected.items()}
    name = f"{task_name} flossing"
    if not stages.done(name):
        _floss(stages, name, pairs, task, progress)
    losses = torch.tensor(stages.values(name)["losses"]).T
    flossing = {
        "max_exponent_flossed": mean_sd(stage_exponents(stages, name, pairs, task), by_gain),
        "loss_first": mean_sd(losses[0], by_gain),
        "loss_last": mean_sd(losses[-1], by_gain),
    }
    index = [members.index((gain, seed)) for gain, _, seed in config.members()]
    flossed = RateWeights(*(p[index] for p in stage_weights(stages, name).parameters()))
    for label, initial in (("eprop", None), ("eprop after flossing", flossed)):
        name = f"{task_name} {label}"
        values = train_stage(stages, name, config, task, "eprop", progress, initial=initial)
        flossing[label] = gain_rows(config, values)
    result["flossing"] = flossing
    return result


def run(config: RateLyapunovConfig, folder: RunFolder, progress: bool = True) -> dict:
    """One task after another; result.json grows by one task's results at a time."""
    stages = Stages(folder)
    result = {
        "experiment": "rate-lyapunov",
        "config": to_dict(config),
        "spec_prototype_before": {"romo": SPEC_PROTOTYPE_BEFORE},
        "runs": {},
    }
    for name in config.tasks:
        result["runs"][name] = _task_results(stages, config, name, progress)
        folder.write_result(result)
    return result


def summary(result: dict) -> str:
    lines = []
    for task_name, runs in result["runs"].items():
        prototype = result["spec_prototype_before"].get(task_name, {})
        lines.append(f"{task_name}: max Lyapunov exponent per step, mean +- sd over seeds")
        for gain, before in runs["max_exponent_before"].items():
            after = ", ".join(
                f"{rule} {exponent_text(per_gain[gain], runs['collapsed_after'][rule][gain])} "
                f"({lr_text({'learning_rate': runs['learning_rate'][rule][gain]})})"
                for rule, per_gain in runs["max_exponent_after"].items()
            )
            before_text = exponent_text(before, runs["collapsed_before"][gain])
            reference = f" (spec prototype {prototype[gain]:+.2f})" if gain in prototype else ""
            lines.append(f"  gain {gain:>4}: before {before_text}{reference}; after {after}")
        flossing = runs["flossing"]
        lines.append(f"{task_name}: e-prop without / after flossing")
        for gain, flossed in flossing["max_exponent_flossed"].items():
            plain, pretrained = flossing["eprop"][gain], flossing["eprop after flossing"][gain]
            lines.append(
                f"  gain {gain:>4}: flossed lambda_1 {flossed[0]:+.3f}+-{flossed[1]:.3f}; loss "
                f"at 200 {plain['loss_200'][0]:.4f} / {pretrained['loss_200'][0]:.4f}, final "
                f"{plain['loss_final'][0]:.4f} / {pretrained['loss_final'][0]:.4f}"
            )
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """``max_exponent.png`` (figure 3) and ``flossing.png`` (figure 4)."""
    result = folder.read_result()
    _plot_exponents(result, folder)
    _plot_flossing(result, folder)


def errorbars(ax, per_gain: dict, **style):
    """Mean +- sd per gain of ``per_gain`` ({gain: [mean, sd]}) against the gain; returns
    matplotlib's errorbar container."""
    gains = [float(g) for g in per_gain]
    values = np.array(list(per_gain.values()))
    return ax.errorbar(gains, values[:, 0], yerr=values[:, 1], capsize=3, marker="o", **style)


def _plot_exponents(result: dict, folder: RunFolder) -> None:
    """Figure 3: lambda_1 before and after training vs gain, one panel per rule."""
    runs = result["runs"]
    rules = list(next(iter(runs.values()))["max_exponent_after"])
    fig, axes = figure(
        len(runs), len(rules), size=(4.2 * len(rules), 3.4 * len(runs)), squeeze=False
    )
    for row, (task_name, task_runs) in zip(axes, runs.items(), strict=True):
        prototype = result["spec_prototype_before"].get(task_name, {})
        for ax, rule in zip(row, rules, strict=True):
            errorbars(ax, task_runs["max_exponent_before"], label="before training")
            errorbars(ax, task_runs["max_exponent_after"][rule], label="after training")
            if prototype:
                gains = [float(g) for g in prototype]
                ax.plot(gains, list(prototype.values()), "k:", label="spec prototype (before)")
            ax.axhline(0, color="grey", lw=0.8)
            ax.set_xlabel("gain")
            ax.set_title(f"{task_name} {rule}")
        row[0].set_ylabel("max Lyapunov exponent (per step)")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    folder.save_figure(fig, "max_exponent.png")


def _plot_flossing(result: dict, folder: RunFolder) -> None:
    """Figure 4: e-prop loss curves with and without flossing, one panel per gain."""
    runs = result["runs"]
    every = result["config"]["log_every"]
    gains = list(next(iter(runs.values()))["flossing"]["eprop"])
    fig, axes = figure(
        len(runs), len(gains), size=(3.6 * len(gains), 3.2 * len(runs)), squeeze=False
    )
    for row, (task_name, task_runs) in zip(axes, runs.items(), strict=True):
        for ax, gain in zip(row, gains, strict=True):
            for label in ("eprop", "eprop after flossing"):
                plot_curve(ax, task_runs["flossing"][label][gain], every, label)
            ax.set_yscale("log")
            ax.set_xlabel("iteration")
            ax.set_title(f"{task_name}, gain {gain}")
        row[0].set_ylabel("loss (running mean)")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    folder.save_figure(fig, "flossing.png")


# Member axes of a sweep. Not the rule: the flossing stages do not depend on it, so every
# rule's chunk would train them again, and its longest chunk would take as long as all rules.
AXES = {"task": "tasks", "gain": "gains", "learning_rate": "learning_rates", "seed": "seeds"}


def member_rows(config: RateLyapunovConfig, folder: RunFolder) -> list[dict]:
    """Per task, member (gain, learning rate, seed) and ``stage``, in the order they run:
    ``initialisation`` (``iteration`` 0, ``max_exponent`` lambda_1 before training); each
    rule, ``eprop`` and ``eprop after flossing``, per logged window the running-mean ``loss``
    at the window's last ``iteration``, the last window with the test ``accuracy`` (as
    ``rate-gain``) and, for the rules, lambda_1 after training; ``flossing``, the flossing
    ``loss`` of every iteration, the last with lambda_1 of the flossed weights. The (gain,
    seed) stages give each learning rate the rows of its pair."""
    stages, rows = Stages(folder), []
    labels = ["initialisation", *config.rules, "flossing"]
    labels += [label for label in ("eprop", "eprop after flossing") if label not in labels]
    for task_name in config.tasks:
        pairs = stage_members(config, f"{task_name} flossing")
        for i, (gain, lr, seed) in enumerate(config.members()):
            member = {"task": task_name, "gain": gain, "learning_rate": lr, "seed": seed}
            for label in labels:
                values = stages.values(f"{task_name} {label}")
                index = pairs.index((gain, seed)) if label in PAIR_STAGES else i
                window = 1 if label == "flossing" else config.log_every
                member["stage"] = label
                rows += [member | row for row in stage_rows(values, index, window)]
    return rows


def gather(config: RateLyapunovConfig, parts: list[RunFolder], folder: RunFolder) -> dict:
    """The result of the whole config from its chunks' stages (see MemberAxes): their
    lambda_1 are joined with the stages, so only the selection and means are computed."""
    join_stages(config, parts, folder, stage_members)
    return run(config, folder, progress=False)


register(
    Experiment(
        "rate-lyapunov",
        "Max Lyapunov exponent before/after BPTT and e-prop, and flossing before e-prop "
        "(Liu et al. 2024, figures 3-4)",
        RateLyapunovConfig,
        run,
        summary,
        plot=plot,
        tiny=lambda: RateLyapunovConfig(
            **TINY_GRID,
            lyapunov_trajectories=2,
            lyapunov_trials=2,
            flossing_iterations=3,
            flossing_batch_size=2,
        ),
        quick=lambda: RateLyapunovConfig(
            gains=(0.2, 1.0),
            learning_rates=(3e-3,),
            seeds=(0, 1),
            hidden_size=32,
            iterations=300,
            log_every=50,
            test_trials=200,
            lyapunov_trajectories=8,
            lyapunov_trials=4,
            flossing_batch_size=8,
        ),
        members=MemberAxes(AXES, member_rows, gather),
    )
)
