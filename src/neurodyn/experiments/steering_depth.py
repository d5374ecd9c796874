"""Depth: ferromagnetic links between layers substitute the self-coupling (thesis sec. 4.5.1).

Scardecchia 2025 (arXiv 2510.11984), section 4.5.1 / Table 4.1; spec ``steering.md`` 1.4.
An L-layer chain x -> s^1 -> ... -> s^L -> y_hat on Entangled MNIST, every layer fed by its
own learned input skip W_in^l x, every earlier layer l < L steered by a fixed feedback skip
W_back^l r(y_hat) and read out by a learned readout skip W_out^l; consecutive layers are
linked one to one by fixed ferromagnetic couplings lambda (s^{l-1}_i + s^{l+1}_i) in the
local field. Two sweeps, trained as **one ensemble** (every member has its own
self-coupling J_D, lambda, lambda_x and seed):

* **substitution**: J_D = 0, lambda over ``ferromagnetic_strengths``. Thesis: learning
  fails for lambda <= 1 (test accuracy about 0.11-0.22) and reaches about 0.85 train /
  0.83 test for lambda >~ 2.5 at lambda_x = 2 (lambda >~ 4 at lambda_x = 5);
* **phase diagram**: best test accuracy on the grid ``phase_self_couplings`` x
  ``phase_ferromagnetic_strengths`` (heat map).

A member in both sweeps is trained once. The rule's hidden stability threshold is
kappa_h + J_D + lambda for L > 1 (the ferromagnetic neighbour contributes about +lambda at
a stable state; authors' ``grid_search.py``, spec 1.4).

Defaults are the authors' ``configs/lambda_advantage.yaml`` and
``scripts/experiments/lambda_advantage.sh``: L = 2, H = 1600, N = 100, all 60 000 / 10 000
images (data seed 17), lambda 0 ... 5 in steps of 0.5, lambda_x in {2, 5}, seeds {0, 1, 2},
30 epochs, B = 16, 7 training (+7 free) and 7 evaluation sweeps, update probability 0.85,
lambda_wback = lambda_wback_skip = 0.9, lambda_wforth = lambda_wforth_skip = 1 (skip
learning rate 0.1), kappa_h = 0.9, kappa_out = 3, eta_J = 0.005, eta_in = 0.03,
eta_W = 0.1, weight decays 0.005 (J, W_out) and 0 (W_in). The phase-diagram grid
J_D in {0, ..., 0.7} x lambda in {0, ..., 5} is the one of the commented-out phase-diagram
command in the same script (which uses 20 epochs and seeds {0, 1}; we keep one epoch
budget and seed list for the whole ensemble). The thesis reports the best epoch's test
accuracy (``max_eval_acc``), and so does the headline here; final accuracies are kept too.
At the defaults the ensemble has 294 members of 2 x 1600^2 couplings (6 GB in float32):
a GPU run, or narrow the grids.

``run`` writes ``metrics.csv`` (accuracies per member and epoch) and ``result.json`` after
every epoch; ``plot`` draws ``substitution.png`` and ``phase_diagram.png`` from result.json.
``neurodyn sweep`` splits the members along lambda_x and seed (the member axes), each chunk
training every (J_D, lambda) point of both sweeps: these points are a union of two grids,
not a product of config fields, so they cannot be split into configs; the chunks' metric
rows are joined member by member.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurodyn.config import option, to_dict
from neurodyn.experiments import Experiment, register
from neurodyn.experiments._steering_data import TINY_DATA, EntangledMNISTFields
from neurodyn.experiments._steering_training import (
    SteeringRuleFields,
    accuracy_summary,
    check_train_sweeps,
    member_axes,
    shared_fields,
    shared_option,
    train_in_folder,
)
from neurodyn.networks.binary import BinarySteeringNetwork
from neurodyn.plotting import colors, figure
from neurodyn.rules.steering import SteeringRule
from neurodyn.runs import RunFolder

PAPER = {
    "low_lambda": {
        "test": (0.11, 0.22),
        "note": "thesis: J_D = 0, lambda <= 1 fails (~0.11-0.22 test)",
    },
    "high_lambda": {
        "test": 0.83,
        "train": 0.85,
        "note": "thesis: J_D = 0 reaches ~0.83 test / ~0.85 train for lambda >~ 2.5 "
        "(lambda_x = 2) or lambda >~ 4 (lambda_x = 5); H = 1600, best epoch",
    },
}
LOW_LAMBDA, HIGH_LAMBDA = 1.0, 3.0  # the headline's "lambda <= 1 fails, lambda >= 3 works"
AXES = {"input_strength": "input_strengths", "seed": "seeds"}  # member axes of neurodyn sweep
MEMBER_KEYS = ("self_coupling", "ferromagnetic_strength", "input_strength", "seed")


@dataclass(frozen=True)
class SteeringDepthConfig(SteeringRuleFields, EntangledMNISTFields):
    """Defaults: the authors' ``lambda_advantage`` configuration (module docstring)."""

    ferromagnetic_strengths: tuple[float, ...] = option(
        tuple(0.5 * k for k in range(11)),
        "lambda values of the substitution sweep (at J_D = 0), inter-layer couplings",
        minimum=0.0,
        unique=True,
    )
    phase_self_couplings: tuple[float, ...] = option(
        tuple(round(0.1 * k, 1) for k in range(8)),
        "J_D values, the phase diagram's rows",
        unbounded=True,
        unique=True,
    )
    phase_ferromagnetic_strengths: tuple[float, ...] = option(
        (0.0, 1.0, 2.0, 3.0, 4.0, 5.0),
        "lambda values, the phase diagram's columns",
        minimum=0.0,
        unique=True,
    )
    input_strengths: tuple[float, ...] = option(
        (2.0, 5.0),
        "lambda_x values (scale of every layer's W_in); both sweeps run at each",
        above=0.0,
        unique=True,
    )
    seeds: tuple[int, ...] = option(
        (0, 1, 2), "network seeds per (J_D, lambda, lambda_x) point", minimum=0, unique=True
    )
    hidden_size: int = option(1600, "H, hidden units per layer", minimum=1)
    num_layers: int = option(
        2, "L, hidden layers (at least 2: the links need a neighbour)", minimum=2
    )
    feedback_skip_strength: float = shared_option(0.9, "feedback_skip_strength")
    readout_skip_strength: float = shared_option(1.0, "readout_skip_strength")
    update_probability: float = option(
        0.85,
        "p_update, probability that a unit updates in a synchronous sweep (authors': 0.85)",
        above=0.0,
        maximum=1.0,
    )
    dynamics: str = shared_option("synchronous", "dynamics")
    readout_skip_learning_rate: float = shared_option(0.1, "readout_skip_learning_rate")
    train_sweeps: int = shared_option(7, "train_sweeps")
    eval_sweeps: int = shared_option(7, "eval_sweeps")
    epochs: int = shared_option(30, "epochs")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_train_sweeps(self)

    def members(self) -> list[tuple[float, float, float, int]]:
        """(J_D, lambda, lambda_x, seed) of every member: the substitution sweep at J_D = 0,
        then the phase-diagram points it does not already hold."""
        substitution = [(0.0, lam) for lam in self.ferromagnetic_strengths]
        phase = [
            (j, lam)
            for j in self.phase_self_couplings
            for lam in self.phase_ferromagnetic_strengths
        ]
        points = list(dict.fromkeys(substitution + phase))
        return [
            (j, lam, x, s) for j, lam in points for x in self.input_strengths for s in self.seeds
        ]

    def member_names(self) -> list[str]:
        return [_name(*member) for member in self.members()]


