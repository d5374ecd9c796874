"""Steering learner on Entangled MNIST, with its baselines, as one ensemble.

Reproduces the single-layer results of the thesis (Scardecchia 2025, arXiv 2510.11984;
spec ``steering.md`` sections 3.2, 5, 6.4): the full model (learned J and W_in,
transient steering), and through the same code and the same seeds the readout-only
baselines **random features** (lambda_internal = 0, no feedback: h = sign(W_in x)) and
**reservoir** (fixed random recurrent net with J_D, no feedback), and the **J_D = 0**
ablation. Every (model, seed) pair is one member of a single ensemble.

The authors run the random-features baseline with 2 training sweeps; with
lambda_internal = 0 and no feedback the hidden state is sign(W_in x) after the first
sweep whatever the budget, so sharing the full model's sweep budget changes nothing.

``run`` writes ``metrics.csv`` (accuracies per member and epoch) and ``result.json`` after
every epoch; ``plot`` draws ``accuracy.png`` from those two files. ``neurodyn sweep``
splits the members along (model, seed) and joins the chunks' metric rows.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np

from neurodyn.config import Config, option, to_dict
from neurodyn.experiments import Experiment, register
from neurodyn.experiments._steering_data import TINY_DATA, EntangledMNISTFields
from neurodyn.experiments._steering_training import (
    SteeringRuleFields,
    accuracy_summary,
    check_train_sweeps,
    member_axes,
    shared_option,
    train_in_folder,
)
from neurodyn.networks.binary import BinarySteeringNetwork
from neurodyn.plotting import colors, figure
from neurodyn.rules.steering import FEEDBACK_REMOVAL, SteeringRule
from neurodyn.runs import RunFolder

VARIANTS: dict[str, dict[str, float]] = {
    "full": {},
    "random-features": {
        "internal_strength": 0.0,
        "feedback_strength": 0.0,
        "coupling_learning_rate": 0.0,
        "input_learning_rate": 0.0,
    },
    "reservoir": {
        "feedback_strength": 0.0,
        "coupling_learning_rate": 0.0,
        "input_learning_rate": 0.0,
    },
    "no-self-coupling": {"self_coupling": 0.0},
}
PAPER = {
    "full": {
        "test": 0.88,
        "train": 0.90,
        "note": "thesis: ~0.88 test / ~0.90 train, H=1600, best epoch",
    },
    "random-features": {"test": 0.82, "note": "thesis: ~82%"},
    "reservoir": {"test": 0.80, "note": "thesis: ~80%"},
    "no-self-coupling": {
        "test": 0.43,
        "note": "thesis: J_D=0 with feedback removal fails, 0.12-0.43",
    },
}
NETWORK_MEMBER_FIELDS = (
    "self_coupling",
    "input_strength",
    "feedback_strength",
    "internal_strength",
)
RULE_MEMBER_FIELDS = (
    "hidden_threshold",
    "readout_threshold",
    "coupling_learning_rate",
    "input_learning_rate",
    "readout_learning_rate",
)
AXES = {"model": "models", "seed": "seeds"}  # member axes of neurodyn sweep


@dataclass(frozen=True)
class SteeringModelFields(Config):
    """Config fields of the ensemble (models x seeds), its network and its training length,
    shared with ``steering-harder``; defaults: the spec's main configuration."""

    models: tuple[str, ...] = option(
        ("full", "random-features", "reservoir"),
        "models trained side by side: full (learned J and W_in, steered), random-features "
        "(lambda_internal = 0, no feedback), reservoir (fixed J, no feedback), "
        "no-self-coupling (J_D = 0)",
        choices=VARIANTS,
        unique=True,
    )
    seeds: tuple[int, ...] = option(
        (17,),
        "network seeds; every (model, seed) pair is one ensemble member",
        minimum=0,
        unique=True,
    )
    hidden_size: int = option(
        1600, "H, hidden units per layer (thesis main setting 1600)", minimum=1
    )
    num_layers: int = option(1, "L, hidden layers in the chain", minimum=1)
    self_coupling: float = option(
        0.5, "J_D, fixed diagonal of J (thesis main value 0.5)", unbounded=True
    )
    input_strength: float = option(
        5.0, "lambda_x, scale of the input weights W_in ~ N(0, 1/N)", above=0.0
    )
    internal_strength: float = option(
        1.0, "lambda_internal, multiplies J including J_D (0 gives random features)", minimum=0.0
    )
    ferromagnetic_strength: float = option(
        0.0, "lambda, one-to-one couplings between consecutive layers (L > 1)", minimum=0.0
    )
    tied_feedback: bool = option(
        True, "draw W_back and W_out from one Gaussian matrix, as the authors' code"
    )
    dynamics: str = shared_option("synchronous", "dynamics")
    train_sweeps: int = shared_option(5, "train_sweeps")
    eval_sweeps: int = shared_option(5, "eval_sweeps")
    feedback_removal: str = option(
        "abrupt",
        "how W_back leaves in the free phase: abrupt (authors' code) or ramp (linear)",
        choices=FEEDBACK_REMOVAL,
    )
    steered: bool = option(
        True, "plasticity on the free state after the feedback is removed (false: clamped state)"
    )
    readout_label_quirk: bool = option(
        False, "readout target r(r(y)) of the authors' code instead of +-1 (spec 3.1)"
    )
    epochs: int = shared_option(30, "epochs")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_train_sweeps(self)

    def members(self) -> list[tuple[str, int]]:
        return [(model, seed) for model in self.models for seed in self.seeds]

    def member_names(self) -> list[str]:
        single = len(self.seeds) == 1
        return [model if single else f"{model}/seed{seed}" for model, seed in self.members()]

    def member_values(self, name: str) -> list[float]:
        return [VARIANTS[model].get(name, getattr(self, name)) for model, _ in self.members()]


