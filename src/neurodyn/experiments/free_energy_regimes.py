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

``run`` writes ``result.json`` after every stage (the cases first, the grid and the
baselines when they finish); ``plot`` draws what exists: ``regimes.png``, the four heat
maps over temperature 1/precision x evidence (3x3 median filter, as the paper), and
``baselines.png``, the baselines against the learned balanced network.

``neurodyn sweep`` splits the seeds of the example cases (member axis ``seed``, field
``case_seeds``); the grid and the baselines use no case seed and belong to every chunk,
which computes them alike (sweep many seeds with ``--train-grid false``). The table holds
one row per example case and seed (:func:`member_rows`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from neurodyn.analysis import attractors as analysis
from neurodyn.config import Config, option, to_dict
from neurodyn.experiments import Experiment, MemberAxes, register
from neurodyn.experiments._free_energy_regimes_report import METRICS, plot, summary
from neurodyn.experiments._stages import Stages, join_stages
from neurodyn.networks.attractor import FreeEnergyAttractorNetwork
from neurodyn.rules.free_energy import FreeEnergyRule
from neurodyn.runs import RunFolder
from neurodyn.tasks.digits import digit_patterns

SAVED = ("retrieval", "generalization", "attractor_count", "orthogonality")
CASES = {  # name: (evidence, precision, the authors' saved output, in the order of SAVED)
    "balanced": (11.0, 0.1668, dict(zip(SAVED, (0.292, 0.070, 10, 17.34), strict=True))),
    "high precision": (16.0, 0.359, dict(zip(SAVED, (0.270, -0.0505, 10, 27.57), strict=True))),
    "low precision": (6.0, 0.0278, dict(zip(SAVED, (0.1645, 0.0845, 1, None), strict=True))),
}
PRECISIONS = tuple(float(f"{p:.4g}") for p in np.logspace(-2, 0, 19))
EVIDENCE_LEVELS = tuple(float(e) for e in range(1, 21))
BASELINE_NORMS = tuple(float(f"{v:.3g}") for v in np.logspace(0, 2, 13))
PAPER = "balanced, paper's prediction"  # the balanced case with the paper-literal term
STAGES = {  # stage: its members, in the order of its values and tensors
    "cases": lambda c: [(case, seed) for case in CASES for seed in c.case_seeds],
    "case balanced paper": lambda c: list(c.case_seeds),
    "grid": lambda c: [(e, p) for e in c.evidence_levels for p in c.precisions],
    "baselines": lambda c: [(k, n) for k in ("hebbian", "projector") for n in c.baseline_norms],
}


@dataclass(frozen=True)
class RegimesConfig(Config):
    case_seeds: tuple[int, ...] = option(
        (0, 1, 2, 3, 4),
        "seeds of the example cases, one network per (case, seed)",
        minimum=0,
        unique=True,
    )
    train_grid: bool = option(True, "also train the evidence x precision grid, one network a cell")
    grid_seed: int = option(0, "seed shared by every grid network and the baselines", minimum=0)
    evidence_levels: tuple[float, ...] = option(
        EVIDENCE_LEVELS, "evidence levels of the grid (bias scale)", above=0.0, unique=True
    )
    precisions: tuple[float, ...] = option(
        PRECISIONS, "precisions beta (inverse temperatures) of the grid", above=0.0, unique=True
    )
    epochs: int = option(5000, "training epochs on the 10 digits, one random digit each", minimum=1)
    steps_per_epoch: int = option(10, "stochastic update steps per training epoch", minimum=1)
    learning_rate: float = option(
        0.001, "learning rate of the local predictive coupling rule", above=0.0
    )
    trials: int = option(
        100, "noisy retrieval / generalisation trials per network and score", minimum=1
    )
    eval_steps: int = option(
        100, "stochastic steps per retrieval / generalisation trial", minimum=1
    )
    baseline_norms: tuple[float, ...] = option(
        BASELINE_NORMS, "norms ||J||_F of the Hebbian and projector baselines", above=0, unique=True
    )
    device: str = option("cpu", "torch device of the ensembles (cpu, cuda, ...)", device=True)


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
    units = {kind: (matrix / matrix.norm()).float() for kind, matrix in kinds.items()}
    labels = STAGES["baselines"](config)
    # stored presynaptic x postsynaptic (symmetric)
    couplings = torch.stack([units[kind].T * norm for kind, norm in labels]).to(config.device)
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
    """The stages in turn (see the module docstring); result.json is rewritten after each."""
    stages = Stages(folder)
    train, test, _ = digit_patterns()
    patterns = (train.to(config.device), test.to(config.device))
    # the three example cases train together: one member per (case, seed)
    members = STAGES["cases"](config)
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
        }
        for case in CASES
    }
    folder.write_result(summarise(config, cases))
    evidence, precision, _ = CASES["balanced"]
    n = len(config.case_seeds)
    cases[PAPER] = _train_and_score(
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
    folder.write_result(summarise(config, cases))
    grid = None
    if config.train_grid:
        pairs = STAGES["grid"](config)
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
        folder.write_result(summarise(config, cases, grid))
    result = summarise(config, cases, grid, _baselines(stages, config, patterns))
    folder.write_result(result)
    return result


def _mean_sd(values: list[float]) -> dict:
    array = np.array(values, dtype=float)
    finite = array[np.isfinite(array)]
    return {
        "mean": float(finite.mean()) if finite.size else None,
        "sd": float(finite.std()) if finite.size else None,
        "values": [None if not np.isfinite(v) else float(v) for v in array],
    }


def summarise(config, cases, grid=None, baselines=None) -> dict:
    """The result of the stages done so far: per case mean +- sd over seeds next to the
    authors' saved output, the grid's metric maps and the best baseline per kind."""
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
            m: _defined(np.array(grid[m], dtype=float).reshape(shape).tolist()) for m in METRICS
        }
    if baselines is not None:
        best = {}
        for kind in ("hebbian", "projector"):
            rows = [i for i, k in enumerate(baselines["kind"]) if k == kind]
            top = max(
                rows, key=lambda i: baselines["retrieval"][i] + baselines["generalization"][i]
            )
            best[kind] = {m: baselines[m][top] for m in (*METRICS, "norm")}
        result["baselines"] = _defined({"best": best, "all": baselines})
    _, off_diagonal = analysis.data_orthogonality(digit_patterns()[0])
    result["data_orthogonality"] = {"coded": 29.9374, "distinct_pairs": off_diagonal}
    return result