def _name(self_coupling: float, ferromagnetic: float, input_strength: float, seed: int) -> str:
    return f"J_D={self_coupling:g}/lambda={ferromagnetic:g}/lambda_x={input_strength:g}/seed={seed}"


def build(config: SteeringDepthConfig) -> tuple[BinarySteeringNetwork, SteeringRule]:
    """One ensemble network (per-member J_D, lambda, lambda_x) and the shared rule."""
    members = config.members()
    network = BinarySteeringNetwork(
        config.input_bits,
        num_classes=10,
        ensemble_size=len(members),
        self_coupling=[m[0] for m in members],
        ferromagnetic_strength=[m[1] for m in members],
        input_strength=[m[2] for m in members],
        **shared_fields(config, BinarySteeringNetwork),
    )
    rule = SteeringRule(**shared_fields(config, SteeringRule))
    return network, rule


def run(config: SteeringDepthConfig, folder: RunFolder, progress: bool = True) -> dict:
    """Train every (J_D, lambda, lambda_x, seed) member; metrics.csv and result.json after
    every epoch."""
    network, rule = build(config)
    return train_in_folder(
        config,
        network,
        rule,
        folder,
        seeds=[member[3] for member in config.members()],
        names=config.member_names(),
        summarise=summarise,
        progress=progress,
    )