@dataclass(frozen=True)
class SteeringEMNISTConfig(SteeringModelFields, SteeringRuleFields, EntangledMNISTFields):
    """Defaults: the spec's main configuration (``baseline_1layer_largeP``), seed 17."""


def build(config: SteeringEMNISTConfig) -> tuple[BinarySteeringNetwork, SteeringRule]:
    """The ensemble network and rule for ``config`` (one member per model and seed)."""
    network = BinarySteeringNetwork(
        config.input_bits,
        config.hidden_size,
        10,
        num_layers=config.num_layers,
        ensemble_size=len(config.members()),
        readout_strength=config.readout_strength,
        label_strength=config.label_strength,
        ferromagnetic_strength=config.ferromagnetic_strength,
        tied_feedback=config.tied_feedback,
        update_probability=config.update_probability,
        dynamics=config.dynamics,
        device=config.device,
        **{name: config.member_values(name) for name in NETWORK_MEMBER_FIELDS},
    )
    rule = SteeringRule(
        coupling_weight_decay=config.coupling_weight_decay,
        input_weight_decay=config.input_weight_decay,
        readout_weight_decay=config.readout_weight_decay,
        train_sweeps=config.train_sweeps,
        feedback_removal=config.feedback_removal,
        steered=config.steered,
        readout_label_quirk=config.readout_label_quirk,
        **{name: tuple(config.member_values(name)) for name in RULE_MEMBER_FIELDS},
    )
    return network, rule


def run(
    config: SteeringEMNISTConfig,
    folder: RunFolder,
    progress: bool = True,
    *,
    experiment: str = "steering-emnist",
) -> dict:
    """Train every (model, seed) member; metrics.csv and result.json after every epoch.
    ``experiment`` is the registered name the result carries (a baseline preset's)."""
    network, rule = build(config)
    return train_in_folder(
        config,
        network,
        rule,
        folder,
        seeds=[seed for _, seed in config.members()],
        names=config.member_names(),
        summarise=functools.partial(summarise, experiment=experiment),
        progress=progress,
    )


def summarise(
    config: SteeringEMNISTConfig, rows: list[dict], experiment: str = "steering-emnist"
) -> dict:
    """Final and best-epoch accuracies per member and per model, next to the paper."""
    members = [
        {"name": name, "model": model, "seed": seed} | accuracy_summary(rows, name)
        for (model, seed), name in zip(config.members(), config.member_names(), strict=True)
    ]
    models = {}
    for model in config.models:
        mine = [m for m in members if m["model"] == model]
        models[model] = {
            key: float(np.mean([m[key] for m in mine]))
            for key in ("final_test_accuracy", "best_test_accuracy", "final_train_accuracy")
        } | {"seeds": len(mine), "paper": PAPER[model]}
    return {
        "experiment": experiment,
        "config": to_dict(config),
        "members": members,
        "models": models,
    }


