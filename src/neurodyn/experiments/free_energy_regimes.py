"""Simulation 2 of Spisak & Friston (2025): learning regimes over evidence x precision.

Spec ``free-energy-attractor.md`` section 4. Networks of N = 64 units learn the first 10
preprocessed digits (5000 epochs x 10 steps, learning rate 0.001 as in the code), then are
scored for retrieval, one-shot generalisation, number of attractors and orthogonality.

Stages, each one ensemble:

* **cases**: the paper's three example settings (balanced: evidence 11, precision
  0.1668; high precision: 16, 0.359; low precision: 6, 0.0278), one member per seed;
  plus the balanced case with the paper-literal prediction term, to show it fails;
* **grid**: all 20 evidence levels x 19 precisions (380 networks, shared seed);
* **baselines**: the zero-diagonal Hebbian and projector matrices of the patterns,
  rescaled to a range of Frobenius norms, scored at evidence 11 (no training); the paper
  only argues this comparison.

Figures: the four heat maps over temperature 1/precision x evidence (3x3 median filter,
as the paper), the example cases, and the baselines against the learned network.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from scipy.ndimage import median_filter

from neurodyn.analysis import attractors as analysis
from neurodyn.checks import check_positive_int
from neurodyn.config import to_dict
from neurodyn.experiments import Experiment, register
from neurodyn.experiments._stages import Stages
from neurodyn.networks.attractor import FreeEnergyAttractorNetwork
from neurodyn.rules.free_energy import FreeEnergyRule
from neurodyn.runs import RunFolder
from neurodyn.tasks.digits import digit_patterns

CASES = {  # name: (evidence, precision, the authors' saved output)
    "balanced": (
        11.0,
        0.1668,
        {
            "retrieval": 0.292,
            "generalization": 0.070,
            "attractor_count": 10,
            "orthogonality": 17.34,
        },
    ),
    "high precision": (
        16.0,
        0.359,
        {
            "retrieval": 0.270,
            "generalization": -0.0505,
            "attractor_count": 10,
            "orthogonality": 27.57,
        },
    ),
    "low precision": (
        6.0,
        0.0278,
        {
            "retrieval": 0.1645,
            "generalization": 0.0845,
            "attractor_count": 1,
            "orthogonality": None,
        },
    ),
}
PRECISIONS = tuple(float(f"{p:.4g}") for p in np.logspace(-2, 0, 19))
METRICS = ("retrieval", "generalization", "orthogonality", "attractor_count")


@dataclass(frozen=True)
class RegimesConfig:
    case_seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    grid: bool = True
    grid_seed: int = 0
    evidence_levels: tuple[float, ...] = tuple(float(e) for e in range(1, 21))
    precisions: tuple[float, ...] = PRECISIONS
    epochs: int = 5000
    steps_per_epoch: int = 10
    learning_rate: float = 0.001
    trials: int = 100
    eval_steps: int = 100
    baseline_norms: tuple[float, ...] = tuple(float(f"{v:.3g}") for v in np.logspace(0, 2, 13))
    device: str = "cpu"

    def __post_init__(self) -> None:
        for name in ("epochs", "steps_per_epoch", "trials", "eval_steps"):
            check_positive_int(name, getattr(self, name))
        if not self.case_seeds:
            raise ValueError("case_seeds must list at least one seed")
        if min(self.precisions) <= 0 or min(self.evidence_levels) <= 0:
            raise ValueError("precisions and evidence_levels must be positive")


def _train_and_score(
    stages, name, config, evidence, precision, seeds, patterns, progress, prediction="previous"
):
    """One ensemble: learn the digits, then the authors' performance metrics."""
    if stages.done(name):
        return stages.values(name)
    train, test = patterns
    network = FreeEnergyAttractorNetwork(
        64, ensemble_size=len(seeds), precision=precision, device=config.device
    )
    rule = FreeEnergyRule(config.learning_rate, prediction=prediction)
    scale = torch.tensor(evidence, dtype=torch.float32)
    began = time.perf_counter()
    couplings, state = stages.learn(
        name,
        network,
        rule,
        train,
        evidence=scale,
        epochs=config.epochs,
        steps_per_epoch=config.steps_per_epoch,
        seeds=seeds,
        progress=progress,
    )
    trained = time.perf_counter()
    metrics = analysis.evaluate_network(
        network,
        couplings,
        state,
        train,
        test,
        evidence=scale,
        seeds=seeds,
        trials=config.trials,
        steps=config.eval_steps,
    )
    values = metrics.as_lists() | {
        "evidence": list(evidence),
        "precision": list(precision),
        "seeds": list(seeds),
        "norm": couplings.norm(dim=(1, 2)).tolist(),
        "projector_correlation": analysis.coupling_correlations(couplings, train)[
            "projector"
        ].tolist(),
        "train_seconds": trained - began,
        "evaluate_seconds": time.perf_counter() - trained,
    }
    stages.save(name, done=True, values=values, couplings=couplings)
    return values


