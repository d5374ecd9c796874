"""Simulation 5 of Spisak & Friston (2025, revision): storage capacity vs number of patterns.

Protocol of the authors' ``07-simulation-scaling-jax`` notebook (``capacity_cfg``), read
from their code: N = 100 units; K = 10 ... 90 dense random +-1 patterns per run; training
at evidence 2, precision 1, learning rate 0.0005, 10 000 epochs x 10 stochastic steps, one
random pattern per epoch, the state reset to zero at every epoch (their JAX version).
Every (K, repeat) is one member of a single ensemble.

* **retention**: deterministic dynamics x <- L(100 J x) with no input for 200 steps,
  started at the pattern; Pearson correlation of the final state with the pattern (NaN
  counts as 0), averaged over the K patterns. The notebook's config says precision 1 for
  inference, but its retention call uses the function default 100; we follow the code.
* **reconstruction**: start at and drive with a noisy cue p + N(0, 2 std(p)) (correlation
  about 0.447), 20 stochastic steps at precision 1; correlation of the mean state.
* **Hebbian reference**: the same patterns in a binary Hopfield network with J = X^T X / N
  (:mod:`neurodyn.analysis.capacity`); its retention is the overlap after asynchronous
  zero-temperature dynamics from the pattern.

Capacity is reported as the largest K whose mean retention is at least 0.95, for both.
``run`` writes ``result.json`` (training is one checkpointed stage); ``plot`` draws
``capacity.png`` from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from neurodyn import rng
from neurodyn.analysis.capacity import hebbian_retention
from neurodyn.config import Config, option, to_dict
from neurodyn.experiments import Experiment, register
from neurodyn.experiments._stages import Stages
from neurodyn.networks import continuous_bernoulli as cb
from neurodyn.networks.attractor import FreeEnergyAttractorNetwork
from neurodyn.plotting import figure
from neurodyn.rules.free_energy import FreeEnergyRule
from neurodyn.runs import RunFolder

PAPER = {  # the notebook's printed means over 20 repeats: K -> (retention, reconstruction)
    10: (1.000, 0.980),
    20: (1.000, 0.898),
    30: (0.9999, 0.785),
    40: (0.9989, 0.683),
    50: (0.9975, 0.611),
    60: (0.9919, 0.572),
    70: (0.9686, 0.548),
    80: (0.8978, 0.534),
    90: (0.8134, 0.521),
}
THRESHOLD = 0.95


@dataclass(frozen=True)
class CapacityConfig(Config):
    size: int = option(100, "N, units per network", minimum=2)
    pattern_counts: tuple[int, ...] = option(
        (10, 20, 30, 40, 50, 60, 70, 80, 90),
        "K, numbers of random +-1 patterns stored",
        minimum=1,
        unique=True,
    )
    repeats: int = option(5, "networks (pattern draws) per K; the paper's notebook: 20", minimum=1)
    seed: int = option(101, "base seed; member (K, repeat) uses seed + 1000 repeat + K", minimum=0)
    evidence: float = option(2.0, "evidence: the bias is evidence x pattern while shown", above=0.0)
    precision: float = option(1.0, "precision beta during training and reconstruction", above=0.0)
    learning_rate: float = option(
        0.0005, "learning rate of the local predictive coupling rule", above=0.0
    )
    epochs: int = option(10_000, "training epochs, one random pattern each, state reset", minimum=1)
    steps_per_epoch: int = option(10, "stochastic update steps per epoch", minimum=1)
    retention_precision: float = option(
        100.0, "precision of the deterministic retention dynamics (the notebook's code)", above=0.0
    )
    retention_steps: int = option(
        200, "deterministic steps from each pattern at zero bias", minimum=1
    )
    reconstruction_steps: int = option(20, "stochastic steps driven by the noisy cue", minimum=1)
    cue_noise: float = option(2.0, "cue noise sd in units of the pattern's sd", minimum=0.0)
    device: str = option("cpu", "torch device of the ensembles (cpu, cuda, ...)", device=True)


def _correlation(states: torch.Tensor, patterns: torch.Tensor) -> torch.Tensor:
    """Pearson correlation along the last axis; NaN (a constant state) counts as 0."""
    a = states.double() - states.double().mean(-1, keepdim=True)
    b = patterns.double() - patterns.double().mean(-1, keepdim=True)
    r = (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))
    return torch.nan_to_num(r, nan=0.0)


def run(config: CapacityConfig, folder: RunFolder, progress: bool = True) -> dict:
    """Train every (K, repeat) member (stage ``train``), then score retention,
    reconstruction and the Hebbian reference per K."""
    stages = Stages(folder)
    members = [(k, rep) for k in config.pattern_counts for rep in range(config.repeats)]
    seeds = [config.seed + 1000 * rep + k for k, rep in members]
    n, kmax = config.size, max(config.pattern_counts)
    patterns = torch.zeros(len(members), kmax, n)
    for e, ((k, _), seed) in enumerate(zip(members, seeds, strict=True)):
        draws = torch.randint(0, 2, (k, n), generator=rng.generator(seed, "task"))
        patterns[e, :k] = draws.float() * 2 - 1
    network = FreeEnergyAttractorNetwork(
        n, ensemble_size=len(members), precision=config.precision, device=config.device
    )
    shown = patterns.to(network.device)  # patterns stays on the CPU, for the Hebbian reference
    couplings, _ = stages.learn(
        "train",
        network,
        FreeEnergyRule(config.learning_rate),
        shown,
        evidence=config.evidence,
        epochs=config.epochs,
        steps_per_epoch=config.steps_per_epoch,
        seeds=seeds,
        progress=progress,
        pattern_counts=[k for k, _ in members],
        reset_state=True,
    )
    J = couplings.double()
    state = shown.double()
    for _ in range(config.retention_steps):
        state = cb.langevin(config.retention_precision * torch.bmm(state, J))
    retention = _correlation(state, shown).cpu()
    keys = rng.member_keys(seeds, "evaluation", network.device)
    noise = rng.counter_normal(keys, 0, (kmax, n))
    cue = shown + config.cue_noise * shown.std(-1, correction=0, keepdim=True) * noise
    uniforms = rng.counter_uniform(
        rng.member_keys(seeds, "evaluation", network.device, salt=1),
        0,
        (config.reconstruction_steps, kmax, n),
    )
    sigma, total = cue.clone(), torch.zeros_like(cue)
    beta = torch.full((len(members),), config.precision, device=network.device)
    for step in range(config.reconstruction_steps):
        sigma, _ = network.step(couplings, sigma, cue, uniform=uniforms[:, step], precision=beta)
        total += sigma
    reconstruction = _correlation(total / config.reconstruction_steps, shown).cpu()
    noisy = _correlation(cue, shown).cpu()
    hebbian = hebbian_retention(patterns, generator=rng.generator(config.seed, "evaluation"))
    rows = []
    for k in config.pattern_counts:
        index = [e for e, (kk, _) in enumerate(members) if kk == k]

        def mean_over_patterns(values, k=k, index=index):
            per_run = values[index][:, :k].mean(-1).numpy()
            return float(per_run.mean()), float(per_run.std(ddof=1)) if len(index) > 1 else 0.0

        baseline = [
            float(torch.corrcoef(patterns[e, :k]).triu(1)[torch.ones(k, k).triu(1) > 0].max())
            for e in index
        ]
        rows.append(
            {
                "patterns": k,
                "load": k / n,
                "retention": mean_over_patterns(retention),
                "reconstruction": mean_over_patterns(reconstruction),
                "noisy_input": mean_over_patterns(noisy),
                "hebbian_retention": mean_over_patterns(hebbian),
                "max_pattern_correlation": float(np.mean(baseline)),
                "paper": PAPER.get(k),
            }
        )
    result = {
        "experiment": "free-energy-capacity",
        "config": to_dict(config),
        "rows": rows,
        "capacity": {
            name: max([r["patterns"] for r in rows if r[key][0] >= THRESHOLD], default=0) / n
            for name, key in (("free_energy", "retention"), ("hebbian", "hebbian_retention"))
        },
        "threshold": THRESHOLD,
    }
    folder.write_result(result)
    return result


def summary(result: dict) -> str:
    lines = [
        f"{'K':>4}{'retention':>16}{'reconstruction':>17}{'noisy':>8}{'Hebbian':>9}"
        f"   paper (retention, reconstruction)"
    ]
    for r in result["rows"]:
        paper = "" if r["paper"] is None else f"{r['paper'][0]:.3f}, {r['paper'][1]:.3f}"
        lines.append(
            f"{r['patterns']:>4}{r['retention'][0]:>9.3f}+-{r['retention'][1]:.3f}"
            f"{r['reconstruction'][0]:>10.3f}+-{r['reconstruction'][1]:.3f}"
            f"{r['noisy_input'][0]:>8.3f}{r['hebbian_retention'][0]:>9.3f}   {paper}"
        )
    capacity = result["capacity"]
    lines.append(
        f"capacity (mean retention >= {result['threshold']}): free-energy rule "
        f"{capacity['free_energy']:.2f} N, Hebbian {capacity['hebbian']:.2f} N (theory 0.138 N)"
    )
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """``capacity.png``: retention vs load K / N for the free-energy rule and the Hebbian
    network (mean +- sd over repeats; the notebook's values dotted), and reconstruction
    from the noisy cue next to the cue itself and the patterns' largest correlation."""
    result = folder.read_result()
    rows = result["rows"]
    load = [r["load"] for r in rows]
    fig, axes = figure(1, 2, size=(11, 4))
    for key, label in (
        ("retention", "free-energy rule"),
        ("hebbian_retention", "Hebbian (binary)"),
    ):
        mean = np.array([r[key][0] for r in rows])
        sd = np.array([r[key][1] for r in rows])
        axes[0].errorbar(load, mean, yerr=sd, marker="o", capsize=3, label=label)
    paper = [(r["load"], r["paper"][0]) for r in rows if r["paper"]]
    if paper:
        axes[0].plot(*zip(*paper, strict=True), "k:", label="authors' notebook")
    axes[0].axvline(0.138, color="grey", linestyle="--", label="Hebbian theory 0.138 N")
    axes[0].axhline(result["threshold"], color="grey", linewidth=0.5)
    axes[0].set_xlabel("patterns / units (K / N)")
    axes[0].set_ylabel("retention (correlation)")
    axes[0].legend(fontsize=8)
    for key, label in (
        ("reconstruction", "reconstructed"),
        ("noisy_input", "noisy cue"),
        ("max_pattern_correlation", "max inter-pattern correlation"),
    ):
        values = [r[key][0] if isinstance(r[key], list) else r[key] for r in rows]
        axes[1].plot(load, values, marker="o", label=label)
    axes[1].set_xlabel("patterns / units (K / N)")
    axes[1].set_ylabel("correlation with the stored pattern")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    folder.save_figure(fig, "capacity.png")


register(
    Experiment(
        "free-energy-capacity",
        "Storage capacity of the free-energy rule vs Hebbian 0.14 N (Spisak & Friston, sim. 5)",
        CapacityConfig,
        run,
        summary,
        quick=lambda: CapacityConfig(pattern_counts=(10, 30, 50, 70), repeats=1, epochs=2000),
        plot=plot,
        tiny=lambda: CapacityConfig(
            pattern_counts=(5, 20), repeats=2, size=30, epochs=30, retention_steps=20
        ),
    )
)