def summary(result: dict) -> str:
    lines = [
        f"{'model':<24}{'final test':>11}{'best test (epoch)':>19}{'final train':>13}   paper",
    ]
    for m in result["members"]:
        paper = PAPER[m["model"]]["note"]
        lines.append(
            f"{m['name']:<24}{m['final_test_accuracy']:>11.4f}"
            f"{m['best_test_accuracy']:>12.4f} ({m['best_epoch']:>3})"
            f"{m['final_train_accuracy']:>13.4f}   {paper}"
        )
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """``accuracy.png``: accuracy vs epoch (test solid, train dashed) per model, the mean
    over seeds with a min-max band, the thesis's test accuracy dotted."""
    result, rows = folder.read_result(), folder.read_metrics()
    fig, axes = figure(1, 1, size=(7, 4.5), squeeze=False)
    ax = axes[0][0]
    for color, model in zip(colors(), result["models"], strict=False):
        names = [m["name"] for m in result["members"] if m["model"] == model]
        for key, style in (("test_accuracy", "-"), ("train_accuracy", "--")):
            series = [[float(r[key]) for r in rows if r["member"] == n] for n in names]
            length = min(len(s) for s in series)
            values = np.array([s[:length] for s in series])
            epochs = np.arange(length)
            label = f"{model} ({key.split('_')[0]})"
            marker = "o" if length == 1 else None  # a run stopped after its first evaluation
            ax.plot(epochs, values.mean(0), style, marker=marker, color=color, label=label)
            if len(names) > 1:
                ax.fill_between(epochs, values.min(0), values.max(0), color=color, alpha=0.15)
        ax.axhline(PAPER[model]["test"], color=color, linestyle=":", linewidth=1)
    trained = [
        float(r[key])
        for r in rows
        if int(r["epoch"]) >= 1
        for key in ("train_accuracy", "test_accuracy")
    ]
    if trained:  # scale to the trained epochs; epoch 0 (chance) falls below the axis
        ax.set_ylim(max(0.0, min(trained) - 0.03), min(1.0, max(trained) + 0.02))
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    hidden = result["config"]["hidden_size"]
    ax.set_title(f"Entangled MNIST, H={hidden} (dotted: thesis test accuracy)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    folder.save_figure(fig, "accuracy.png")


def quick() -> SteeringEMNISTConfig:
    """A few-minute version: H = 400, 20 000 training images, 8 epochs, J_D = 0 included."""
    return SteeringEMNISTConfig(
        models=("full", "random-features", "reservoir", "no-self-coupling"),
        hidden_size=400,
        train_size=20000,
        epochs=8,
    )


def tiny() -> SteeringEMNISTConfig:
    """Seconds: every model, two seeds, H = 30 on 100 / 50 synthetic prototypes, 2 epochs."""
    return SteeringEMNISTConfig(
        models=tuple(VARIANTS),
        seeds=(0, 1),
        hidden_size=30,
        epochs=2,
        **TINY_DATA,
    )


register(
    Experiment(
        "steering-emnist",
        "Steering learner vs random features and reservoir on Entangled MNIST (thesis ch. 4)",
        SteeringEMNISTConfig,
        run,
        summary,
        plot=plot,
        tiny=tiny,
        quick=quick,
        members=member_axes(AXES, summarise),
    )
)
for baseline in ("random-features", "reservoir"):
    register(
        Experiment(
            f"{baseline}-emnist",
            f"The {baseline} baseline alone (same code and config as steering-emnist)",
            SteeringEMNISTConfig,
            functools.partial(run, experiment=f"{baseline}-emnist"),
            summary,
            plot=plot,
            tiny=lambda baseline=baseline: replace(tiny(), models=(baseline,)),
            members=member_axes(
                AXES, functools.partial(summarise, experiment=f"{baseline}-emnist")
            ),
            defaults={"models": (baseline,)},
        )
    )
