"""How trained rate RNNs compute: fixed and slow points of the ``rate-gain`` networks.

For every task, rule and member of the ``rate-gain`` grid (N = 64 leaky ReLU RNNs, trained
by the same stages, so with the same numbers), after training: the fixed and slow points
of h -> F(h, x*) (:func:`~neurodyn.analysis.slow_points.find_fixed_points`, Sussillo &
Barak 2013) from ``candidates`` states of the member's own trials plus noise, their
stability (stable, saddle, unstable: |lambda| vs 1 of the map, with modes within 1e-6 of
1 marginal), the dimension of the slow manifold (the principal components that explain
90% of the spread of the slow points, :func:`~neurodyn.analysis.state_space.slow_dimension`)
and lambda_1 after training (the ``rate-lyapunov`` protocol). Summaries are mean +- sd over
seeds at the learning rate ``rate-gain`` selects per gain (for lambda_1 over the seeds
where it is finite: with alpha = 0, as in 2AF and DMS, a step on which every ReLU unit is
silent has J = 0 and lambda_1 = -inf; their number is ``collapsed``); figures show, per
task, one member per rule and gain (the first seed) in the plane of its two leading
principal components (:mod:`~neurodyn.analysis.state_space`).

x* is the constant input of the period in which each task holds its memory
(:data:`HOLD_INPUTS`): zero between Romo's stimuli and between flip-flop pulses, the
fixation cue alone in the delay of delayed match-to-sample, and the fixation cue with both
stimuli at their zero-coherence mean 0.5 for 2AF (the integration period without
evidence); zero for other tasks. The search runs in float64. With x* = 0 a ReLU network
without biases is positively homogeneous (F(c h) = c F(h), c > 0): its fixed points other
than 0 come in rays, so it counts the points of a ray found at distinct places as distinct
points (``unique_distance`` apart); the slow-manifold dimension is the robust measure.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from neurodyn import rng, tasks
from neurodyn.analysis.lyapunov import StepDynamics
from neurodyn.analysis.slow_points import find_fixed_points, sample_initial_states
from neurodyn.analysis.state_space import slow_dimension, state_planes, trial_conditions
from neurodyn.config import option, to_dict
from neurodyn.experiments import Experiment, MemberAxes, register
from neurodyn.experiments._rate_fixed_points_report import plot, summary
from neurodyn.experiments._stages import Stages, join_stages
from neurodyn.experiments._statistics import exponent_mean_sd, mean_sd, spearman
from neurodyn.experiments.rate_gain import (
    AXES,
    TINY_GRID,
    selected_members,
    stage_rows,
    stage_weights,
    train_stage,
)
from neurodyn.experiments.rate_lyapunov import ExponentConfig, stage_exponents
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.runs import RunFolder

HOLD_INPUTS = {
    "romo": (0.0,),
    "flip-flop": (0.0, 0.0, 0.0),
    "match-sample": (1.0, 0.0, 0.0),
    "decision": (1.0, 0.5, 0.5),
}
MEASURES = ("fixed", "stable", "saddle", "unstable", "slow", "slow_dimension")
TRIALS_COUNTER = 1  # the trials of the analysis: draw 1 of each member's "evaluation" key


@dataclass(frozen=True)
class RateFixedPointsConfig(ExponentConfig):
    """The ``rate-gain`` training fields and the lambda_1 protocol, then the search."""

    tasks: tuple[str, ...] = option(
        ("romo", "decision", "match-sample", "flip-flop"),
        "registered task names or neurogym ids",
        unbounded=True,
        unique=True,
    )
    analysis_trials: int = option(32, "trials per member for the candidates and the PCA", minimum=1)
    candidates: int = option(128, "K, candidate states per member", minimum=1)
    noise_scale: float = option(0.1, "sd of the noise added to the candidates", minimum=0.0)
    search_iterations: int = option(3000, "Adam steps of the search at most", minimum=1)
    fixed_tolerance: float = option(1e-10, "q below which a point is fixed", above=0.0)
    slow_tolerance: float = option(1e-5, "q below which a point is slow", above=0.0)
    unique_distance: float = option(1e-2, "points closer than this are one", above=0.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.slow_tolerance < self.fixed_tolerance:
            raise ValueError(
                f"config field 'slow_tolerance' must be >= fixed_tolerance = "
                f"{self.fixed_tolerance}, got {self.slow_tolerance}"
            )


def hold_input(task_name: str, task) -> torch.Tensor:
    """x* of ``task_name`` (:data:`HOLD_INPUTS`, zero for other tasks), float64."""
    values = HOLD_INPUTS.get(task_name, (0.0,) * task.input_size)
    if len(values) != task.input_size:
        raise ValueError(
            f"the hold input of {task_name} has {len(values)} channels, not "
            f"the task's {task.input_size}"
        )
    return torch.tensor(values, dtype=torch.float64)


def search_stage(stages: Stages, name: str, config: RateFixedPointsConfig, task_name: str, task):
    """Stage ``name + " fixed points"``: per member of the trained stage ``name``, the
    :data:`MEASURES` (NaN for a member whose weights or states are not finite) and, for the
    figures, its trials' conditions and its state plane. Returns the stage's values."""
    stage = f"{name} fixed points"
    if stages.done(stage):
        return stages.values(stage)
    members = config.members()
    seeds = [s for _, _, s in members]
    network = LeakyRateNetwork(
        task.input_size,
        config.hidden_size,
        task.output_size,
        ensemble_size=len(members),
        alpha=task.alpha,
        device=config.device,
        dtype=torch.float64,
    )
    weights = [
        p.to(network.device, torch.float64) for p in stage_weights(stages, name).parameters()
    ]
    finite = torch.stack([p.flatten(1).isfinite().all(1) for p in weights]).all(0)
    weights = [torch.where(finite.view(-1, 1, 1), p, 0.0) for p in weights]
    keys = rng.member_keys(seeds, "evaluation", network.device)
    trials = task.sample_members(config.analysis_trials, keys, TRIALS_COUNTER)
    with torch.no_grad():
        _, hidden = network.run(RateWeights(*weights), trials.inputs.to(torch.float64))
    finite &= hidden.flatten(1).isfinite().all(1)  # a member whose states blow up: NaN
    hidden = torch.where(finite.view(-1, 1, 1, 1), hidden, 0.0)
    weights = RateWeights(*(torch.where(finite.view(-1, 1, 1), p, 0.0) for p in weights))
    candidates = sample_initial_states(
        hidden, config.candidates, noise_scale=config.noise_scale, seed=seeds
    )
    found = find_fixed_points(
        StepDynamics.of_network(network, weights),
        candidates,
        hold_input(task_name, task).to(network.device),
        max_iterations=config.search_iterations,
        q_tolerance=config.slow_tolerance,
        unique_tolerance=config.unique_distance,
    )
    fixed = found.mask & (found.q < config.fixed_tolerance)
    modes, size = found.unstable_modes, config.hidden_size
    measures = {
        "fixed": fixed.sum(1),
        "stable": (fixed & (modes == 0)).sum(1),
        "saddle": (fixed & (modes > 0) & (modes < size)).sum(1),
        "unstable": (fixed & (modes == size)).sum(1),
        "slow": found.count,
        "slow_dimension": slow_dimension(found),
    }
    values = {  # slow_dimension is computed on the CPU (scikit-learn)
        key: torch.where(finite.cpu(), value.cpu().double(), float("nan")).tolist()
        for key, value in measures.items()
    }
    planes = state_planes(hidden, found)
    pad = config.candidates - found.points.shape[1]  # one width for every chunk of a sweep

    def padded(tensor: torch.Tensor, fill) -> torch.Tensor:
        tail = [0, 0] * (tensor.dim() - 2)
        return torch.nn.functional.pad(tensor, [*tail, 0, pad], value=fill)

    stages.save(
        stage,
        done=True,
        values=values,
        conditions=trial_conditions(trials),
        trajectories=planes.trajectories,
        points=padded(planes.points, float("nan")),
        directions=padded(planes.directions, float("nan")),
        modes=padded(modes, 0),
        fixed=padded(fixed, False),
    )
    return values


def _task_results(stages: Stages, config: RateFixedPointsConfig, task_name: str, progress):
    task = tasks.get(task_name)
    result, exponents, dimensions, counts = {}, [], [], []
    for rule in config.rules:
        name = f"{task_name} {rule}"
        values = train_stage(stages, name, config, task, rule, progress)
        exponent = stage_exponents(stages, name, config, task)
        measures = search_stage(stages, name, config, task_name, task)
        selected = selected_members(config, torch.tensor(values["losses"]).T)
        index = {gain: members for gain, (_, members) in selected.items()}
        per_gain = {key: mean_sd(torch.tensor(measures[key]), index) for key in MEASURES}
        per_gain["max_exponent"], per_gain["collapsed"] = exponent_mean_sd(
            exponent, index, config.lyapunov_trajectories
        )
        per_gain["accuracy"] = mean_sd(torch.tensor(values["accuracy"]["all"]), index)
        per_gain["learning_rate"] = {f"{g:g}": lr for g, (lr, _) in selected.items()}
        per_gain["shown"] = {f"{g:g}": members[0] for g, members in index.items()}
        result[rule] = per_gain
        chosen = [i for members in index.values() for i in members]
        exponents += exponent[chosen].tolist()
        dimensions += [measures["slow_dimension"][i] for i in chosen]
        counts += [measures["fixed"][i] for i in chosen]
    result["spearman"] = {
        f"max_exponent vs {key}": spearman(exponents, other)
        for key, other in (("slow_dimension", dimensions), ("fixed", counts))
    }
    return result


def run(config: RateFixedPointsConfig, folder: RunFolder, progress: bool = True) -> dict:
    """One task after another; result.json grows by one task's results at a time."""
    stages = Stages(folder)
    result = {"experiment": "rate-fixed-points", "config": to_dict(config), "runs": {}}
    for task_name in config.tasks:
        result["runs"][task_name] = _task_results(stages, config, task_name, progress)
        folder.write_result(result)
    return result