def _baselines(stages, config, patterns):
    """Hebbian and projector couplings at each Frobenius norm, scored at evidence 11."""
    if stages.done("baselines"):
        return stages.values("baselines")
    train, test = patterns
    kinds = {
        "hebbian": analysis.hebbian_matrix(train),
        "projector": analysis.projector_matrix(train),
    }
    matrices, labels = [], []
    for kind, matrix in kinds.items():
        unit = (matrix / matrix.norm()).float()
        for norm in config.baseline_norms:
            matrices.append(unit.T * norm)  # stored presynaptic x postsynaptic (symmetric)
            labels.append((kind, norm))
    couplings = torch.stack(matrices).to(config.device)
    seeds = [config.grid_seed] * len(labels)
    network = FreeEnergyAttractorNetwork(64, ensemble_size=len(labels), device=config.device)
    metrics = analysis.evaluate_network(
        network,
        couplings,
        network.zero_state(),
        train,
        test,
        evidence=11.0,
        seeds=seeds,
        trials=config.trials,
        steps=config.eval_steps,
    )
    values = metrics.as_lists() | {"kind": [k for k, _ in labels], "norm": [n for _, n in labels]}
    stages.save("baselines", done=True, values=values)
    return values


def run(config: RegimesConfig, folder: RunFolder, progress: bool = True) -> dict:
    stages = Stages(folder)
    train, test, _ = digit_patterns()
    patterns = (train.to(config.device), test.to(config.device))
    # the three example cases train together: one member per (case, seed)
    members = [(case, seed) for case in CASES for seed in config.case_seeds]
    together = _train_and_score(
        stages,
        "cases",
        config,
        [CASES[c][0] for c, _ in members],
        [CASES[c][1] for c, _ in members],
        [s for _, s in members],
        patterns,
        progress,
    )
    cases = {
        case: {
            key: [v for (c, _), v in zip(members, values, strict=True) if c == case]
            for key, values in together.items()
            if isinstance(values, list)
        }
        for case in CASES
    }
    evidence, precision, _ = CASES["balanced"]
    n = len(config.case_seeds)
    cases["balanced, paper's prediction"] = _train_and_score(
        stages,
        "case balanced paper",
        config,
        [evidence] * n,
        [precision] * n,
        list(config.case_seeds),
        patterns,
        progress,
        prediction="paper",
    )
    grid = None
    if config.grid:
        pairs = [(e, p) for e in config.evidence_levels for p in config.precisions]
        grid = _train_and_score(
            stages,
            "grid",
            config,
            [e for e, _ in pairs],
            [p for _, p in pairs],
            [config.grid_seed] * len(pairs),
            patterns,
            progress,
        )
    baselines = _baselines(stages, config, patterns)
    result = summarise(config, cases, grid, baselines)
    folder.write_result(result)
    plot(result, folder)
    return result


def _mean_sd(values: list[float]) -> dict:
    array = np.array(values, dtype=float)
    finite = array[np.isfinite(array)]
    return {
        "mean": float(finite.mean()) if finite.size else None,
        "sd": float(finite.std()) if finite.size else None,
        "values": [None if not np.isfinite(v) else float(v) for v in array],
    }


def summarise(config, cases, grid, baselines) -> dict:
    result = {"experiment": "free-energy-regimes", "config": to_dict(config), "cases": {}}
    for case, values in cases.items():
        paper = CASES.get(case, (None, None, {}))[2]
        result["cases"][case] = {m: _mean_sd(values[m]) for m in (*METRICS, "asymmetry")} | {
            "paper": paper,
            "norm": _mean_sd(values["norm"]),
            "projector_correlation": _mean_sd(values["projector_correlation"]),
        }
    if grid is not None:
        shape = (len(config.evidence_levels), len(config.precisions))
        result["grid"] = {
            m: np.array(grid[m], dtype=float).reshape(shape).tolist() for m in METRICS
        }
        result["grid"]["seconds"] = {
            "train": grid["train_seconds"],
            "evaluate": grid["evaluate_seconds"],
        }
    best = {}
    for kind in ("hebbian", "projector"):
        rows = [i for i, k in enumerate(baselines["kind"]) if k == kind]
        top = max(rows, key=lambda i: baselines["retrieval"][i] + baselines["generalization"][i])
        best[kind] = {m: baselines[m][top] for m in (*METRICS, "norm")}
    result["baselines"] = {"best": best, "all": baselines}
    _, off_diagonal = analysis.data_orthogonality(digit_patterns()[0])
    result["data_orthogonality"] = {"coded": 29.9374, "distinct_pairs": off_diagonal}
    return result