def _cell(members: list[dict]) -> dict:
    """Mean and standard error over seeds of one (J_D, lambda, lambda_x) point."""
    summary = {"seeds": len(members)}
    for key in ("best_test_accuracy", "final_test_accuracy", "best_train_accuracy"):
        values = np.array([m[key] for m in members])
        spread = values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else None
        summary[key] = float(values.mean())
        summary[f"{key}_standard_error"] = None if spread is None else float(spread)
    return summary


def summarise(config: SteeringDepthConfig, rows: list[dict]) -> dict:
    """Per-member accuracies, the substitution curve, the phase diagram and the headline."""
    members = [
        {"name": name, "self_coupling": j, "ferromagnetic_strength": lam}
        | {"input_strength": x, "seed": seed}
        | accuracy_summary(rows, name)
        for (j, lam, x, seed), name in zip(config.members(), config.member_names(), strict=True)
    ]

    def cell(j: float, lam: float, x: float) -> dict:
        return _cell(
            [
                m
                for m in members
                if (m["self_coupling"], m["ferromagnetic_strength"], m["input_strength"])
                == (j, lam, x)
            ]
        )

    substitution, phase, headline = {}, {}, {}
    for x in config.input_strengths:
        curve = [
            {"ferromagnetic_strength": lam} | cell(0.0, lam, x)
            for lam in config.ferromagnetic_strengths
        ]
        substitution[f"{x:g}"] = curve
        phase[f"{x:g}"] = [
            [cell(j, lam, x)["best_test_accuracy"] for lam in config.phase_ferromagnetic_strengths]
            for j in config.phase_self_couplings
        ]
        low = [c["best_test_accuracy"] for c in curve if c["ferromagnetic_strength"] <= LOW_LAMBDA]
        high = [
            c["best_test_accuracy"] for c in curve if c["ferromagnetic_strength"] >= HIGH_LAMBDA
        ]
        headline[f"{x:g}"] = {
            "best_test_at_lambda_at_most_1": max(low, default=None),
            "worst_test_at_lambda_at_least_3": min(high, default=None),
        }
    return {
        "experiment": "steering-depth",
        "config": to_dict(config),
        "members": members,
        "substitution": substitution,
        "phase_diagram": {
            "self_couplings": list(config.phase_self_couplings),
            "ferromagnetic_strengths": list(config.phase_ferromagnetic_strengths),
            "best_test_accuracy": phase,
        },
        "headline": headline,
        "paper": PAPER,
    }


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def summary(result: dict) -> str:
    config = result["config"]
    lines = [
        f"L = {config['num_layers']}, H = {config['hidden_size']}, J_D = 0; mean best-epoch "
        "test accuracy over seeds (final test, best train)"
    ]
    for x, curve in result["substitution"].items():
        lines.append(f"lambda_x = {x}:")
        for c in curve:
            lines.append(
                f"  lambda = {c['ferromagnetic_strength']:<5g}{c['best_test_accuracy']:.4f}"
                f"  ({c['final_test_accuracy']:.4f}, {c['best_train_accuracy']:.4f})"
            )
        head = result["headline"][x]
        lines.append(
            f"  lambda <= 1: best {_fmt(head['best_test_at_lambda_at_most_1'])} "
            f"[{PAPER['low_lambda']['note']}]"
        )
        lines.append(
            f"  lambda >= 3: worst {_fmt(head['worst_test_at_lambda_at_least_3'])} "
            f"[{PAPER['high_lambda']['note']}]"
        )
    diagram = result["phase_diagram"]
    for x, grid in diagram["best_test_accuracy"].items():
        lines.append(f"phase diagram, lambda_x = {x} (rows J_D, columns lambda):")
        lines.append(
            "  J_D \\ lambda " + "".join(f"{lam:>7g}" for lam in diagram["ferromagnetic_strengths"])
        )
        for j, row in zip(diagram["self_couplings"], grid, strict=True):
            lines.append(f"  {j:<12g}" + "".join(f"{v:>7.3f}" for v in row))
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """``substitution.png`` (best-epoch accuracy vs lambda at J_D = 0, mean +- standard
    error over seeds) and ``phase_diagram.png`` (best test accuracy over J_D x lambda)."""
    result = folder.read_result()
    _plot_substitution(result, folder)
    _plot_phase_diagram(result["phase_diagram"], folder)