def _defined(value):
    """``value`` with NaN (an undefined metric: the orthogonality of a single attractor)
    as None, so that result.json is strict JSON and results compare with ==."""
    if isinstance(value, dict):
        return {k: _defined(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_defined(v) for v in value]
    return None if isinstance(value, float) and math.isnan(value) else value


def quick() -> RegimesConfig:
    """Cases and baselines with 2 seeds and 20 retrieval trials; no grid (~1 minute)."""
    return RegimesConfig(case_seeds=(0, 1), train_grid=False, trials=20)


ROW_METRICS = (*SAVED, "asymmetry", "norm", "projector_correlation")


def member_rows(config: RegimesConfig, folder: RunFolder) -> list[dict]:
    """Per member (example case, seed) of the stages ``cases`` and ``case balanced paper``:
    seed, case, evidence, precision, then retrieval, generalization, attractor_count,
    orthogonality (NaN where undefined), asymmetry, norm ||J||_F and projector_correlation
    of its learned couplings. (No steps are logged; the grid and baselines have no seed.)"""
    stages, rows = Stages(folder), []
    for stage in ("cases", "case balanced paper"):
        values = stages.values(stage)
        for i, member in enumerate(STAGES[stage](config)):
            case = member[0] if stage == "cases" else PAPER
            rows.append(
                {"seed": values["seeds"][i], "case": case}
                | {k: values[k][i] for k in ("evidence", "precision", *ROW_METRICS)}
            )
    return rows


def gather(config: RegimesConfig, parts: list[RunFolder], folder: RunFolder) -> dict:
    """The result of the whole config from its chunks (see MemberAxes): the case stages
    joined seed by seed; the grid and the baselines use no case seed, so every chunk
    computes them alike and the join takes them whole (the last chunk's copy)."""
    join_stages(config, parts, folder, lambda c, stage: STAGES[stage](c))
    return run(config, folder, progress=False)


register(
    Experiment(
        "free-energy-regimes",
        "Learning regimes of free-energy attractor networks on digits (Spisak & Friston, sim. 2)",
        RegimesConfig,
        run,
        summary,
        quick=quick,
        plot=plot,
        tiny=lambda: RegimesConfig(
            case_seeds=(0, 1),
            epochs=40,
            trials=4,
            eval_steps=10,
            evidence_levels=(5.0, 11.0),
            precisions=(0.05, 0.2),
            baseline_norms=(5.0, 20.0),
        ),
        members=MemberAxes({"seed": "case_seeds"}, member_rows, gather),
    )
)
