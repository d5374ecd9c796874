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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurodyn.checks import check_positive_int
from neurodyn.config import to_dict
from neurodyn.experiments import Experiment, register
from neurodyn.experiments._steering_training import (
    EntangledMNISTFields,
    SteeringRuleFields,
    accuracy_summary,
    check_dataset,
    load_data,
    train_in_folder,
)
from neurodyn.networks.binary import BinarySteeringNetwork
from neurodyn.rules.steering import SteeringRule
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


@dataclass(frozen=True)
class SteeringEMNISTConfig(SteeringRuleFields, EntangledMNISTFields):
    """Defaults: the spec's main configuration (``baseline_1layer_largeP``), seed 17."""

    models: tuple[str, ...] = ("full", "random-features", "reservoir")
    seeds: tuple[int, ...] = (17,)
    hidden_size: int = 1600
    num_layers: int = 1
    self_coupling: float = 0.5
    input_strength: float = 5.0
    internal_strength: float = 1.0
    ferromagnetic_strength: float = 0.0
    tied_feedback: bool = True
    dynamics: str = "synchronous"
    train_sweeps: int = 5
    eval_sweeps: int = 5
    feedback_removal: str = "abrupt"
    steered: bool = True
    readout_label_quirk: bool = False
    epochs: int = 30

    def __post_init__(self) -> None:
        unknown = [m for m in self.models if m not in VARIANTS]
        if unknown or not self.models:
            raise ValueError(
                f"models must be a non-empty subset of {list(VARIANTS)}, got {list(self.models)}"
            )
        if not self.seeds:
            raise ValueError("seeds must list at least one seed")
        for name in (
            "input_bits",
            "train_size",
            "test_size",
            "hidden_size",
            "num_layers",
            "train_sweeps",
            "eval_sweeps",
            "epochs",
            "batch_size",
        ):
            check_positive_int(name, getattr(self, name))
        check_dataset(self.dataset)

    def members(self) -> list[tuple[str, int]]:
        return [(model, seed) for model in self.models for seed in self.seeds]

    def member_names(self) -> list[str]:
        single = len(self.seeds) == 1
        return [model if single else f"{model}/seed{seed}" for model, seed in self.members()]

    def member_values(self, name: str) -> list[float]:
        return [VARIANTS[model].get(name, getattr(self, name)) for model, _ in self.members()]


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


def run(config: SteeringEMNISTConfig, folder: RunFolder, progress: bool = True) -> dict:
    data = load_data(config)
    network, rule = build(config)

    def report(rows: list[dict]) -> None:
        result = summarise(config, rows)
        folder.write_result(result)
        plot(result, rows, folder)

    train_in_folder(
        network,
        rule,
        data,
        folder,
        seeds=[seed for _, seed in config.members()],
        names=config.member_names(),
        epochs=config.epochs,
        batch_size=config.batch_size,
        eval_sweeps=config.eval_sweeps,
        report=report,
        progress=progress,
    )
    return folder.read_result()


def summarise(config: SteeringEMNISTConfig, rows: list[dict]) -> dict:
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
        "experiment": "steering-emnist",
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


def plot(result: dict, rows: list[dict], folder: RunFolder) -> None:
    """Accuracy vs epoch (test solid, train dashed) per model, paper values dotted."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for color, model in zip(colors, result["models"], strict=False):
        names = [m["name"] for m in result["members"] if m["model"] == model]
        for key, style in (("test_accuracy", "-"), ("train_accuracy", "--")):
            series = [[float(r[key]) for r in rows if r["member"] == n] for n in names]
            length = min(len(s) for s in series)
            values = np.array([s[:length] for s in series])
            epochs = np.arange(length)
            label = f"{model} ({key.split('_')[0]})"
            ax.plot(epochs, values.mean(0), style, color=color, label=label)
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
    plt.close(fig)


def quick() -> SteeringEMNISTConfig:
    """A few-minute version: H = 400, 20 000 training images, 8 epochs, J_D = 0 included."""
    return SteeringEMNISTConfig(
        models=("full", "random-features", "reservoir", "no-self-coupling"),
        hidden_size=400,
        train_size=20000,
        epochs=8,
    )


register(
    Experiment(
        "steering-emnist",
        "Steering learner vs random features and reservoir on Entangled MNIST (thesis ch. 4)",
        SteeringEMNISTConfig,
        run,
        summary,
        quick,
    )
)
for baseline in ("random-features", "reservoir"):
    register(
        Experiment(
            f"{baseline}-emnist",
            f"The {baseline} baseline alone (same code and config as steering-emnist)",
            SteeringEMNISTConfig,
            run,
            summary,
            defaults={"models": (baseline,)},
        )
    )