def summary(result: dict) -> str:
    lines = [
        f"{'case':<30}{'retrieval':>16}{'generalization':>18}{'attractors':>13}"
        f"{'orthogonality':>17}   paper (saved output)"
    ]

    def cell(stat, digits=3):
        if stat["mean"] is None:
            return "nan"
        return f"{stat['mean']:.{digits}f}+-{stat['sd']:.{digits}f}"

    for case, row in result["cases"].items():
        paper = row["paper"]
        shown = (
            ", ".join(f"{k[:4]} {v}" for k, v in paper.items()) if paper else "fails (E[dJ] = 0)"
        )
        lines.append(
            f"{case:<30}{cell(row['retrieval']):>16}{cell(row['generalization']):>18}"
            f"{cell(row['attractor_count'], 1):>13}{cell(row['orthogonality'], 1):>17}   {shown}"
        )
    data = result["data_orthogonality"]
    lines.append(
        f"data orthogonality: {data['coded']:.2f} as coded, "
        f"{data['distinct_pairs']:.2f} over distinct pairs"
    )
    for kind, best in result["baselines"]["best"].items():
        lines.append(
            f"{kind} baseline (best ||J|| = {best['norm']:.3g}): "
            f"retrieval {best['retrieval']:.3f}, generalization {best['generalization']:.3f}, "
            f"attractors {best['attractor_count']:.0f}"
        )
    if "grid" in result:
        seconds = result["grid"]["seconds"]
        lines.append(
            f"grid of {len(result['grid']['retrieval']) * len(result['grid']['retrieval'][0])}"
            f" networks: {seconds['train']:.0f} s training, {seconds['evaluate']:.0f} s evaluation"
        )
    return "\n".join(lines)


def plot(result: dict, folder: RunFolder) -> None:
    config = result["config"]
    if "grid" in result:
        fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
        temperature = 1 / np.array(config["precisions"])
        evidence = np.array(config["evidence_levels"])
        styles = {
            "retrieval": ("RdBu_r", (-0.36, 0.36)),
            "generalization": ("RdBu_r", (-0.08, 0.08)),
            "orthogonality": ("viridis_r", (0, 60)),
            "attractor_count": ("viridis", (1, 10)),
        }
        for ax, metric in zip(axes, METRICS, strict=True):
            values = np.array(result["grid"][metric], dtype=float)
            cmap, (low, high) = styles[metric]
            # undefined orthogonality (a single attractor) is drawn at the top of the scale
            smooth = median_filter(np.nan_to_num(values, nan=high), size=3, mode="nearest")
            mesh = ax.pcolormesh(
                temperature, evidence, smooth, cmap=cmap, vmin=low, vmax=high, shading="nearest"
            )
            ax.set_xscale("log")
            ax.set_xlabel("temperature 1 / precision")
            ax.set_ylabel("evidence")
            ax.set_title(metric.replace("_", " "))
            fig.colorbar(mesh, ax=ax)
        fig.tight_layout()
        folder.save_figure(fig, "regimes.png")
        plt.close(fig)
    baselines = result["baselines"]["all"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    balanced = result["cases"]["balanced"]
    for ax, metric in zip(axes, ("retrieval", "generalization", "attractor_count"), strict=True):
        for kind in ("hebbian", "projector"):
            rows = [i for i, k in enumerate(baselines["kind"]) if k == kind]
            ax.plot(
                [baselines["norm"][i] for i in rows],
                [baselines[metric][i] for i in rows],
                "o-",
                label=f"{kind} (no learning)",
            )
        ax.axhline(balanced[metric]["mean"], color="k", linestyle="--", label="learned (balanced)")
        ax.set_xscale("log")
        ax.set_xlabel("||J|| (Frobenius)")
        ax.set_title(metric.replace("_", " "))
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    folder.save_figure(fig, "baselines.png")
    plt.close(fig)


def quick() -> RegimesConfig:
    """Cases and baselines with 2 seeds and 20 retrieval trials; no grid (~1 minute)."""
    return RegimesConfig(case_seeds=(0, 1), grid=False, trials=20)


register(
    Experiment(
        "free-energy-regimes",
        "Learning regimes of free-energy attractor networks on digits (Spisak & Friston, sim. 2)",
        RegimesConfig,
        run,
        summary,
        quick,
    )
)
