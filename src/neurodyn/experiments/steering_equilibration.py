"""Equilibration time as a signal: sweeps to a fixed point per label and out of distribution.

The thesis's open question 4 (Scardecchia, arXiv 2510.11984; issue 19 part 2). A steering
ensemble (one member per seed) is trained on Entangled MNIST without one digit
(``held_out_class``, 9 by default) by the shared training machinery
(:func:`._steering_training.train_in_folder`), then, with the measurements of
:mod:`neurodyn.analysis.equilibration`:

(a) **steered**: every in-distribution test image relaxes under every label (the rule's
    warm-up and clamped phases, then free sweeps until stable, label pinned): is the
    label that converges fastest a classifier? Its accuracy (ties split evenly) next to
    the readout's argmax accuracy after ``eval_sweeps`` free sweeps, and next to a finer
    signal of the same relaxation: the label whose steered state has the fewest unstable
    units once the feedback is removed;
(b) **free**: relaxation from zero (no feedback, no label) of the in-distribution test
    images and of three out-of-distribution sets: ``random`` sign vectors (as many),
    ``permuted`` (the same test images with their pixels reordered by one fixed
    permutation, then the same projection; for the synthetic prototypes, their bits),
    and ``held-out`` (the test images of the held-out digit). Each OOD score is ranked
    against the in-distribution set by its AUROC (larger out of distribution): sweeps to
    converge, the unstable fraction at the evaluation state and after the relaxation,
    and the baseline, minus the readout's max logit at the evaluation state.

Choices: a run that does not converge within ``max_sweeps`` counts ``max_sweeps + 1``;
the dynamics are synchronous, as trained (the network's ``update_probability``; p < 1
draws from a fresh ``"evaluation"`` stream of each seed in every stage, so that a resumed
run draws what an uninterrupted one does); every member sees all ten labels, the
held-out one included. Stages (training per epoch, each set, the steered relaxation) are
checkpointed; ``summary`` and ``plot`` (:mod:`._steering_equilibration_report`) read
``result.json`` and ``arrays.safetensors`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from neurodyn import rng
from neurodyn.analysis.equilibration import (
    auroc,
    fastest_label_accuracy,
    free_equilibration,
    label_sweeps,
)
from neurodyn.config import option, to_dict
from neurodyn.experiments import Experiment, register
from neurodyn.experiments._stages import Stages
from neurodyn.experiments._steering_data import TINY_DATA, EntangledMNISTFields, load_data
from neurodyn.experiments._steering_equilibration_report import OOD, SCORES, plot, summary
from neurodyn.experiments._steering_training import (
    SteeringRuleFields,
    accuracy_summary,
    shared_fields,
    shared_option,
    train_in_folder,
)
from neurodyn.networks.binary import BinarySteeringNetwork, SteeringWeights
from neurodyn.rules.steering import SteeringRule
from neurodyn.runs import RunFolder
from neurodyn.tasks._base import ClassificationData

SETS = ("in-distribution", *OOD)
PAPER = {
    "question": "is the equilibration time a signal: does the correct label converge "
    "fastest, and do out-of-distribution inputs take longer? (thesis open question 4)",
}


@dataclass(frozen=True)
class EquilibrationConfig(SteeringRuleFields, EntangledMNISTFields):
    """Defaults: the spec's main configuration (H = 1600, 30 epochs), one seed."""

    seeds: tuple[int, ...] = option(
        (17,), "network seeds, one ensemble member each", minimum=0, unique=True
    )
    hidden_size: int = option(1600, "H, hidden units (thesis main setting 1600)", minimum=1)
    self_coupling: float = option(0.5, "J_D, fixed diagonal of J", unbounded=True)
    input_strength: float = option(5.0, "lambda_x, scale of the input weights", above=0.0)
    train_sweeps: int = shared_option(5, "train_sweeps")
    eval_sweeps: int = shared_option(5, "eval_sweeps")
    epochs: int = shared_option(30, "epochs")
    held_out_class: int = option(
        9, "digit left out of training; its test images are an OOD set", minimum=0, maximum=9
    )
    max_sweeps: int = option(
        100, "free sweeps before a relaxation counts as not converged (max_sweeps + 1)", minimum=1
    )
    ood_seed: int = option(0, "seed of the random inputs and of the pixel permutation", minimum=0)
    relaxation_batch: int = option(
        4096, "samples (or sample x label pairs) relaxed at once", minimum=1
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.train_sweeps < 2:
            raise ValueError(
                "config field 'train_sweeps' must be at least 2 (one warm-up sweep, then "
                f"clamped sweeps), got {self.train_sweeps}"
            )
        if self.max_sweeps < max(self.eval_sweeps, self.train_sweeps):
            raise ValueError(
                f"config field 'max_sweeps' must be at least eval_sweeps and train_sweeps "
                f"({max(self.eval_sweeps, self.train_sweeps)}), got {self.max_sweeps}"
            )

    def member_names(self) -> list[str]:
        return [f"seed{seed}" for seed in self.seeds]


def build(config: EquilibrationConfig) -> tuple[BinarySteeringNetwork, SteeringRule]:
    """One single-layer member per seed, synchronous, and the steering rule."""
    network = BinarySteeringNetwork(
        config.input_bits,
        ensemble_size=len(config.seeds),
        **shared_fields(config, BinarySteeringNetwork),
    )
    return network, SteeringRule(**shared_fields(config, SteeringRule))


def datasets(config: EquilibrationConfig) -> tuple[ClassificationData, dict[str, torch.Tensor]]:
    """The training data without the held-out class (tested on the other classes) and the
    test inputs of every set of :data:`SETS`."""
    data = load_data(config)
    held = config.held_out_class
    kept_train, kept_test = data.train_labels != held, data.test_labels != held
    if bool(kept_test.all()):
        raise ValueError(f"the test set holds no example of the held-out class {held}")
    trained = ClassificationData(
        data.name,
        data.train_inputs[kept_train],
        data.train_labels[kept_train],
        data.test_inputs[kept_test],
        data.test_labels[kept_test],
        data.num_classes,
    )
    inside = trained.test_inputs
    draws = rng.generator(config.ood_seed, "ood")
    random = torch.randint(0, 2, inside.shape, generator=draws).to(inside.dtype) * 2 - 1
    permuted = load_data(config, permutation_seed=config.ood_seed).test_inputs[kept_test]
    sets = dict(zip(SETS, (inside, random, permuted, data.test_inputs[~kept_test]), strict=True))
    return trained, sets


def run(config: EquilibrationConfig, folder: RunFolder, progress: bool = True) -> dict:
    """Train (checkpointed per epoch), then the free relaxation of every set and the steered
    relaxation under every label, each a checkpointed stage; arrays and result at the end."""
    trained, sets = datasets(config)
    network, rule = build(config)
    training = train_in_folder(
        config,
        network,
        rule,
        folder,
        seeds=config.seeds,
        names=config.member_names(),
        summarise=summarise_training,
        progress=progress,
        data=trained,
    )
    stages = Stages(folder)
    weights = network.check_weights(
        SteeringWeights(
            **{
                key: stages.tensors[key].to(network.device)
                for key in SteeringWeights.__dataclass_fields__
            }
        )
    )
    options = {"max_sweeps": config.max_sweeps, "batch_size": config.relaxation_batch}
    for name in tqdm([*SETS, "steered"], disable=not progress, unit="stage"):
        if stages.done(name):
            continue
        generators = rng.generators(config.seeds, "evaluation", network.device)
        if name == "steered":
            values = label_sweeps(
                network, rule, weights, sets["in-distribution"], generators=generators, **options
            )
            stages.save(name, done=True, **values)
        else:
            values = free_equilibration(
                network,
                weights,
                sets[name],
                eval_sweeps=config.eval_sweeps,
                generators=generators,
                **options,
            )
            stages.save(name, done=True, **values)
    arrays = {
        key: tensor
        for key, tensor in stages.tensors.items()
        if key.split(".")[0] in (*SETS, "steered")
    } | {"labels": trained.test_labels}
    folder.write_arrays(arrays)
    result = summarise(config, training, arrays)
    folder.write_result(result)
    return result


def summarise_training(config: EquilibrationConfig, rows: list[dict]) -> dict:
    """The training part of the result (written after every epoch)."""
    return {
        "experiment": "steering-equilibration",
        "config": to_dict(config),
        "training": {name: accuracy_summary(rows, name) for name in config.member_names()},
    }


def _spread(values: list[float]) -> list[float]:
    """Mean and standard error over seeds (0 for one seed)."""
    array = np.asarray(values, dtype=float)
    error = array.std(ddof=1) / np.sqrt(array.size) if array.size > 1 else 0.0
    return [float(array.mean()), float(error)]


def summarise(config: EquilibrationConfig, training: dict, arrays: dict) -> dict:
    """Per member and as mean +- standard error over seeds: the accuracies of part (a),
    convergence per set and the AUROC of every score per OOD set of part (b)."""
    labels, budget = arrays["labels"], config.max_sweeps
    steered = arrays["steered.sweeps"]
    fastest, tied = fastest_label_accuracy(steered, labels)
    stablest, _ = fastest_label_accuracy(arrays["steered.unstable_removal"], labels)
    correct = torch.nn.functional.one_hot(labels, steered.shape[-1]).bool().expand_as(steered)
    members = []
    for e, name in enumerate(config.member_names()):
        prediction = arrays["in-distribution.prediction"][e]
        member = {
            "name": name,
            "seed": config.seeds[e],
            "readout_accuracy": float((prediction == labels).float().mean()),
            "fastest_label_accuracy": float(fastest[e]),
            "tied_fraction": float(tied[e]),
            "least_unstable_label_accuracy": float(stablest[e]),
            "mean_sweeps_correct_label": float(steered[e][correct[e]].float().mean()),
            "mean_sweeps_wrong_labels": float(steered[e][~correct[e]].float().mean()),
            "converged_correct_label": float((steered[e][correct[e]] <= budget).float().mean()),
            "converged_wrong_labels": float((steered[e][~correct[e]] <= budget).float().mean()),
        }
        for name_set in SETS:
            sweeps = arrays[f"{name_set}.sweeps"][e].float()
            member[f"{name_set}.converged"] = float((sweeps <= budget).float().mean())
            member[f"{name_set}.median_sweeps"] = float(sweeps.median())
        for name_set in SETS[1:]:
            for score, (key, sign) in SCORES.items():
                inside = sign * arrays[f"in-distribution.{key}"][e].double()
                outside = sign * arrays[f"{name_set}.{key}"][e].double()
                member[f"auroc.{name_set}.{score}"] = auroc(inside, outside)
        members.append(member)
    keys = [key for key in members[0] if key not in ("name", "seed")]
    return {
        "experiment": "steering-equilibration",
        "config": to_dict(config),
        "training": training["training"],
        "set_sizes": {name: int(arrays[f"{name}.sweeps"].shape[1]) for name in SETS},
        "members": members,
        "mean": {key: _spread([m[key] for m in members]) for key in keys},
        "paper": PAPER,
    }


def quick() -> EquilibrationConfig:
    """Under a minute on one thread: H = 400, 20 000 training images, 5 epochs, one seed
    (docs/open-questions.md shows seeds 0, 1, 2 of the same settings)."""
    return EquilibrationConfig(seeds=(0,), hidden_size=400, train_size=20000, epochs=5)


def tiny() -> EquilibrationConfig:
    """Seconds: H = 30 on the synthetic prototypes, 2 epochs, 2 seeds, 30 sweeps."""
    return EquilibrationConfig(
        seeds=(0, 1), hidden_size=30, epochs=2, max_sweeps=30, relaxation_batch=128, **TINY_DATA
    )


register(
    Experiment(
        "steering-equilibration",
        "Sweeps to a fixed point as a signal: steered labels, out-of-distribution inputs",
        EquilibrationConfig,
        run,
        summary,
        plot=plot,
        tiny=tiny,
        quick=quick,
    )
)