def _plot_substitution(result: dict, folder: RunFolder) -> None:
    fig, axes = figure(1, 1, size=(7, 4.5), squeeze=False)
    ax = axes[0][0]
    for color, (x, curve) in zip(colors(), result["substitution"].items(), strict=False):
        lam = [c["ferromagnetic_strength"] for c in curve]
        for key, style, kind in (
            ("best_test_accuracy", "o-", "test"),
            ("best_train_accuracy", "s--", "train"),
        ):
            errors = [c[f"{key}_standard_error"] or 0.0 for c in curve]
            values = [c[key] for c in curve]
            label = f"$\\lambda_x$={x} ({kind})"
            ax.errorbar(lam, values, errors, fmt=style, ms=4, color=color, capsize=2, label=label)
    ax.axhline(PAPER["high_lambda"]["test"], color="grey", linestyle=":", label="thesis ~0.83")
    ax.axhspan(
        *PAPER["low_lambda"]["test"], color="grey", alpha=0.15, label="thesis, $\\lambda\\leq1$"
    )
    ax.set_xlabel("ferromagnetic strength $\\lambda$")
    ax.set_ylabel("accuracy (best epoch)")
    ax.set_ylim(0, 1)
    config = result["config"]
    ax.set_title(f"J_D = 0, L = {config['num_layers']}, H = {config['hidden_size']}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    folder.save_figure(fig, "substitution.png")


def _plot_phase_diagram(diagram: dict, folder: RunFolder) -> None:
    grids = diagram["best_test_accuracy"]
    fig, axes = figure(1, len(grids), size=(5.5 * len(grids), 4.5), squeeze=False)
    lam, self_couplings = diagram["ferromagnetic_strengths"], diagram["self_couplings"]
    for ax, (x, grid) in zip(axes[0], grids.items(), strict=True):
        image = ax.imshow(
            np.array(grid), origin="lower", aspect="auto", vmin=0.0, vmax=1.0, cmap="viridis"
        )
        for r, row in enumerate(grid):
            for c, value in enumerate(row):
                shade = "white" if value < 0.5 else "black"
                ax.text(c, r, f"{value:.2f}", ha="center", va="center", fontsize=7, color=shade)
        ax.set_xticks(range(len(lam)), [f"{v:g}" for v in lam])
        ax.set_yticks(range(len(self_couplings)), [f"{v:g}" for v in self_couplings])
        ax.set_xlabel("ferromagnetic strength $\\lambda$")
        ax.set_ylabel("self-coupling $J_D$")
        ax.set_title(f"best test accuracy, $\\lambda_x$ = {x}")
        fig.colorbar(image, ax=ax)
    fig.tight_layout()
    folder.save_figure(fig, "phase_diagram.png")


def quick() -> SteeringDepthConfig:
    """Well under a minute: H = 100, 6000 / 1000 images, 2 epochs, one seed, lambda_x = 2,
    lambda in {0, 1, 3, 5} at J_D = 0 and J_D in {0, 0.5} x lambda in {0, 3}."""
    return SteeringDepthConfig(
        ferromagnetic_strengths=(0.0, 1.0, 3.0, 5.0),
        phase_self_couplings=(0.0, 0.5),
        phase_ferromagnetic_strengths=(0.0, 3.0),
        input_strengths=(2.0,),
        seeds=(0,),
        train_size=6000,
        test_size=1000,
        hidden_size=100,
        epochs=2,
    )


def tiny() -> SteeringDepthConfig:
    """Seconds: H = 20 on 100 / 50 synthetic prototypes, 2 epochs, two seeds, lambda in
    {0, 3} at J_D = 0 and J_D in {0, 0.5} at lambda = 3."""
    return SteeringDepthConfig(
        ferromagnetic_strengths=(0.0, 3.0),
        phase_self_couplings=(0.0, 0.5),
        phase_ferromagnetic_strengths=(3.0,),
        input_strengths=(2.0,),
        seeds=(0, 1),
        hidden_size=20,
        epochs=2,
        **TINY_DATA,
    )


register(
    Experiment(
        "steering-depth",
        "Two-layer steering nets: ferromagnetic links substitute J_D; J_D x lambda phase diagram",
        SteeringDepthConfig,
        run,
        summary,
        plot=plot,
        tiny=tiny,
        quick=quick,
        members=member_axes(AXES, summarise, MEMBER_KEYS),
    )
)
