"""Simulation 4 of Spisak & Friston (2025): replay with learning at zero bias.

Spec ``free-energy-attractor.md`` section 4. The balanced network of simulation 2
(evidence 11, precision 0.1668, 5000 epochs x 10 steps) keeps learning for 50 000 steps
with zero bias. The authors' notebook switches to precision 1 for this free run, while
the paper says nothing changes; both are run, one ensemble member per (seed, replay
precision). Measured: the correlation of the upper-triangle couplings before and after
(paper 0.97), and retrieval, generalisation and attractors before and after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from neurodyn.analysis import attractors as analysis
from neurodyn.checks import check_positive_int
from neurodyn.config import to_dict
from neurodyn.experiments import Experiment, register
from neurodyn.experiments._stages import Stages
from neurodyn.networks.attractor import FreeEnergyAttractorNetwork
from neurodyn.rules.free_energy import FreeEnergyRule
from neurodyn.runs import RunFolder
from neurodyn.tasks.digits import digit_patterns


@dataclass(frozen=True)
class ReplayConfig:
    seeds: tuple[int, ...] = (0, 1, 2)
    evidence: float = 11.0
    precision: float = 0.1668
    replay_precisions: tuple[float, ...] = (1.0, 0.1668)
    learning_rate: float = 0.001
    epochs: int = 5000
    steps_per_epoch: int = 10
    replay_steps: int = 50_000
    trials: int = 100

    def __post_init__(self) -> None:
        for name in ("epochs", "steps_per_epoch", "replay_steps", "trials"):
            check_positive_int(name, getattr(self, name))
        if not self.seeds or not self.replay_precisions:
            raise ValueError("seeds and replay_precisions must not be empty")


def _upper(couplings: torch.Tensor) -> torch.Tensor:
    n = couplings.shape[-1]
    rows, cols = torch.triu_indices(n, n, offset=1)
    return couplings.transpose(1, 2)[:, rows, cols]  # paper layout J[i, j], i < j


def run(config: ReplayConfig, folder: RunFolder, progress: bool = True) -> dict:
    stages = Stages(folder)
    train, test, _ = digit_patterns()
    pairs = [(seed, beta) for beta in config.replay_precisions for seed in config.seeds]
    seeds = [seed for seed, _ in pairs]
    rule = FreeEnergyRule(config.learning_rate)
    learner = FreeEnergyAttractorNetwork(64, ensemble_size=len(pairs), precision=config.precision)
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
    replayer = FreeEnergyAttractorNetwork(
        64, ensemble_size=len(pairs), precision=[beta for _, beta in pairs]
    )
    silence = torch.zeros(1, 64)
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
    a, b = _upper(before), _upper(after)
    correlation = [
        float(torch.corrcoef(torch.stack([x, y]))[0, 1]) for x, y in zip(a, b, strict=True)
    ]
    result = {
        "experiment": "free-energy-replay",
        "config": to_dict(config),
        "members": [{"seed": s, "replay_precision": p} for s, p in pairs],
        "coupling_correlation": correlation,
        "paper_correlation": 0.97,
        "norm_ratio": (after.norm(dim=(1, 2)) / before.norm(dim=(1, 2))).tolist(),
        "before": metrics_before.as_lists(),
        "after": metrics_after.as_lists(),
    }
    folder.write_result(result)
    plot(result, before[0], after[0], folder)
    return result


def summary(result: dict) -> str:
    lines = []
    for beta in result["config"]["replay_precisions"]:
        rows = [i for i, m in enumerate(result["members"]) if m["replay_precision"] == beta]

        def mean(values, rows=rows):
            return float(np.nanmean([values[i] for i in rows]))

        correlation = mean(result["coupling_correlation"])
        changes = ", ".join(
            f"{name} {mean(result['before'][key]):.3f} -> {mean(result['after'][key]):.3f}"
            for name, key in (
                ("retrieval", "retrieval"),
                ("generalization", "generalization"),
                ("attractors", "attractor_count"),
            )
        )
        lines.append(
            f"replay at precision {beta:g}: J before/after r = {correlation:.3f} (paper 0.97), "
            f"||J|| x {mean(result['norm_ratio']):.2f}; {changes}"
        )
    return "\n".join(lines)


def plot(result, before, after, folder: RunFolder) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    limit = float(before.abs().max())
    for ax, (name, J) in zip(
        axes, (("before replay", before), ("after replay", after)), strict=False
    ):
        ax.imshow(J.T.numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(name)
        ax.set_axis_off()
    a, b = _upper(before[None])[0].numpy(), _upper(after[None])[0].numpy()
    axes[2].scatter(a, b, s=2, alpha=0.4)
    axes[2].plot([a.min(), a.max()], [a.min(), a.max()], "k--", linewidth=1)
    axes[2].set_xlabel("J before")
    axes[2].set_ylabel("J after")
    axes[2].set_title(f"r = {result['coupling_correlation'][0]:.3f}")
    fig.tight_layout()
    folder.save_figure(fig, "replay.png")
    plt.close(fig)


register(
    Experiment(
        "free-energy-replay",
        "Replay with learning at zero bias keeps the couplings (Spisak & Friston, sim. 4)",
        ReplayConfig,
        run,
        summary,
        lambda: ReplayConfig(seeds=(0,), replay_precisions=(1.0,)),
    )
)
