"""Checkpointed training of a steering ensemble on a classification task, in a run folder.

Shared by the steering experiments (``steering-emnist``, ``steering-depth``; Scardecchia
2025, arXiv 2510.11984, chapter 4). :func:`train_in_folder` trains every member with
:func:`neurodyn.training.train` and, after every epoch, saves weights, random streams and
the metric rows (``metrics.csv``) and rewrites ``result.json`` from them, so that a
half-finished run can be drawn; a resumed run continues from the last saved epoch and ends
with the numbers of an uninterrupted run. :func:`accuracy_summary` condenses one member's
rows into final and best-epoch accuracies (the thesis reports the best epoch, spec 3.2).
:func:`member_axes` lets ``neurodyn sweep`` split such an ensemble into chunks and join
their metric rows member by member (:class:`~neurodyn.experiments.MemberAxes`).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from neurodyn.config import Config, from_dict, option
from neurodyn.experiments import MemberAxes
from neurodyn.experiments._steering_data import load_data
from neurodyn.networks.binary import DYNAMICS, BinarySteeringNetwork, SteeringWeights
from neurodyn.rules.steering import SteeringRule
from neurodyn.runs import RunFolder
from neurodyn.tasks._base import ClassificationData
from neurodyn.training import EpochMetrics, RandomStreams, train

# The config fields that several steering experiments declare (each with its own default):
# one description and one set of allowed values whichever experiment shows it.
SHARED_FIELDS = {
    "feedback_skip_strength": (
        "lambda_wback_skip, scale of the fixed feedback skips readout -> layers l < L",
        {"minimum": 0.0},
    ),
    "readout_skip_strength": (
        "lambda_wforth_skip, scale of the learned readout skips layers l < L -> readout",
        {"minimum": 0.0},
    ),
    "readout_skip_learning_rate": (
        "learning rate of the readout skips W_out^l, l < L",
        {"minimum": 0.0},
    ),
    "dynamics": (
        "synchronous (all units at once, the authors' code) or asynchronous (random order "
        "of the hidden units)",
        {"choices": DYNAMICS},
    ),
    "train_sweeps": (
        "T, steered sweeps (the L warm-up sweeps included, so T > L); T free sweeps follow",
        {"minimum": 1},
    ),
    "eval_sweeps": ("T_eval, free sweeps from the zero state at evaluation", {"minimum": 1}),
    "epochs": ("training epochs, each followed by evaluation on train and test", {"minimum": 1}),
}


def shared_option(default, name: str):
    """The config field ``name`` of :data:`SHARED_FIELDS` with this experiment's ``default``."""
    text, allowed = SHARED_FIELDS[name]
    return option(default, text, **allowed)


def check_train_sweeps(config) -> None:
    """T > L: the L warm-up sweeps leave at least one clamped sweep."""
    if config.train_sweeps <= config.num_layers:
        raise ValueError(
            f"config field 'train_sweeps' must exceed num_layers = {config.num_layers} (the "
            f"warm-up sweeps), got {config.train_sweeps}"
        )


@dataclasses.dataclass(frozen=True)
class SteeringRuleFields(Config):
    """Config fields of the network strengths and the steering rule that every steering
    experiment shares; defaults: the spec's main configuration (spec 3.2). An experiment
    whose source differs redeclares the field with its own default."""

    feedback_strength: float = option(
        0.9,
        "lambda_wback, scale of the fixed feedback W_back ~ N(0, 1) lambda_wback / sqrt(C)",
        minimum=0.0,
    )
    readout_strength: float = option(
        1.0,
        "lambda_wforth, scale of the learned readout W_out ~ N(0, 1) lambda_wforth / sqrt(H)",
        minimum=0.0,
    )
    label_strength: float = option(
        1000.0,
        "lambda_y, label field that clamps the readout to the target while training",
        above=0.0,
    )
    update_probability: float = option(
        1.0,
        "p_update, probability that a unit updates in a synchronous sweep",
        above=0.0,
        maximum=1.0,
    )
    hidden_threshold: float = option(
        0.9, "kappa_h, hidden stability margin (J_D, and lambda for L > 1, are added)", minimum=0.0
    )
    readout_threshold: float = option(3.0, "kappa_out, readout stability margin", minimum=0.0)
    coupling_learning_rate: float = option(
        0.005, "eta_J, learning rate of the couplings J (0: fixed J)", minimum=0.0
    )
    input_learning_rate: float = option(
        0.03, "eta_in, learning rate of the input weights W_in (0: fixed W_in)", minimum=0.0
    )
    readout_learning_rate: float = option(
        0.1, "eta_W, learning rate of the readout W_out", above=0.0
    )
    coupling_weight_decay: float = option(
        0.005, "wd_J, weight decay of J (times eta_J, every step)", minimum=0.0
    )
    input_weight_decay: float = option(
        0.0, "wd_in, weight decay of W_in (times eta_in)", minimum=0.0
    )
    readout_weight_decay: float = option(
        0.005, "wd_W, weight decay of W_out (times eta_W)", minimum=0.0
    )
    batch_size: int = option(16, "B, patterns per plasticity step", minimum=1)
    device: str = option(
        "cpu", "torch device of the ensemble (cpu, cuda, cuda:1, ...)", device=True
    )


def shared_fields(config, target) -> dict:
    """The fields of the dataclass ``config`` that ``target`` (a class such as
    :class:`SteeringRule` or :class:`BinarySteeringNetwork`) takes as keyword arguments,
    so that an experiment's config passes its fields on by name."""
    names = inspect.signature(target).parameters
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name in names}


