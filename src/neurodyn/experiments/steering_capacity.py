"""Hetero-association capacity of steering nets vs width, per depth (thesis summary).

The thesis (Scardecchia 2025, arXiv 2510.11984) reports that depth raises the capacity
scaling, "slope 0.38 for L = 2 to 0.86 for L = 7"; its protocol is not available (spec
``steering.md`` 4.3: not in the authors' code). We implement the spec's inferred protocol:

* **task**: P random +-1 patterns of N = ``input_ratio`` x H bits (or a fixed N,
  ``fixed_input_size``), each with a uniformly random label among C = 10 classes
  (:func:`neurodyn.tasks.patterns.random_associations`); a seed fixes the patterns
  (shared by all depths at a width) and the initial weights;
* **network**: L layers of width H as in spec 1.4 and ``steering-depth``: input skips to
  every layer (lambda_x = 5), J_D = 0.5, ferromagnetic links lambda = 1 between layers
  (the authors' ``baseline_multi_layer.yaml`` values), feedback skips 0.9 and learned
  readout skips 1.0 from every layer, synchronous dynamics with update probability 1;
* **training**: the steering rule with the main configuration (spec 3.2: kappa_h = 0.9
  (+ J_D + lambda for L > 1), kappa_out = 3, eta_J = 0.005, eta_in = 0.03, eta_W = 0.1,
  B = 16); L warm-up sweeps, then ``clamped_sweeps`` clamped and as many free sweeps, and
  evaluation with L + ``clamped_sweeps`` sweeps (so every depth gets the same clamped
  budget; our choice);
* **stored**: all P associations (or the fraction ``recall_threshold``) classified
  correctly by the free relaxation after some epoch within the budget of ``epochs``
  (:mod:`neurodyn.training.association`);
* **P_max(H, L)** per seed: the largest stored P, found by a (k+1)-section search
  (:func:`neurodyn.analysis.capacity.search_capacity`, k = ``candidates``; k = 1 is
  bisection) between 0 and an untested ceiling ``load_ceiling`` x H, to a resolution of
  ``resolution`` x H patterns (at least 1), testing P >= B only (P_max = 0: not even B
  patterns are stored). All (seed, candidate) pairs of a round are members of **one
  ensemble** at (H, L): members with fewer patterns idle with zero learning rates once
  their epoch is over;
* **report**: per depth, the least-squares slope of P_max against H, its standard error
  over seeds and the log-log exponent (:func:`neurodyn.analysis.capacity.capacity_slope`),
  and the slope per neuron of the whole network, dP_max / d(L H) = slope / L, next to the
  thesis's 0.38 (L = 2) and 0.86 (L = 7). Whether the thesis's slope is in patterns per
  hidden unit, as here, is unverified (``steering-capacity-protocols`` tries the others).

Defaults (our choices where the thesis is silent): H in {100, 200, 400, 800} (the spec
proposes up to 1600), L = 1 ... 7, seeds {0, 1, 2} (P_max and slope per seed; the spec's
alternative, P stored in >= 50% of seeds, is not used), an epoch budget of 100 (the
measured P_max grows with it), 3 candidates per round, ceiling 5 H (a P_max censored by it
is flagged ``at_ceiling``), resolution 1% of H. Each round's brackets are checkpointed: a
resumed run redoes at most the interrupted round, with the same numbers.

``run`` rewrites ``result.json`` and ``metrics.csv`` (one row per tested pattern count)
after every (L, H) search, so that a half-finished run can be drawn; ``plot`` draws
``capacity.png`` from result.json.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
from tqdm.auto import tqdm

from neurodyn.analysis.capacity import capacity_slope, search_capacity
from neurodyn.config import option, to_dict
from neurodyn.experiments import Experiment, register
from neurodyn.experiments._stages import Stages
from neurodyn.experiments._steering_capacity_report import PAPER, plot, summary
from neurodyn.experiments._steering_training import (
    SteeringRuleFields,
    shared_fields,
    shared_option,
)
from neurodyn.networks.binary import BinarySteeringNetwork
from neurodyn.rules.steering import SteeringRule
from neurodyn.runs import RunFolder
from neurodyn.tasks.patterns import random_associations
from neurodyn.training import RandomStreams, train_until_stored


@dataclass(frozen=True)
class SteeringCapacityConfig(SteeringRuleFields):
    """Defaults: the inferred protocol of the module docstring."""

    widths: tuple[int, ...] = option(
        (100, 200, 400, 800),
        "H values (at least two), hidden units per layer",
        minimum=1,
        unique=True,
    )
    depths: tuple[int, ...] = option(
        (1, 2, 3, 4, 5, 6, 7), "L values, hidden layers", minimum=1, unique=True
    )
    seeds: tuple[int, ...] = option(
        (0, 1, 2),
        "seeds; each fixes the patterns (shared by the depths) and the initial weights",
        minimum=0,
        unique=True,
    )
    input_ratio: float = option(1.0, "N / H, input bits per hidden unit", above=0.0)
    fixed_input_size: int = option(
        0, "N for every H (0: N = input_ratio x H, growing with H)", minimum=0
    )
    num_classes: int = option(
        10, "C, classes of the uniformly random labels (readout units)", minimum=2
    )
    self_coupling: float = option(0.5, "J_D, fixed diagonal of every layer's J", unbounded=True)
    ferromagnetic_strength: float = option(
        1.0, "lambda, one-to-one couplings between consecutive layers", minimum=0.0
    )
    input_strength: float = option(
        5.0, "lambda_x, scale of every layer's input skip W_in", above=0.0
    )
    feedback_skip_strength: float = shared_option(0.9, "feedback_skip_strength")
    readout_skip_strength: float = shared_option(1.0, "readout_skip_strength")
    readout_skip_learning_rate: float = shared_option(0.1, "readout_skip_learning_rate")
    clamped_sweeps: int = option(
        5,
        "clamped sweeps after the L warm-up sweeps (as many free ones follow; eval: L + this)",
        minimum=1,
    )
    epochs: int = option(
        100,
        "epoch budget: P is stored if its associations are recalled after some epoch",
        minimum=1,
    )
    recall_threshold: float = option(
        1.0,
        "fraction of the P associations to recall for P to count as stored (1: all)",
        above=0.0,
        maximum=1.0,
    )
    candidates: int = option(
        3, "k, pattern counts tested per search round (1: bisection)", minimum=1
    )
    load_ceiling: float = option(
        5.0, "P / H at the top of the search, assumed not stored (never tested)", above=0.0
    )
    resolution: float = option(
        0.01,
        "width of the final P_max bracket as a fraction of H (at least 1 pattern)",
        minimum=0.0,
        below=1.0,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        width = min(self.widths)  # the ceiling and the input size grow with H
        if len(self.widths) < 2:
            raise ValueError(f"config field 'widths' needs two H for a slope, got {self.widths}")
        if self.ceiling(width) <= self.batch_size:
            raise ValueError(
                f"load_ceiling x H = {self.load_ceiling * width:g} leaves no pattern count "
                f"above batch_size={self.batch_size} to test at H = {width}"
            )
        if self.input_size(width) < 1:
            raise ValueError(f"config field 'input_ratio' x H gives no input bit at H = {width}")

    def input_size(self, width: int) -> int:
        return self.fixed_input_size or round(self.input_ratio * width)

    def ceiling(self, width: int) -> int:
        """The untested upper end of the search: assumed not stored."""
        return math.ceil(self.load_ceiling * width)

    def tolerance(self, width: int) -> int:
        return max(1, math.floor(self.resolution * width))


def build(
    config: SteeringCapacityConfig, depth: int, width: int, members: int
) -> tuple[BinarySteeringNetwork, SteeringRule]:
    network = BinarySteeringNetwork(
        config.input_size(width),
        width,
        num_layers=depth,
        ensemble_size=members,
        **shared_fields(config, BinarySteeringNetwork),
    )
    rule = SteeringRule(
        train_sweeps=depth + config.clamped_sweeps, **shared_fields(config, SteeringRule)
    )
    return network, rule


def search(
    config: SteeringCapacityConfig,
    depth: int,
    width: int,
    stages: Stages,
    bar: tqdm,
    prefix: str = "",
) -> dict:
    """P_max per seed at (H, L), resumed from the stage's last checkpointed round; the
    stage is named ``prefix`` + "L{depth}-H{width}"."""
    name = f"{prefix}L{depth}-H{width}"
    if stages.done(name):
        return stages.values(name)
    saved = stages.state["stages"].get(name, {}).get("values")
    seeds = list(config.seeds)
    values = saved or {
        "depth": depth,
        "width": width,
        "lower": [0] * len(seeds),
        "upper": [config.ceiling(width)] * len(seeds),
        "rounds": [],
    }
    associations = [
        random_associations(
            config.ceiling(width),
            input_size=config.input_size(width),
            num_classes=config.num_classes,
            seed=seed,
        )
        for seed in seeds
    ]

    def stores(tests: list[list[int]]) -> list[list[bool]]:
        members = [(s, count) for s, test in enumerate(tests) for count in test]
        network, rule = build(config, depth, width, len(members))
        member_seeds = [seeds[s] for s, _ in members]
        largest = max(count for _, count in members)
        bar.set_description(f"L={depth} H={width} round {len(values['rounds']) + 1}")
        _, storage = train_until_stored(
            network,
            network.init(member_seeds),
            rule,
            torch.stack([associations[s][0][:largest] for s, _ in members]),
            torch.stack([associations[s][1][:largest] for s, _ in members]),
            torch.tensor([count for _, count in members]),
            epochs=config.epochs,
            streams=RandomStreams.from_seeds(member_seeds, network.device),
            batch_size=config.batch_size,
            eval_sweeps=depth + config.clamped_sweeps,
            threshold=config.recall_threshold,
            progress=bar,
        )
        values["rounds"].append(
            [
                {"seed": seeds[s], "patterns": count, "stored": bool(ok), "epoch": int(epoch)}
                | {"recall": round(float(recall), 6)}
                for (s, count), ok, epoch, recall in zip(
                    members, storage.stored, storage.epoch, storage.recall, strict=True
                )
            ]
        )
        outcomes = iter(storage.stored.tolist())
        return [[next(outcomes) for _ in test] for test in tests]

    def checkpoint(lower: list[int], upper: list[int]) -> None:
        values["lower"], values["upper"] = lower, upper
        stages.save(name, done=False, values=values)

    search_capacity(
        stores,
        values["lower"],
        values["upper"],
        candidates=config.candidates,
        minimum=config.batch_size,
        tolerance=config.tolerance(width),
        on_round=checkpoint,
    )
    stages.save(name, done=True, values=values)
    return values


def run(config: SteeringCapacityConfig, folder: RunFolder, progress: bool = True) -> dict:
    """Search P_max at every (L, H) in turn; result.json and metrics.csv after each search."""
    stages = Stages(folder)
    bar = tqdm(disable=not progress, unit="epoch", dynamic_ncols=True, mininterval=1.0)
    searches = []
    for depth in config.depths:
        for width in config.widths:
            searches.append(search(config, depth, width, stages, bar))
            folder.write_metrics(
                [
                    {"depth": s["depth"], "width": s["width"], "round": k + 1} | test
                    for s in searches
                    for k, tests in enumerate(s["rounds"])
                    for test in tests
                ]
            )
            result = summarise(config, searches)
            folder.write_result(result)
    bar.close()
    return result


def summarise(config: SteeringCapacityConfig, searches: list[dict]) -> dict:
    """P_max per depth, width and seed; slope per depth next to the thesis. ``searches``
    may be the finished ones of a half-finished run: a depth is reported once one of its
    widths is done, its slope once two are."""
    capacities, slopes = {}, {}
    for depth in config.depths:
        mine = sorted((s for s in searches if s["depth"] == depth), key=lambda s: s["width"])
        if not mine:
            continue
        per_seed = np.array([s["lower"] for s in mine]).T  # (seeds, widths)
        capacities[str(depth)] = {
            "widths": [s["width"] for s in mine],
            "per_seed": per_seed.tolist(),
            "mean": per_seed.mean(0).tolist(),
            # no tested count failed: P_max is censored by the untested ceiling
            "at_ceiling": [
                any(up == config.ceiling(s["width"]) for up in s["upper"]) for s in mine
            ],
        }
        if len(mine) > 1:
            slopes[str(depth)] = capacity_slope(capacities[str(depth)]["widths"], per_seed)
            # P_max per neuron of all L layers: dP_max / d(L H)
            slopes[str(depth)]["total_slope"] = slopes[str(depth)]["slope"] / depth
    return {
        "experiment": "steering-capacity",
        "config": to_dict(config),
        "capacities": capacities,
        "slopes": slopes,
        "searches": searches,
        "paper": PAPER,
    }


def quick() -> SteeringCapacityConfig:
    """Well under a minute: H in {48, 96}, L in {1, 2}, 2 seeds, 30 epochs, 10% resolution."""
    return SteeringCapacityConfig(
        widths=(48, 96),
        depths=(1, 2),
        seeds=(0, 1),
        epochs=30,
        load_ceiling=3.0,
        resolution=0.1,
    )


def tiny() -> SteeringCapacityConfig:
    """Seconds: :func:`quick` at H in {16, 24}, 4 epochs, B = 4, ceiling 2 H, 20% resolution."""
    return replace(
        quick(), widths=(16, 24), epochs=4, batch_size=4, load_ceiling=2.0, resolution=0.2
    )


register(
    Experiment(
        "steering-capacity",
        "Hetero-association capacity P_max vs width H per depth L: slopes (thesis 0.38 -> 0.86)",
        SteeringCapacityConfig,
        run,
        summary,
        plot=plot,
        tiny=tiny,
        quick=quick,
    )
)
