"""Initial gain vs learning under Dale's law, sparse connectivity and noise (issue 21).

The ``rate-gain`` grid (Liu, Zhang & Liu, arXiv 2410.11164: gain x learning rate x seed,
the learning rate selected per gain by the lab code's criterion, loss curves mean +- sd
over seeds) for every condition of Dale's law (off; on, 80% excitatory, with the plain
|N(0, g^2/N)| or the balanced Rajan & Abbott 2006 initialisation), connection probability
(a random mask per member) and noise (off; on: recurrent noise sigma_rec and input noise
sigma_in as in Yang & Wang 2020), see :mod:`neurodyn.networks.connectivity` and
:mod:`neurodyn.networks.rate_noise`. Every condition of a (task, rule) is one ensemble:
the constraints are per-member options of the network. Questions: do small gains still
learn slowly, more so with e-prop, and does lambda_1 before training (measured as in
``rate-lyapunov``, :func:`~neurodyn.experiments.rate_lyapunov.max_exponents`, on the
noise-free map) still predict learning speed, here the loss at iteration 200
(:func:`correlations`)? Under Dale's law "gain" is the scale g of the magnitudes: the
plain initialisation's outlier eigenvalue is then g sqrt(2 N / pi) (2 f - 1), several
times g, and the balanced one's bulk radius g. Figures: :mod:`._rate_gain_dale_figures`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from neurodyn import tasks
from neurodyn.config import option, to_dict
from neurodyn.experiments import Experiment, MemberAxes, register
from neurodyn.experiments._loss_figures import lr_text
from neurodyn.experiments._rate_gain_dale_figures import plot
from neurodyn.experiments._stages import Stages, join_stages
from neurodyn.experiments._statistics import (
    exponent_mean_sd,
    exponent_text,
    rho_text,
    spearman,
)
from neurodyn.experiments.rate_gain import (
    TINY_GRID,
    RateGainConfig,
    gain_rows,
    selected_members,
    stage_rows,
    train_stage,
)
from neurodyn.experiments.rate_lyapunov import stage_exponents
from neurodyn.networks.connectivity import random_mask
from neurodyn.runs import RunFolder

DALE = ("off", "plain", "balanced")
NOISE = ("off", "on")


@dataclass(frozen=True)
class RateGainDaleConfig(RateGainConfig):
    """The ``rate-gain`` fields, then the conditions and the lambda_1 protocol."""

    tasks: tuple[str, ...] = option(
        ("romo", "decision"), "registered task names or neurogym ids", unbounded=True, unique=True
    )
    dale: tuple[str, ...] = option(
        DALE,
        "Dale's law: off, or on with the plain or balanced initialisation",
        choices=DALE,
        unique=True,
    )
    connection_probabilities: tuple[float, ...] = option(
        (0.2, 1.0),
        "probability of each recurrent connection (a random mask per member; 1: all)",
        above=0.0,
        maximum=1.0,
        unique=True,
    )
    noise: tuple[str, ...] = option(
        NOISE, "noise off, or on (the two sigmas)", choices=NOISE, unique=True
    )
    recurrent_noise: float = option(0.05, "sigma_rec where noise is on", minimum=0.0)
    input_noise: float = option(0.01, "sigma_in where noise is on", minimum=0.0)
    excitatory_fraction: float = option(
        0.8, "fraction f of excitatory units under Dale's law", above=0.0, below=1.0
    )
    lyapunov_trajectories: int = option(16, "input streams per member for lambda_1", minimum=1)
    lyapunov_trials: int = option(10, "trials per stream, the first the warm-up", minimum=2)

    def conditions(self) -> list[tuple[str, float, str]]:
        """(Dale's law, connection probability, noise) of every condition."""
        return [
            (d, p, n) for d in self.dale for p in self.connection_probabilities for n in self.noise
        ]

    def ensemble_members(self) -> list[tuple]:
        """(dale, probability, noise, gain, learning rate, seed): conditions outermost."""
        return [(*c, *m) for c in self.conditions() for m in self.members()]

    def network_options(self, hidden_size: int, members: list[tuple]) -> dict:
        """Dale's law, masks and noise per member; member e's mask from its own seed."""
        probabilities = [m[1] for m in members]
        mask = None
        if min(probabilities) < 1:
            mask = random_mask([m[-1] for m in members], hidden_size, probabilities)
        noisy = [m[2] == "on" for m in members]
        return {
            "dale": [m[0] != "off" for m in members],
            "dale_init": [m[0] if m[0] != "off" else "plain" for m in members],
            "excitatory_fraction": self.excitatory_fraction,
            "mask": mask,
            "recurrent_noise": [self.recurrent_noise if on else 0.0 for on in noisy],
            "input_noise": [self.input_noise if on else 0.0 for on in noisy],
        }


def label(condition: tuple) -> str:
    dale, probability, noise = condition
    return f"dale {dale}, p {probability:g}, noise {noise}"


def _pairs(config: RateGainDaleConfig) -> RateGainDaleConfig:
    """The members of the initialisation stages, which do not depend on the learning rate."""
    return replace(config, learning_rates=config.learning_rates[:1])


def stage_members(config: RateGainDaleConfig, stage: str) -> list[tuple]:
    """The members of a stage in the order of its values (see ``join_stages``): (condition,
    gain, seed) for the initialisation stages, else the ensemble members."""
    if stage.endswith(" initialisation"):
        return [(*m[:-2], m[-1]) for m in _pairs(config).ensemble_members()]
    return config.ensemble_members()


def _part(values: dict, start: int, stop: int) -> dict:
    """The values of members start ... stop - 1 of a stage (lists over its members)."""
    return {
        key: {k: v[start:stop] for k, v in value.items()}
        if isinstance(value, dict)
        else value[start:stop]
        for key, value in values.items()
    }


def condition_rows(config: RateGainDaleConfig, values: dict, before: torch.Tensor) -> dict:
    """Per condition: :func:`gain_rows` and lambda_1 before and after training (mean and sd
    over the seeds where it is finite, after at the selected learning rates, and the
    number of members at -inf: :func:`exponent_mean_sd`); and the Spearman correlation of
    lambda_1 before with the loss at iteration 200 (:func:`correlations`)."""
    size, pair_size = len(config.members()), len(config.gains) * len(config.seeds)
    pairs = _pairs(config).members()
    by_gain = {g: [i for i, m in enumerate(pairs) if m[0] == g] for g in config.gains}
    rows = {}
    for c, condition in enumerate(config.conditions()):
        part = _part(values, c * size, (c + 1) * size)
        selected = selected_members(config, torch.tensor(part["losses"]).T)
        after = torch.tensor(part["max_exponent"], dtype=torch.float64)
        trajectories = config.lyapunov_trajectories
        row = {
            "dale": condition[0],
            "connection_probability": condition[1],
            "noise": condition[2],
            "gains": gain_rows(config, part),
        }
        row["max_exponent_before"], row["collapsed_before"] = exponent_mean_sd(
            before[c * pair_size : (c + 1) * pair_size], by_gain, trajectories
        )
        row["max_exponent_after"], row["collapsed_after"] = exponent_mean_sd(
            after, {g: i for g, (_, i) in selected.items()}, trajectories
        )
        rows[label(condition)] = row
    return {"conditions": rows, "spearman_exponent_vs_loss_200": correlations(config, rows)}


SIDES = {"all": lambda x: True, "ordered": lambda x: x < 0, "chaotic": lambda x: x >= 0}


def correlations(config: RateGainDaleConfig, rows: dict) -> dict[str, dict]:
    """Spearman's rho of lambda_1 before training against the loss at iteration 200 (means
    over seeds) over the (condition, gain) cells where both are finite, over all conditions
    and per Dale initialisation, each over all cells, the ordered ones (lambda_1 < 0: the
    paper's explanation predicts rho < 0) and the chaotic ones (lambda_1 >= 0: rho > 0
    expected): {scope: {side: rho or None}}."""
    scopes = {"all": list(rows.values())} | {
        f"dale {d}": [row for row in rows.values() if row["dale"] == d] for d in config.dale
    }
    result = {}
    for scope, scope_rows in scopes.items():
        points = [
            (row["max_exponent_before"][gain][0], gain_row["loss_200"][0])
            for row in scope_rows
            for gain, gain_row in row["gains"].items()
        ]
        result[scope] = {}
        for side, keep in SIDES.items():
            kept = [(x, y) for x, y in points if keep(x)]
            result[scope][side] = spearman([x for x, _ in kept], [y for _, y in kept])
    return result


def run(config: RateGainDaleConfig, folder: RunFolder, progress: bool = True) -> dict:
    """Per task, lambda_1 of the initialisations, then every rule's training stage and its
    lambda_1; result.json grows by one (task, rule) at a time."""
    stages = Stages(folder)
    result = {"experiment": "rate-gain-dale", "config": to_dict(config), "runs": {}}
    for task_name in config.tasks:
        task = tasks.get(task_name)
        before = stage_exponents(stages, f"{task_name} initialisation", _pairs(config), task)
        for rule in config.rules:
            name = f"{task_name} {rule}"
            train_stage(stages, name, config, task, rule, progress)
            stage_exponents(stages, name, config, task)
            result["runs"][name] = condition_rows(config, stages.values(name), before)
            folder.write_result(result)
    return result


def summary(result: dict) -> str:
    lines = []
    for name, run_result in result["runs"].items():
        lines.append(f"{name}: Spearman(lambda_1 before, loss at 200), all / ordered / chaotic:")
        for scope, rhos in run_result["spearman_exponent_vs_loss_200"].items():
            lines.append(f"  {scope}: " + " / ".join(rho_text(rho) for rho in rhos.values()))
        for condition, row in run_result["conditions"].items():
            lines.append(f"  {condition}:")
            for gain, gain_row in row["gains"].items():
                before = exponent_text(
                    row["max_exponent_before"][gain], row["collapsed_before"][gain]
                )
                after = exponent_text(row["max_exponent_after"][gain], row["collapsed_after"][gain])
                lines.append(
                    f"    gain {gain:>4}: {lr_text(gain_row)}, loss at 200 "
                    f"{gain_row['loss_200'][0]:.4f}+-{gain_row['loss_200'][1]:.4f}, final "
                    f"{gain_row['loss_final'][0]:.4f}; lambda_1 {before} -> {after}"
                )
    return "\n".join(lines)


AXES = {
    "task": "tasks",
    "rule": "rules",
    "dale": "dale",
    "connection_probability": "connection_probabilities",
    "noise": "noise",
    "gain": "gains",
    "learning_rate": "learning_rates",
    "seed": "seeds",
}


def member_rows(config: RateGainDaleConfig, folder: RunFolder) -> list[dict]:
    """Per (task, rule) stage and member: ``rate-gain``'s rows (running-mean loss per
    logged window, the last with accuracy and lambda_1 after training), the last also with
    ``max_exponent_before``, lambda_1 of the member's initialisation."""
    stages, rows = Stages(folder), []
    pairs = stage_members(config, "any initialisation")
    for task_name in config.tasks:
        before = stages.values(f"{task_name} initialisation")["max_exponent"]
        for rule in config.rules:
            values = stages.values(f"{task_name} {rule}")
            for i, member in enumerate(config.ensemble_members()):
                axes = dict(zip(list(AXES)[2:], member, strict=True))
                member_rows_ = stage_rows(values, i, config.log_every)
                member_rows_[-1]["max_exponent_before"] = before[
                    pairs.index((*member[:-2], member[-1]))
                ]
                rows += [{"task": task_name, "rule": rule} | axes | r for r in member_rows_]
    return rows


def gather(config: RateGainDaleConfig, parts: list[RunFolder], folder: RunFolder) -> dict:
    """The result of the whole config from its chunks' stages (see MemberAxes)."""
    join_stages(config, parts, folder, stage_members)
    return run(config, folder, progress=False)


register(
    Experiment(
        "rate-gain-dale",
        "Initial gain vs learning under Dale's law, sparse connectivity and noise, and "
        "lambda_1 before training vs learning speed (issue 21)",
        RateGainDaleConfig,
        run,
        summary,
        plot=plot,
        tiny=lambda: RateGainDaleConfig(
            **(TINY_GRID | {"gains": (1.0,)}),
            connection_probabilities=(0.5, 1.0),
            lyapunov_trajectories=2,
            lyapunov_trials=2,
        ),
        quick=lambda: RateGainDaleConfig(
            tasks=("romo",),
            gains=(0.2, 1.0),
            learning_rates=(1e-3, 3e-3),
            seeds=(0, 1),
            hidden_size=32,
            iterations=300,
            log_every=50,
            test_trials=200,
            lyapunov_trajectories=8,
            lyapunov_trials=4,
        ),
        members=MemberAxes(AXES, member_rows, gather),
    )
)