def train_in_folder(
    config,
    network: BinarySteeringNetwork,
    rule: SteeringRule,
    folder: RunFolder,
    *,
    seeds: Sequence[int],
    names: Sequence[str],
    summarise: Callable[[Any, list[dict]], dict],
    progress: bool = True,
    data: ClassificationData | None = None,
) -> dict:
    """Train (or resume) the ensemble on ``data`` (default ``load_data(config)``) for
    ``config.epochs`` epochs (``config.batch_size``, ``config.eval_sweeps``), checkpointing
    every epoch.

    After each epoch the metric rows so far (one per member and epoch) go to
    ``metrics.csv`` and ``summarise(config, rows)`` to ``result.json``, and again at the end
    from the last checkpoint; the result of the last epoch is returned (a finished run
    returns it again without training).
    """
    streams = RandomStreams.from_seeds(seeds, network.device)
    checkpoint = folder.load_checkpoint()
    # A checkpoint of epoch 0 holds the initial weights after the first evaluation, whose
    # random draws train() would repeat from start_epoch 0: start afresh from the seeds.
    if checkpoint is None or checkpoint[1]["epoch"] == 0:
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
        if start > config.epochs:  # RunFolder refuses this resume; a library caller may not
            raise ValueError(
                f"{folder.path} holds {start} trained epochs, more than epochs = "
                f"{config.epochs}; a resume may only extend a run"
            )

    def on_epoch(metrics: EpochMetrics, current: SteeringWeights) -> None:
        rows.extend(metrics.rows(names))
        folder.save_checkpoint(
            {**current.tensors(), **streams.state()}, {"epoch": metrics.epoch, "rows": rows}
        )
        write_rows(config, rows, folder, summarise)

    if start < config.epochs:
        train(
            network,
            weights,
            rule,
            load_data(config) if data is None else data,
            epochs=config.epochs,
            streams=streams,
            batch_size=config.batch_size,
            eval_sweeps=config.eval_sweeps,
            start_epoch=start,
            on_epoch=on_epoch,
            member_names=names,
            progress=progress,
        )
    # metrics.csv and result.json as the checkpoint says (a run killed between writing its
    # last checkpoint and these files is made whole here)
    return write_rows(config, rows, folder, summarise)


def write_rows(config, rows: list[dict], folder: RunFolder, summarise: Callable) -> dict:
    """``rows`` to ``metrics.csv`` and ``summarise(config, rows)`` to ``result.json``;
    returns the result."""
    folder.write_metrics(rows)
    result = summarise(config, rows)
    folder.write_result(result)
    return result


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


def member_axes(
    axes: dict[str, str], summarise: Callable, keys: Sequence[str] | None = None
) -> MemberAxes:
    """The :class:`~neurodyn.experiments.MemberAxes` of a steering experiment trained by
    :func:`train_in_folder` with ``summarise``: ``axes`` as declared, ``keys`` naming the
    entries of each member of ``config.members()`` in its table rows (default: the axes)."""
    return MemberAxes(
        axes,
        functools.partial(member_rows, keys=tuple(axes if keys is None else keys)),
        functools.partial(join_rows, summarise=summarise),
    )


def member_rows(config, folder: RunFolder, keys: tuple[str, ...]) -> list[dict]:
    """The tidy rows of a finished run: per member (in ``config.members()`` order) and
    epoch, the member's values under ``keys``, the epoch and the metrics of ``metrics.csv``
    (its name and the wall-clock seconds left out; an empty entry is None)."""
    return [
        dict(zip(keys, member, strict=True))
        | {
            key: int(value) if key == "epoch" else float(value) if value else None
            for key, value in row.items()
            if key not in ("member", "seconds")
        }
        for member, rows in _logged(config, folder).items()
        for row in rows
    ]


def join_rows(config, parts: Sequence[RunFolder], folder: RunFolder, summarise: Callable) -> dict:
    """``MemberAxes.gather``: write into ``folder`` the ``metrics.csv`` and ``result.json``
    of ``config`` from the finished run folders ``parts`` of its chunks, without training.

    Every member's rows (renamed to its name in ``config``) come in the order of
    :func:`train_in_folder`, per epoch every member, and the result (means over seeds
    included) is summarised from the whole config; weights stay in the chunks' folders.
    """
    logged: dict[tuple, list[dict]] = {}
    for part in parts:
        logged |= _logged(from_dict(type(config), part.config), part)
    names = dict(zip(config.members(), config.member_names(), strict=True))
    missing = [
        name for member, name in names.items() if len(logged.get(member, ())) != config.epochs + 1
    ]
    if missing:
        raise ValueError(
            f"the chunks do not hold the rows of epochs 0 .. {config.epochs} of members {missing}"
        )
    rows = [
        logged[member][epoch] | {"member": name}
        for epoch in range(config.epochs + 1)
        for member, name in names.items()
    ]
    return write_rows(config, rows, folder, summarise)


def _logged(config, folder: RunFolder) -> dict[tuple, list[dict]]:
    """Member of ``config`` -> its rows of ``folder``'s ``metrics.csv``, in epoch order."""
    members = dict(zip(config.member_names(), config.members(), strict=True))
    logged = {member: [] for member in members.values()}
    for row in folder.read_metrics():
        if row["member"] not in members:
            raise ValueError(
                f"{folder.path}: metrics.csv names a member {row['member']!r} "
                "that its config does not hold"
            )
        logged[members[row["member"]]].append(row)
    return logged
