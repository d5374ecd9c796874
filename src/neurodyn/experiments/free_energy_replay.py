"""Simulation 4 of Spisak & Friston (2025): replay with learning at zero bias.

Spec ``free-energy-attractor.md`` section 4. The balanced network of simulation 2
(evidence 11, precision 0.1668, 5000 epochs x 10 steps) keeps learning for 50 000 steps
with zero bias. The authors' notebook switches to precision 1 for this free run, while
the paper says nothing changes; both are run, one ensemble member per (seed, replay
precision). Measured: the correlation of the upper-triangle couplings before and after
(paper 0.97), and retrieval, generalisation and attractors before and after.

Two stages, each checkpointed: ``run`` writes ``result.json`` and the first member's
couplings to ``arrays.safetensors`` after training (``before``) and again after the
replay (``after``); ``plot`` draws ``replay.png`` from what exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from neurodyn.analysis import attractors as analysis
from neurodyn.config import Config, option, to_dict
from neurodyn.experiments import Experiment, register
from neurodyn.experiments._stages import Stages
from neurodyn.networks.attractor import FreeEnergyAttractorNetwork
from neurodyn.plotting import figure
from neurodyn.rules.free_energy import FreeEnergyRule
from neurodyn.runs import RunFolder
from neurodyn.tasks.digits import digit_patterns


@dataclass(frozen=True)
class ReplayConfig(Config):
    seeds: tuple[int, ...] = option(
        (0, 1, 2), "seeds; one network per (seed, replay precision)", minimum=0, unique=True
    )
    evidence: float = option(11.0, "evidence: the bias is evidence x digit while shown", above=0.0)
    precision: float = option(
        0.1668, "precision beta (inverse temperature) during training", above=0.0
    )
    replay_precisions: tuple[float, ...] = option(
        (1.0, 0.1668),
        "precisions of the free run (notebook: 1; paper: unchanged)",
        above=0.0,
        unique=True,
    )
    learning_rate: float = option(
        0.001, "learning rate of the local predictive coupling rule", above=0.0
    )
    epochs: int = option(5000, "training epochs on the 10 digits, one random digit each", minimum=1)
    steps_per_epoch: int = option(10, "stochastic update steps per training epoch", minimum=1)
    replay_steps: int = option(50_000, "steps of replay: learning on at zero bias", minimum=1)
    trials: int = option(
        100, "noisy retrieval / generalisation trials per member and score", minimum=1
    )
    device: str = option("cpu", "torch device of the ensembles (cpu, cuda, ...)", device=True)


def _upper(couplings: torch.Tensor) -> torch.Tensor:
    n = couplings.shape[-1]
    rows, cols = torch.triu_indices(n, n, offset=1)
    return couplings.transpose(1, 2)[:, rows, cols]  # paper layout J[i, j], i < j


def run(config: ReplayConfig, folder: RunFolder, progress: bool = True) -> dict:
    """Train on the digits (stage ``train``), score, replay with learning at zero bias
    (stage ``replay``) and score again; result.json is written after each stage."""
    stages = Stages(folder)
    train, test, _ = digit_patterns()
    pairs = [(seed, beta) for beta in config.replay_precisions for seed in config.seeds]
    seeds = [seed for seed, _ in pairs]
    rule = FreeEnergyRule(config.learning_rate)
    learner = FreeEnergyAttractorNetwork(
        64, ensemble_size=len(pairs), precision=config.precision, device=config.device
    )
    train, test = train.to(learner.device), test.to(learner.device)
    before, state = stages.learn(
        "train",
        learner,
        rule,
        train,
        evidence=config.evidence,
        epochs=config.epochs,
        steps_per_epoch=config.steps_per_epoch,
        seeds=seeds,
        progress=progress,
    )
    metrics_before = analysis.evaluate_network(
        learner,
        before,
        state,
        train,
        test,
        evidence=config.evidence,
        seeds=seeds,
        trials=config.trials,
    )
    result = {
        "experiment": "free-energy-replay",
        "config": to_dict(config),
        "members": [{"seed": s, "replay_precision": p} for s, p in pairs],
        "paper_correlation": 0.97,
        "before": metrics_before.as_lists(),
    }
    folder.write_arrays({"before": before[0]})
    folder.write_result(result)
    replayer = FreeEnergyAttractorNetwork(
        64,
        ensemble_size=len(pairs),
        precision=[beta for _, beta in pairs],
        device=config.device,
    )
    silence = torch.zeros(1, 64, device=replayer.device)
    replay_seeds = [seed + 10_000 for seed in seeds]  # samples independent of training
    after, state = stages.learn(
        "replay",
        replayer,
        rule,
        silence,
        evidence=0.0,
        epochs=config.replay_steps // 10,
        steps_per_epoch=10,
        seeds=replay_seeds,
        progress=progress,
        couplings=before,
        state=state,
    )
    metrics_after = analysis.evaluate_network(
        learner,
        after,
        state,
        train,
        test,
        evidence=config.evidence,
        seeds=seeds,
        trials=config.trials,
    )
    before, after = before.cpu(), after.cpu()
    a, b = _upper(before), _upper(after)
    correlation = [
        float(torch.corrcoef(torch.stack([x, y]))[0, 1]) for x, y in zip(a, b, strict=True)
    ]
    result.update(
        coupling_correlation=correlation,
        norm_ratio=(after.norm(dim=(1, 2)) / before.norm(dim=(1, 2))).tolist(),
        after=metrics_after.as_lists(),
    )
    folder.write_arrays({"before": before[0], "after": after[0]})
    folder.write_result(result)
    return result


SCORES = (  # (name in the summary, key of the scores)
    ("retrieval", "retrieval"),
    ("generalization", "generalization"),
    ("attractors", "attractor_count"),
)


def summary(result: dict) -> str:
    """Per replay precision, means over seeds: the coupling correlation before/after and
    the scores before -> after (before only while the replay stage is running)."""
    lines = []
    for beta in result["config"]["replay_precisions"]:
        rows = [i for i, m in enumerate(result["members"]) if m["replay_precision"] == beta]

        def mean(values, rows=rows):
            return float(np.nanmean([values[i] for i in rows]))

        if "after" not in result:
            scores = ", ".join(f"{name} {mean(result['before'][key]):.3f}" for name, key in SCORES)
            lines.append(f"trained (replay at precision {beta:g} not finished): {scores}")
            continue
        correlation = mean(result["coupling_correlation"])
        changes = ", ".join(
            f"{name} {mean(result['before'][key]):.3f} -> {mean(result['after'][key]):.3f}"
            for name, key in SCORES
        )
        lines.append(
            f"replay at precision {beta:g}: J before/after r = {correlation:.3f} (paper 0.97), "
            f"||J|| x {mean(result['norm_ratio']):.2f}; {changes}"
        )
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """``replay.png`` (the paper's figure of simulation 4), first member: J before and
    after replay on one colour scale, and the upper-triangle couplings after vs before.
    Before the replay stage has finished, only the first panel is drawn."""
    result = folder.read_result()
    arrays = folder.read_arrays()
    fig, axes = figure(1, 3, size=(13, 4))
    before, after = arrays["before"], arrays.get("after")
    limit = float(before.abs().max())
    for ax, (name, J) in zip(
        axes, (("before replay", before), ("after replay", after)), strict=False
    ):
        ax.set_axis_off()
        if J is not None:
            ax.imshow(J.T.numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(name)
    if after is None:
        axes[2].set_axis_off()
    else:
        a, b = _upper(before[None])[0].numpy(), _upper(after[None])[0].numpy()
        axes[2].scatter(a, b, s=2, alpha=0.4)
        axes[2].plot([a.min(), a.max()], [a.min(), a.max()], "k--", linewidth=1)
        axes[2].set_xlabel("J before")
        axes[2].set_ylabel("J after")
        axes[2].set_title(f"r = {result['coupling_correlation'][0]:.3f}")
    fig.tight_layout()
    folder.save_figure(fig, "replay.png")


register(
    Experiment(
        "free-energy-replay",
        "Replay with learning at zero bias keeps the couplings (Spisak & Friston, sim. 4)",
        ReplayConfig,
        run,
        summary,
        quick=lambda: ReplayConfig(seeds=(0,), replay_precisions=(1.0,)),
        plot=plot,
        tiny=lambda: ReplayConfig(seeds=(0,), epochs=40, replay_steps=200, trials=4),
    )
)