def member_rows(config: RateFixedPointsConfig, folder: RunFolder) -> list[dict]:
    """Per (task, rule) and member, the rows of ``rate-gain`` (the running-mean loss per
    logged window, the accuracy on the last), the last also with lambda_1 after training
    (``max_exponent``) and the :data:`MEASURES` of its fixed and slow points."""
    stages, rows = Stages(folder), []
    for task_name in config.tasks:
        for rule in config.rules:
            values = stages.values(f"{task_name} {rule}")
            measures = stages.values(f"{task_name} {rule} fixed points")
            for i, (gain, lr, seed) in enumerate(config.members()):
                member = {"task": task_name, "rule": rule, "gain": gain}
                member |= {"learning_rate": lr, "seed": seed}
                member_rows = [member | row for row in stage_rows(values, i, config.log_every)]
                member_rows[-1] |= {key: measures[key][i] for key in MEASURES}
                rows += member_rows
    return rows


def gather(config: RateFixedPointsConfig, parts: list[RunFolder], folder: RunFolder) -> dict:
    """The result of the whole config from its chunks' stages (see MemberAxes)."""
    join_stages(config, parts, folder, lambda c, _: c.members())
    return run(config, folder, progress=False)


register(
    Experiment(
        "rate-fixed-points",
        "Fixed and slow points, their stability and the slow-manifold dimension of the "
        "rate-gain networks after BPTT and e-prop, vs gain and lambda_1",
        RateFixedPointsConfig,
        run,
        summary,
        plot=plot,
        tiny=lambda: RateFixedPointsConfig(
            tasks=("romo", "flip-flop"),
            **TINY_GRID,
            lyapunov_trajectories=2,
            lyapunov_trials=2,
            analysis_trials=2,
            candidates=8,
            search_iterations=20,
        ),
        quick=lambda: RateFixedPointsConfig(
            tasks=("romo", "flip-flop"),
            gains=(0.2, 1.0),
            learning_rates=(3e-3,),
            seeds=(0, 1),
            iterations=600,
            test_trials=200,
            lyapunov_trajectories=8,
            lyapunov_trials=4,
        ),
        members=MemberAxes(AXES, member_rows, gather),
    )
)
