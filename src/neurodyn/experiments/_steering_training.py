"""Checkpointed training of a steering ensemble on a classification task, in a run folder.

Shared by the steering experiments (``steering-emnist``, ``steering-depth``).
:func:`train_in_folder` trains every member with :func:`neurodyn.training.train` and, after
every epoch, saves weights, random streams and the metric rows, then lets the experiment
write its result and figures; a resumed run continues from the last saved epoch and ends
with the numbers of an uninterrupted run. :func:`accuracy_summary` condenses one member's
rows into final and best-epoch accuracies (the thesis reports the best epoch, spec 3.2).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence

from neurodyn.networks.binary import BinarySteeringNetwork, SteeringWeights
from neurodyn.rules.steering import SteeringRule
from neurodyn.runs import RunFolder
from neurodyn.tasks._base import ClassificationData
from neurodyn.tasks.mnist import entangled_mnist
from neurodyn.tasks.patterns import prototype_patterns
from neurodyn.training import EpochMetrics, RandomStreams, train

DATASETS = ("entangled-mnist", "prototypes")


@dataclasses.dataclass(frozen=True)
class EntangledMNISTFields:
    """Config fields of the data set (:func:`load_data`); defaults: Entangled MNIST of
    100 bits on all 60 000 / 10 000 images, data seed 17 (spec 4.1)."""

    dataset: str = "entangled-mnist"
    input_bits: int = 100
    train_size: int = 60000
    test_size: int = 10000
    data_seed: int = 17
    data_dir: str = ""


@dataclasses.dataclass(frozen=True)
class SteeringRuleFields:
    """Config fields of the network strengths and the steering rule that every steering
    experiment shares; defaults: the spec's main configuration (spec 3.2). An experiment
    whose source differs redeclares the field with its own default."""

    feedback_strength: float = 0.9
    readout_strength: float = 1.0
    label_strength: float = 1000.0
    update_probability: float = 1.0
    hidden_threshold: float = 0.9
    readout_threshold: float = 3.0
    coupling_learning_rate: float = 0.005
    input_learning_rate: float = 0.03
    readout_learning_rate: float = 0.1
    coupling_weight_decay: float = 0.005
    input_weight_decay: float = 0.0
    readout_weight_decay: float = 0.005
    batch_size: int = 16
    device: str = "cpu"


def shared_fields(config, target) -> dict:
    """The fields of the dataclass ``config`` that ``target`` (a class such as
    :class:`SteeringRule` or :class:`BinarySteeringNetwork`) takes as keyword arguments,
    so that an experiment's config passes its fields on by name."""
    names = inspect.signature(target).parameters
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name in names}


def check_dataset(name: str) -> None:
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {list(DATASETS)}, got {name!r}")


def load_data(config) -> ClassificationData:
    """The data of a config with fields ``dataset``, ``input_bits``, ``train_size``,
    ``test_size``, ``data_seed`` and ``data_dir``: Entangled MNIST (spec 4.1; 60 000 /
    10 000 means all images) or the synthetic prototypes (spec 4.2, for tests)."""
    if config.dataset == "prototypes":
        return prototype_patterns(
            input_size=config.input_bits,
            train_per_class=config.train_size // 10,
            test_per_class=config.test_size // 10,
            seed=config.data_seed,
        )
    return entangled_mnist(
        config.input_bits,
        seed=config.data_seed,
        data_dir=config.data_dir or None,
        train_size=None if config.train_size >= 60000 else config.train_size,
        test_size=None if config.test_size >= 10000 else config.test_size,
    )


def train_in_folder(
    network: BinarySteeringNetwork,
    rule: SteeringRule,
    data: ClassificationData,
    folder: RunFolder,
    *,
    seeds: Sequence[int],
    names: Sequence[str],
    epochs: int,
    batch_size: int,
    eval_sweeps: int,
    report: Callable[[list[dict]], None],
    progress: bool = True,
) -> None:
    """Train (or resume) the ensemble for ``epochs`` epochs, checkpointing every epoch.

    ``report(rows)`` is called after each epoch with all metric rows so far (one per
    member and epoch); it writes the experiment's result and figures.
    """
    streams = RandomStreams.from_seeds(seeds, network.device)
    checkpoint = folder.load_checkpoint()
    if checkpoint is None:
        weights, rows, start = network.init(list(seeds)), [], 0
    else:
        tensors, state = checkpoint
        weights = network.check_weights(
            SteeringWeights(
                **{
                    key: tensors[key].to(network.device)
                    for key in SteeringWeights.__dataclass_fields__
                }
            )
        )
        streams.load_state(tensors)
        rows, start = state["rows"], state["epoch"]

    def on_epoch(metrics: EpochMetrics, current: SteeringWeights) -> None:
        rows.extend(metrics.rows(names))
        folder.save_checkpoint(
            {**current.tensors(), **streams.state()}, {"epoch": metrics.epoch, "rows": rows}
        )
        folder.write_metrics(rows)
        report(rows)

    if start < epochs:
        train(
            network,
            weights,
            rule,
            data,
            epochs=epochs,
            streams=streams,
            batch_size=batch_size,
            eval_sweeps=eval_sweeps,
            start_epoch=start,
            on_epoch=on_epoch,
            member_names=names,
            progress=progress,
        )


def accuracy_summary(rows: list[dict], name: str) -> dict:
    """Final and best-epoch (test) accuracies of member ``name`` from its metric rows."""
    mine = [r for r in rows if r["member"] == name]
    best = max(mine, key=lambda r: (float(r["test_accuracy"]), -int(r["epoch"])))
    last = mine[-1]
    return {
        "epochs": int(last["epoch"]),
        "final_test_accuracy": float(last["test_accuracy"]),
        "final_train_accuracy": float(last["train_accuracy"]),
        "best_test_accuracy": float(best["test_accuracy"]),
        "best_epoch": int(best["epoch"]),
        "best_train_accuracy": max(float(r["train_accuracy"]) for r in mine),
        "final_test_unstable_fraction": float(last["test_unstable_fraction"]),
    }
