"""Simulation 1 of Spisak & Friston (2025): two correlated patterns, orthogonal attractors.

Spec ``free-energy-attractor.md`` section 4. A vertical and a horizontal 5 x 5 bar
(z-scored, correlation 0.77) are learned by N = 25 units (evidence 30, precision 0.1,
learning rate 0.01, 500 epochs x 10 steps, as in the authors' notebook); each seed is one
ensemble member. The deterministic attractors reached from L(0.1 pattern) are
anti-correlated (paper: -0.19). Demonstrations on the first seed: retrieval of a noisy
horizontal bar (precision 1, 30 steps) and generalisation to a "+" cross (precision 2,
20 steps), shown as |attractor . sigma_t| over time, and the VFE during training.

``run`` writes the numbers to ``result.json`` and the figure's arrays (patterns, the
first seed's attractors and demonstration runs, the VFE per epoch) to
``arrays.safetensors``; ``plot`` draws ``orthogonal_attractors.png`` from them.
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
from neurodyn.tasks.digits import two_bars, zscore
from neurodyn.training.attractor import learn_patterns

PAPER_CORRELATION = -0.19


@dataclass(frozen=True)
class OrthogonalConfig(Config):
    seeds: tuple[int, ...] = option(
        (0, 1, 2, 3, 4, 5),
        "seeds, one network (ensemble member) each; demos use the first",
        minimum=0,
        unique=True,
    )
    evidence: float = option(
        30.0, "evidence: the bias is evidence x pattern while shown", above=0.0
    )
    precision: float = option(
        0.1, "precision beta (inverse temperature) during training", above=0.0
    )
    learning_rate: float = option(
        0.01, "learning rate of the local predictive coupling rule", above=0.0
    )
    epochs: int = option(500, "training epochs, one randomly drawn pattern each", minimum=1)
    steps_per_epoch: int = option(10, "stochastic update steps per epoch", minimum=1)
    device: str = option("cpu", "torch device of the ensemble (cpu, cuda, ...)", device=True)


def _demo(network, couplings, bias, precision, steps, seed):
    """Stochastic run of the first member under ``bias`` (N,): the visited states (T, N)."""
    single = FreeEnergyAttractorNetwork(network.size, precision=precision)
    keys = rng.member_keys([seed], "evaluation", salt=7)
    uniforms = rng.counter_uniform(keys, 0, (steps, 1, network.size))
    state, visited = single.zero_state(), []
    for k in range(steps):
        state, _ = single.step(couplings[:1], state, bias.view(1, 1, -1), uniform=uniforms[:, k])
        visited.append(state[0, 0])
    return torch.stack(visited)


def run(config: OrthogonalConfig, folder: RunFolder, progress: bool = True) -> dict:
    """Learn the two bars in every member, find the attractors and correlate them; run the
    retrieval and generalisation demonstrations on the first member."""
    patterns = two_bars()
    seeds = list(config.seeds)
    network = FreeEnergyAttractorNetwork(
        25, ensemble_size=len(seeds), precision=config.precision, device=config.device
    )
    monitor: list[torch.Tensor] = []
    couplings, _ = learn_patterns(
        network,
        FreeEnergyRule(config.learning_rate),
        network.init(),
        patterns,
        evidence=config.evidence,
        epochs=config.epochs,
        steps_per_epoch=config.steps_per_epoch,
        seeds=seeds,
        free_energies=monitor,
        progress=progress,
    )
    couplings = couplings.cpu()  # the analysis of 25 units runs on the CPU
    # Simulation 1 starts the search from L(0.1 pattern), without the evidence factor.
    found, _ = analysis.find_attractors(couplings, analysis.relax_starts(patterns, 1.0))
    correlations = [float(torch.corrcoef(member)[0, 1]) for member in found]
    noise = rng.counter_normal(rng.member_keys([seeds[0]], "evaluation", salt=8), 0, (25,))[0]
    horizontal = torch.zeros(5, 5)
    horizontal[2] = 1.0
    cross = horizontal.clone()
    cross[:, 2] = 1.0
    retrieval = _demo(
        network, couplings, zscore(horizontal.flatten()) + 0.5 * noise, 1.0, 30, seeds[0]
    )
    general = _demo(network, couplings, zscore(cross.flatten()), 2.0, 20, seeds[0])
    vfe = torch.stack(monitor).T.cpu()  # (E, epochs)
    result = {
        "experiment": "free-energy-orthogonal",
        "config": to_dict(config),
        "pattern_correlation": float(torch.corrcoef(patterns)[0, 1]),
        "attractor_correlation": correlations,
        "attractor_correlation_mean": float(np.nanmean(correlations)),
        "paper": PAPER_CORRELATION,
        "free_energy_first_50_epochs": float(vfe[:, :50].mean()),
        "free_energy_last_50_epochs": float(vfe[:, -50:].mean()),
        "asymmetry": analysis.asymmetry(couplings).tolist(),
    }
    folder.write_arrays(
        {
            "patterns": patterns,
            "attractors": found[0],
            "free_energy": vfe,
            "retrieval": retrieval,
            "generalisation": general,
        }
    )
    folder.write_result(result)
    return result


def summary(result: dict) -> str:
    values = ", ".join(f"{v:+.3f}" for v in result["attractor_correlation"])
    return (
        f"pattern correlation {result['pattern_correlation']:.4f}; attractor correlation per "
        f"seed: {values}\nmean {result['attractor_correlation_mean']:+.3f} "
        f"(paper {result['paper']:+.2f}); VFE over training "
        f"{result['free_energy_first_50_epochs']:.1f} -> {result['free_energy_last_50_epochs']:.1f}"
    )


def plot(folder: RunFolder) -> None:
    """``orthogonal_attractors.png`` (the paper's figure of simulation 1): the two patterns
    and the first seed's attractors, the VFE during training (mean over seeds, with a
    moving average), and |attractor . sigma_t| along the two demonstration runs."""
    result = folder.read_result()
    arrays = folder.read_arrays()
    patterns, attractors = arrays["patterns"], arrays["attractors"]
    fig, _ = figure(0, size=(13, 6))
    grid = fig.add_gridspec(2, 4)
    for k, (image, title) in enumerate(
        [
            (patterns[0], "pattern 1"),
            (patterns[1], "pattern 2"),
            (attractors[0], "attractor 1"),
            (attractors[1], "attractor 2"),
        ]
    ):
        ax = fig.add_subplot(grid[k // 2, k % 2])
        ax.imshow(image.reshape(5, 5).numpy(), cmap="coolwarm")
        ax.set_title(title)
        ax.set_axis_off()
    ax = fig.add_subplot(grid[0, 2:])
    curve = arrays["free_energy"].mean(0).numpy()
    ax.plot(curve, alpha=0.3)
    window = max(1, len(curve) // 25)
    ax.plot(np.convolve(curve, np.ones(window) / window, mode="valid"), color="k")
    ax.set_title("variational free energy during training")
    ax.set_xlabel("epoch")
    ax = fig.add_subplot(grid[1, 2:])
    unit = attractors / attractors.norm(dim=-1, keepdim=True)
    for name, run_states, style in (
        ("retrieval (noisy bar)", arrays["retrieval"], "-"),
        ("generalisation (cross)", arrays["generalisation"], "--"),
    ):
        projections = (run_states.double() @ unit.T).abs().numpy()
        for k in range(2):
            ax.plot(projections[:, k], style, label=f"{name}: |attractor {k + 1} . sigma|")
    ax.set_xlabel("step")
    ax.legend(fontsize=7)
    fig.suptitle(
        f"attractor correlation {result['attractor_correlation'][0]:+.2f} "
        f"(patterns {result['pattern_correlation']:.2f}; paper {result['paper']:+.2f})"
    )
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    folder.save_figure(fig, "orthogonal_attractors.png")


register(
    Experiment(
        "free-energy-orthogonal",
        "Two correlated patterns give anti-correlated attractors (Spisak & Friston, sim. 1)",
        OrthogonalConfig,
        run,
        summary,
        quick=lambda: OrthogonalConfig(),
        plot=plot,
        tiny=lambda: OrthogonalConfig(seeds=(0, 1), epochs=40),
    )
)
