"""Harder benchmarks: the steering learner, its fixed-feature baselines and backprop.

Issue 19 part 3 (Scardecchia 2025, arXiv 2510.11984, chapter 4 beyond Entangled MNIST):
does the learned recurrent representation keep its margin over fixed features on a harder
task, and how far is it from backprop? For each data set of ``datasets``:

* the ensemble of ``steering-emnist`` (:func:`.steering_emnist.build`): the **full** model
  (learned J and W_in, transient steering) and the readout-only **random-features** and
  **reservoir** baselines, one member per (model, seed), trained by the shared steering
  training (:func:`._steering_training.train_in_folder`);
* a **backprop MLP** of the same hidden size H (:mod:`neurodyn.training.mlp_baseline`:
  one hidden layer, Adam, cross-entropy) on the same +-1 inputs, for every learning rate
  of ``mlp_learning_rates`` and every seed, reported at its best learning rate.

Data sets (:mod:`._steering_data`): ``mnist1d``, MNIST-1D's 40-float sequences through the
front end of Entangled MNIST (x_tilde = sign(x R), R in R^{40 x N}; Greydanus 2020, whose
published accuracies are drawn next to it), and ``mnist-pixels``, full-resolution MNIST
with its 784 pixels thresholded at 1/2 (no 100-bit bottleneck); ``entangled-mnist`` and
``prototypes`` may be listed too. ``input_bits`` is N of the projected data sets; a
mnist-pixels ensemble always reads 784 bits. ``train_size`` / ``test_size`` cap every data
set (each keeps a random subset of that many examples, or all of its own where it has
fewer: MNIST-1D's 4 000 / 1 000); the sizes used are in the result.

Defaults: the thesis's main configuration (spec ``steering.md`` 3.2; the Entangled MNIST
hyper-parameters, untuned for these inputs) but H = 400, three seeds, 20 epochs and at most
10 000 training / 10 000 test examples per data set, which took 8 minutes of one CPU core
(12 minutes wall on a shared one; docs/open-questions.md, part 3); the MLP trains 20
epochs of batches of 32 at learning rates 1e-3, 3e-3 and 1e-2.

Resumable: each data set is a stage of the run folder's checkpoint (:class:`._stages.Stages`);
its steering training is checkpointed every epoch there, and a finished data set (its
metric rows and MLP accuracies) is never recomputed. ``metrics.csv`` holds the steering
rows of every data set and ``result.json`` is rewritten after every epoch;
``summary`` and ``plot`` (:mod:`._steering_harder_report`) read ``result.json`` alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from neurodyn.config import option
from neurodyn.experiments import Experiment, register, steering_emnist
from neurodyn.experiments._stages import Stages
from neurodyn.experiments._steering_data import (
    DATASETS,
    PIXELS,
    SIZES,
    data_dir_option,
    load_data,
)
from neurodyn.experiments._steering_harder_report import plot, summarise, summary
from neurodyn.experiments._steering_training import (
    SteeringRuleFields,
    shared_fields,
    train_in_folder,
)
from neurodyn.runs import RunFolder
from neurodyn.training.mlp_baseline import ACTIVATIONS, train_mlp

# The config fields that train_mlp takes (as the name without "mlp_").
MLP_FIELDS = (
    "hidden_size",
    "seeds",
    "mlp_learning_rates",
    "mlp_epochs",
    "mlp_batch_size",
    "mlp_activation",
)


@dataclass(frozen=True)
class HarderConfig(steering_emnist.SteeringModelFields, SteeringRuleFields):
    """Defaults: the thesis's main configuration at H = 400, seeds 0, 1, 2, 20 epochs."""

    seeds: tuple[int, ...] = option(
        (0, 1, 2),
        "network seeds (also the MLP's); every (model, seed) pair is one ensemble member",
        minimum=0,
        unique=True,
    )
    hidden_size: int = option(
        400, "H, hidden units of the steering networks and of the MLP", minimum=1
    )
    epochs: int = option(
        20, "steering training epochs per data set, each followed by evaluation", minimum=1
    )
    datasets: tuple[str, ...] = option(
        ("mnist1d", "mnist-pixels"),
        "data sets, one after another: mnist1d (MNIST-1D through a random 40 x N projection "
        "and sign), mnist-pixels (784 MNIST pixels thresholded at 1/2), entangled-mnist, "
        "prototypes",
        choices=DATASETS,
        unique=True,
    )
    input_bits: int = option(
        100,
        "N, bits of the sign projection (mnist1d, entangled-mnist); mnist-pixels: 784",
        minimum=1,
    )
    train_size: int = option(
        10000,
        "training examples per data set at most (a random subset; all of a smaller set: "
        "MNIST-1D has 4000)",
        minimum=10,
    )
    test_size: int = option(
        10000,
        "test examples per data set at most (a random subset; all of a smaller set: "
        "MNIST-1D has 1000)",
        minimum=10,
    )
    data_seed: int = option(
        17, "seed of the example subsets and the projections R (or the prototypes)", minimum=0
    )
    data_dir: str = data_dir_option()
    mlp_learning_rates: tuple[float, ...] = option(
        (0.001, 0.003, 0.01), "Adam learning rates of the backprop MLP", above=0.0, unique=True
    )
    mlp_epochs: int = option(20, "training epochs of the backprop MLP", minimum=1)
    mlp_batch_size: int = option(32, "mini-batch of the backprop MLP", minimum=1)
    mlp_activation: str = option(
        "relu", "hidden nonlinearity phi of the MLP: relu or tanh", choices=ACTIVATIONS
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        for dataset in self.datasets:  # every data set's ensemble config is valid
            examples = dataset_config(self, dataset).train_size
            if self.mlp_batch_size > examples:
                raise ValueError(
                    f"config field 'mlp_batch_size' must be at most the {examples} training "
                    f"examples of {dataset}, got {self.mlp_batch_size}"
                )


def dataset_config(config: HarderConfig, dataset: str) -> steering_emnist.SteeringEMNISTConfig:
    """The ``steering-emnist`` config of ``dataset``'s ensemble: every shared field as in
    ``config``, ``input_bits`` 784 for mnist-pixels, the sizes capped by the data set's."""
    values = shared_fields(config, steering_emnist.SteeringEMNISTConfig) | {"dataset": dataset}
    if dataset == "mnist-pixels":
        values["input_bits"] = PIXELS
    for name, available in SIZES.get(dataset, {}).items():
        values[name] = min(values[name], available)
    return steering_emnist.SteeringEMNISTConfig(**values)


class DatasetFolder:
    """What :func:`train_in_folder` sees of the run folder while it trains one data set:
    its checkpoint is that data set's stage of the shared checkpoint (``stages``); its
    metric rows go into ``rows[dataset]``, next to every other data set's, and ``write()``
    writes ``metrics.csv`` and ``result.json`` of the whole run from them."""

    def __init__(self, stages: Stages, dataset: str, rows: dict, write: Callable[[], dict]):
        self.stages, self.dataset, self.rows, self.write = stages, dataset, rows, write
        self.path = stages.folder.path

    def load_checkpoint(self) -> tuple[dict[str, torch.Tensor], dict] | None:
        stage = self.stages.state["stages"].get(self.dataset)
        if stage is None:
            return None
        prefix = f"{self.dataset}."
        return {
            key.removeprefix(prefix): tensor
            for key, tensor in self.stages.tensors.items()
            if key.startswith(prefix)
        }, stage["values"]

    def save_checkpoint(self, tensors: dict[str, torch.Tensor], state: dict) -> None:
        self.stages.save(self.dataset, done=False, values=state, **tensors)

    def write_metrics(self, rows: list[dict]) -> None:
        self.rows[self.dataset] = rows

    def write_result(self, _: dict) -> None:  # the whole run's result instead of this part's
        self.write()


def run(config: HarderConfig, folder: RunFolder, progress: bool = True) -> dict:
    """Per data set: the steering ensemble (checkpointed per epoch), then the MLP; the data
    set is then a finished stage. ``result.json`` after every epoch and at the end."""
    stages = Stages(folder)
    done = {d: stages.values(d) for d in config.datasets if stages.done(d)}
    rows = {d: values["rows"] for d, values in done.items()}
    mlp = {d: values["mlp"] for d, values in done.items()}

    def write() -> dict:
        folder.write_metrics([{"dataset": d} | r for d in config.datasets for r in rows.get(d, [])])
        result = summarise(config, _results(config, rows, mlp))
        folder.write_result(result)
        return result

    for dataset in config.datasets:
        if dataset in done:
            continue
        settings = dataset_config(config, dataset)
        data = load_data(settings)
        network, rule = steering_emnist.build(settings)
        train_in_folder(
            settings,
            network,
            rule,
            DatasetFolder(stages, dataset, rows, write),
            seeds=[seed for _, seed in settings.members()],
            names=settings.member_names(),
            summarise=steering_emnist.summarise,
            progress=progress,
            data=data,
        )
        baseline = train_mlp(
            data, **{name.removeprefix("mlp_"): getattr(config, name) for name in MLP_FIELDS}
        )
        mlp[dataset] = {
            "test": baseline.test_accuracy.tolist(),
            "train": baseline.train_accuracy.tolist(),
        }
        stages.save(dataset, done=True, values=stages.values(dataset) | {"mlp": mlp[dataset]})
    return write()


def _results(config: HarderConfig, rows: dict, mlp: dict) -> dict:
    """Per data set begun: its ensemble's ``steering-emnist`` result and, once trained, the
    MLP's accuracies per learning rate, seed and epoch, with the sizes it used."""
    results = {}
    for dataset, dataset_rows in rows.items():
        settings = dataset_config(config, dataset)
        entry = {
            "input_bits": settings.input_bits,
            "train_size": settings.train_size,
            "test_size": settings.test_size,
            "steering": steering_emnist.summarise(settings, dataset_rows),
        }
        if dataset in mlp:
            entry["mlp"] = mlp[dataset]
        results[dataset] = entry
    return results


def tiny() -> HarderConfig:
    """Seconds: MNIST-1D (200 / 100 sequences) and the prototypes at N = 20, H = 30, two
    seeds, 2 epochs; the MLP at two learning rates for 2 epochs."""
    return HarderConfig(
        datasets=("mnist1d", "prototypes"),
        seeds=(0, 1),
        hidden_size=30,
        epochs=2,
        input_bits=20,
        train_size=200,
        test_size=100,
        mlp_learning_rates=(0.001, 0.01),
        mlp_epochs=2,
    )


register(
    Experiment(
        "steering-harder",
        "Steering learner vs fixed features and a backprop MLP on MNIST-1D and full MNIST",
        HarderConfig,
        run,
        summary,
        plot=plot,
        tiny=tiny,
    )
)
