"""Simulation 3 of Spisak & Friston (2025): sequences give asymmetric couplings.

Spec ``free-energy-attractor.md`` section 4. Digits 1, 2, 3 (training images 1-3, evidence
20) are shown in the fixed cyclic order 1 -> 2 -> 3 -> 1 ..., one step each, 2000 times
(precision 1, learning rate 0.001). Measured per seed: the asymmetry ||J - J^T|| / ||J||
(paper 0.98); the fixed points of the symmetric part J+ = (J + J^T)/2 relaxed from the
three digits and their correlation with them; and a free run (zero bias, precision 1,
100 stochastic steps from the final state) whose dominant digit (highest correlation)
should cycle 1 -> 2 -> 3.

``run`` writes the numbers to ``result.json`` and the first seed's couplings and free-run
correlations to ``arrays.safetensors``; ``plot`` draws ``sequence.png`` from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from neurodyn import rng
from neurodyn.analysis import attractors as analysis
from neurodyn.config import Config, option, to_dict
from neurodyn.experiments import Experiment, register
from neurodyn.networks.attractor import FreeEnergyAttractorNetwork
from neurodyn.plotting import figure
from neurodyn.rules.free_energy import FreeEnergyRule
from neurodyn.runs import RunFolder
from neurodyn.tasks.digits import digit_patterns
from neurodyn.training.attractor import learn_patterns


@dataclass(frozen=True)
class SequenceConfig(Config):
    seeds: tuple[int, ...] = option(
        (0, 1, 2, 3, 4),
        "seeds, one network (ensemble member) each; figures show the first",
        minimum=0,
        unique=True,
    )
    evidence: float = option(20.0, "evidence: the bias is evidence x digit while shown", above=0.0)
    precision: float = option(
        1.0, "precision beta (inverse temperature), training and free run", above=0.0
    )
    learning_rate: float = option(
        0.001, "learning rate of the local predictive coupling rule", above=0.0
    )
    iterations: int = option(
        2000, "training steps, one digit each in the order 1->2->3->1...", minimum=1
    )
    free_steps: int = option(100, "stochastic steps of the free run at zero bias", minimum=1)
    device: str = option("cpu", "torch device of the ensemble (cpu, cuda, ...)", device=True)


def cycle_statistics(dominant: np.ndarray) -> dict:
    """Transitions between dominant digits (0, 1, 2 = digits 1, 2, 3) along a run."""
    changes = [(int(a), int(b)) for a, b in zip(dominant[:-1], dominant[1:], strict=True) if a != b]
    forward = sum((b - a) % 3 == 1 for a, b in changes)
    switches = np.flatnonzero(np.diff(dominant) != 0)
    # a full cycle visits three digits: three switches per period
    period = float(3 * np.mean(np.diff(switches))) if len(switches) > 1 else None
    return {
        "transitions": len(changes),
        "forward_fraction": forward / max(len(changes), 1),
        "period_steps": period,
    }


def run(config: SequenceConfig, folder: RunFolder, progress: bool = True) -> dict:
    """Learn the cyclic digit sequence in every member; measure the asymmetry, the fixed
    points of J+ and the order of the dominant digits along a free run."""
    train, _, _ = digit_patterns()
    digits = train[1:4]
    seeds = list(config.seeds)
    network = FreeEnergyAttractorNetwork(
        64, ensemble_size=len(seeds), precision=config.precision, device=config.device
    )
    couplings, state = learn_patterns(
        network,
        FreeEnergyRule(config.learning_rate),
        network.init(),
        digits,
        evidence=config.evidence,
        epochs=config.iterations,
        steps_per_epoch=1,
        seeds=seeds,
        order="cyclic",
        progress=progress,
    )
    symmetric = 0.5 * (couplings + couplings.transpose(1, 2))
    starts = analysis.relax_starts(digits.to(network.device), config.evidence)
    fixed = analysis.find_attractors(symmetric, starts)[0].cpu()
    match = [
        [
            float(torch.corrcoef(torch.stack([f.float(), d]))[0, 1])
            for f, d in zip(member, digits, strict=True)
        ]
        for member in fixed
    ]
    keys = rng.member_keys(seeds, "evaluation", network.device)
    uniforms = rng.counter_uniform(keys, 0, (config.free_steps, 1, 64))
    zero = torch.zeros(len(seeds), 1, 64, device=network.device)
    visited = []
    for k in range(config.free_steps):
        state, _ = network.step(couplings, state, zero, uniform=uniforms[:, k])
        visited.append(state[:, 0])
    visited = torch.stack(visited, dim=1).cpu()  # (E, T, N)
    centred = visited - visited.mean(-1, keepdim=True)
    reference = digits - digits.mean(-1, keepdim=True)
    correlation = (centred @ reference.T) / (
        centred.norm(dim=-1, keepdim=True) * reference.norm(dim=-1)[None, None] + 1e-12
    )  # (E, T, 3)
    cycles = [cycle_statistics(c.argmax(-1).numpy()) for c in correlation]
    result = {
        "experiment": "free-energy-sequence",
        "config": to_dict(config),
        "asymmetry": analysis.asymmetry(couplings).tolist(),
        "paper_asymmetry": 0.98,
        "symmetric_fixed_point_correlation": match,
        "symmetric_distinct_fixed_points": analysis.count_distinct(fixed).tolist(),
        "free_run": cycles,
    }
    folder.write_arrays({"couplings": couplings[0], "correlation": correlation[0]})
    folder.write_result(result)
    return result


def summary(result: dict) -> str:
    lines = []
    for e, seed in enumerate(result["config"]["seeds"]):
        cycle = result["free_run"][e]
        period = "none" if cycle["period_steps"] is None else f"{cycle['period_steps']:.1f}"
        matches = ", ".join(f"{v:.2f}" for v in result["symmetric_fixed_point_correlation"][e])
        lines.append(
            f"seed {seed}: asymmetry {result['asymmetry'][e]:.3f} (paper 0.98); J+ fixed points "
            f"{result['symmetric_distinct_fixed_points'][e]} with digit correlations {matches}; "
            f"free run {cycle['transitions']} switches, {cycle['forward_fraction']:.0%} "
            f"in the order 1->2->3, period {period} steps"
        )
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """``sequence.png`` (the paper's figure of simulation 3), first seed: J, its symmetric
    and antisymmetric parts, and each digit's correlation with the free-run state."""
    result = folder.read_result()
    arrays = folder.read_arrays()
    J = arrays["couplings"].T.numpy()  # paper layout J[i, j]
    correlation = arrays["correlation"].numpy()
    parts = {"J": J, "symmetric part": 0.5 * (J + J.T), "antisymmetric part": 0.5 * (J - J.T)}
    fig, axes = figure(1, 4, size=(17, 3.8), gridspec_kw={"width_ratios": [1, 1, 1, 2]})
    limit = float(abs(J).max())
    for ax, (name, matrix) in zip(axes, parts.items(), strict=False):
        ax.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(name)
        ax.set_axis_off()
    for k in range(3):
        axes[3].plot(correlation[:, k], label=f"digit {k + 1}")
    axes[3].set_xlabel("free-run step (zero bias)")
    axes[3].set_ylabel("correlation with digit")
    axes[3].legend(fontsize=8)
    fig.suptitle(f"sequence 1->2->3: asymmetry {result['asymmetry'][0]:.3f}")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    folder.save_figure(fig, "sequence.png")


register(
    Experiment(
        "free-energy-sequence",
        "Sequences give asymmetric couplings and cycling dynamics (Spisak & Friston, sim. 3)",
        SequenceConfig,
        run,
        summary,
        quick=lambda: SequenceConfig(),
        plot=plot,
        tiny=lambda: SequenceConfig(seeds=(0,), iterations=150, free_steps=20),
    )
)
