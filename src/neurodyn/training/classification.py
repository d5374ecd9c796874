"""``train`` and ``evaluate``: the epoch loop for classification with a local rule.

Every ensemble member draws its own mini-batch order from its ``"data"`` stream and its
stochastic dynamics from its ``"dynamics"`` stream (see :mod:`neurodyn.rng`), so a
member's trajectory is the same whether it runs alone or inside an ensemble. Each epoch
draws a fresh permutation of the training set and drops the last incomplete batch, as
the authors' code does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from neurodyn import rng
from neurodyn.checks import check_finite, check_positive_int, check_tensor
from neurodyn.networks.binary import BinarySteeringNetwork, SteeringWeights
from neurodyn.precision import full_precision
from neurodyn.rules.steering import SteeringRule
from neurodyn.tasks._base import ClassificationData


@dataclass
class RandomStreams:
    """The per-member generators a training run consumes; their state is checkpointed."""

    KINDS = ("data", "dynamics", "evaluation")

    data: list[torch.Generator]
    dynamics: list[torch.Generator]
    evaluation: list[torch.Generator]

    @classmethod
    def from_seeds(cls, seeds: Sequence[int], device: torch.device | str = "cpu") -> RandomStreams:
        return cls(
            rng.generators(seeds, "data"),
            rng.generators(seeds, "dynamics", device),
            rng.generators(seeds, "evaluation", device),
        )

    @classmethod
    def check(cls, streams: RandomStreams, ensemble_size: int) -> RandomStreams:
        """Raise one clear error unless ``streams`` are RandomStreams with one generator
        per member in every kind (streams of another ensemble would silently pair members
        with the wrong streams); returns ``streams``."""
        if not isinstance(streams, cls):
            raise TypeError(f"streams must be RandomStreams, got {type(streams).__name__}")
        for kind in cls.KINDS:
            gens = getattr(streams, kind)
            if not isinstance(gens, Sequence) or len(gens) != ensemble_size:
                size = len(gens) if isinstance(gens, Sequence) else type(gens).__name__
                raise ValueError(
                    f"streams.{kind} must hold one torch.Generator per member: the ensemble "
                    f"has {ensemble_size}, the streams {size}; build them with "
                    "RandomStreams.from_seeds(seeds), one seed per member"
                )
            if not all(isinstance(g, torch.Generator) for g in gens):
                raise TypeError(f"streams.{kind} must hold torch.Generator objects")
        return streams

    def state(self) -> dict[str, torch.Tensor]:
        out = {}
        for kind in self.KINDS:
            for e, gen in enumerate(getattr(self, kind)):
                out[f"rng.{kind}.{e}"] = gen.get_state()
        return out

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        for kind in self.KINDS:
            for e, gen in enumerate(getattr(self, kind)):
                key = f"rng.{kind}.{e}"
                if key not in tensors:
                    raise ValueError(f"checkpoint lacks the random state {key}")
                gen.set_state(tensors[key])


@dataclass
class EpochMetrics:
    """Per-member metrics of one epoch; every tensor has shape (E,)."""

    epoch: int
    train_accuracy: torch.Tensor
    test_accuracy: torch.Tensor
    test_unstable_fraction: torch.Tensor
    train_unstable_fraction: torch.Tensor = field(default_factory=lambda: torch.tensor([]))
    sweeps: torch.Tensor = field(default_factory=lambda: torch.tensor([]))
    hidden_update_fraction: torch.Tensor = field(default_factory=lambda: torch.tensor([]))
    readout_update_fraction: torch.Tensor = field(default_factory=lambda: torch.tensor([]))
    seconds: float = 0.0

    def rows(self, member_names: Sequence[str]) -> list[dict]:
        """One CSV row per member."""
        rows = []
        for e, name in enumerate(member_names):
            row = {"epoch": self.epoch, "member": name}
            for key in (
                "train_accuracy",
                "test_accuracy",
                "test_unstable_fraction",
                "train_unstable_fraction",
                "sweeps",
                "hidden_update_fraction",
                "readout_update_fraction",
            ):
                values = getattr(self, key)
                row[key] = round(float(values[e]), 6) if values.numel() else ""
            row["seconds"] = round(self.seconds, 2)
            rows.append(row)
        return rows


def check_examples(network: BinarySteeringNetwork, inputs: torch.Tensor) -> int:
    """The number P of examples in ``inputs`` (P, N) for ``network``, P >= 1."""
    check_tensor("inputs", inputs, (None, network.input_size), axes="(P, N), shared by members")
    if inputs.shape[0] == 0:
        raise ValueError("inputs hold no examples")
    return inputs.shape[0]


@torch.no_grad()
@full_precision()
def evaluate(
    network: BinarySteeringNetwork,
    weights: SteeringWeights,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    *,
    sweeps: int = 5,
    batch_size: int = 1024,
    generators: list[torch.Generator] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Free relaxation from zero (no feedback, no label) and argmax readout.

    Returns per-member accuracy and mean unstable fraction (s h < 0 after relaxation),
    both (E,). Spec section 2.4. ``inputs`` (P, N) are shared by the members; ``labels``
    are class indices (P,), or (E, P) per member. Stochastic dynamics (update probability
    < 1) draw from ``generators``, one per member. The fields of the final state reuse the
    recurrent input s J that an incremental relaxation keeps
    (:mod:`neurodyn.networks.synchronous`).
    """
    network.check_weights(weights)
    check_positive_int("batch_size", batch_size)
    count = check_examples(network, inputs)
    labels = network.prepare_labels(labels, count)
    correct = torch.zeros(network.ensemble_size, device=network.device)
    unstable = torch.zeros(network.ensemble_size, device=network.device)
    for start in range(0, inputs.shape[0], batch_size):
        x = inputs[start : start + batch_size]
        y = labels[:, start : start + batch_size]
        relaxed = network.relax(weights, x, sweeps=sweeps, generators=generators)
        predictions = network.logits(weights, relaxed.state.hidden).argmax(-1)
        correct += (predictions == y).sum(-1)
        kept = relaxed.recurrent
        unstable += network.unstable_fraction(weights, relaxed.state, x, recurrent=kept).sum(-1)
    return correct / inputs.shape[0], unstable / inputs.shape[0]


@torch.no_grad()
@full_precision()
def train_epoch(
    network: BinarySteeringNetwork,
    weights: SteeringWeights,
    rule: SteeringRule,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    *,
    batch_size: int,
    streams: RandomStreams,
    progress: tqdm | None = None,
) -> tuple[SteeringWeights, dict[str, torch.Tensor]]:
    """One pass over the training set in mini-batches; returns weights and mean stats.

    The given weights are updated in place (no H x H copy per mini-batch); :func:`train`
    passes its own copy. ``inputs`` (P, N) and ``labels`` (P,) are checked whole first, so
    that bad data never leaves the weights half trained.
    """
    network.check_weights(weights)
    check_positive_int("batch_size", batch_size)
    RandomStreams.check(streams, network.ensemble_size)
    num = check_examples(network, inputs)
    check_tensor("labels", labels, (num,), axes="(P,), one class index per input")
    network.prepare_labels(labels, num)
    check_finite("inputs", inputs)
    if batch_size > num:
        raise ValueError(f"batch_size={batch_size} exceeds the {num} training examples")
    orders = torch.stack([torch.randperm(num, generator=g) for g in streams.data])
    shared = bool((orders == orders[:1]).all())
    totals: dict[str, torch.Tensor] = {}
    steps = num // batch_size
    for k in range(steps):
        idx = orders[:, k * batch_size : (k + 1) * batch_size]
        if shared:  # every member sees the same batch: no per-member copy of the inputs
            x, y = inputs[idx[0]], labels[idx[0]]
        else:
            x, y = inputs[idx], labels[idx]
        weights, stats = rule.step(
            network, weights, x, y, generators=streams.dynamics, inplace=True
        )
        for key, value in vars(stats).items():
            totals[key] = totals.get(key, 0.0) + value
        if progress is not None:
            progress.update(1)
    return weights, {key: value / steps for key, value in totals.items()}


@full_precision()
def train(
    network: BinarySteeringNetwork,
    weights: SteeringWeights,
    rule: SteeringRule,
    data: ClassificationData,
    *,
    epochs: int,
    streams: RandomStreams,
    batch_size: int = 16,
    eval_sweeps: int = 5,
    start_epoch: int = 0,
    on_epoch: Callable[[EpochMetrics, SteeringWeights], None] | None = None,
    member_names: Sequence[str] | None = None,
    progress: bool = True,
) -> SteeringWeights:
    """Train for epochs ``start_epoch + 1 .. epochs``; evaluate on train and test after each.

    Epoch 0 (before any update) is evaluated when ``start_epoch == 0``. ``on_epoch`` is
    called with each epoch's metrics and weights (run folders checkpoint there). The
    progress bar shows the epoch and the train and test accuracy of the first members.
    """
    check_positive_int("epochs", epochs, minimum=0)
    check_positive_int("start_epoch", start_epoch, minimum=0)
    check_positive_int("batch_size", batch_size)
    check_positive_int("eval_sweeps", eval_sweeps, minimum=0)
    network.check_weights(weights)
    RandomStreams.check(streams, network.ensemble_size)
    if not isinstance(data, ClassificationData):
        raise TypeError(f"data must be ClassificationData, got {type(data).__name__}")
    if data.input_size != network.input_size:
        raise ValueError(
            f"data have {data.input_size} inputs but the network expects {network.input_size}"
        )
    if data.num_classes != network.num_classes:
        raise ValueError(
            f"data have {data.num_classes} classes but the network num_classes = "
            f"{network.num_classes}"
        )
    names = list(member_names or [str(e) for e in range(network.ensemble_size)])
    if len(names) != network.ensemble_size:
        raise ValueError(
            f"member_names must name each of the {network.ensemble_size} members, got {names}"
        )
    weights = weights.clone()  # trained in place below; the caller's weights stay as given

    def measure(
        epoch: int, seconds: float, stats: dict[str, torch.Tensor], weights: SteeringWeights
    ) -> EpochMetrics:
        options = {"sweeps": eval_sweeps, "generators": streams.evaluation}
        train_acc, _ = evaluate(network, weights, data.train_inputs, data.train_labels, **options)
        test_acc, test_unstable = evaluate(
            network, weights, data.test_inputs, data.test_labels, **options
        )
        metrics = EpochMetrics(
            epoch, train_acc.cpu(), test_acc.cpu(), test_unstable.cpu(), seconds=seconds
        )
        for key, value in stats.items():
            setattr(
                metrics,
                "train_unstable_fraction" if key == "unstable_fraction" else key,
                value.cpu(),
            )
        return metrics

    steps = data.train_inputs.shape[0] // batch_size
    bar = tqdm(
        total=(epochs - start_epoch) * steps,
        disable=not progress,
        unit="batch",
        dynamic_ncols=True,
        mininterval=2.0,
    )
    if start_epoch == 0:
        metrics = measure(0, 0.0, {}, weights)
        if on_epoch is not None:
            on_epoch(metrics, weights)
    for epoch in range(start_epoch + 1, epochs + 1):
        bar.set_description(f"epoch {epoch}/{epochs}")
        began = time.perf_counter()
        weights, stats = train_epoch(
            network,
            weights,
            rule,
            data.train_inputs,
            data.train_labels,
            batch_size=batch_size,
            streams=streams,
            progress=bar,
        )
        metrics = measure(epoch, time.perf_counter() - began, stats, weights)
        bar.set_postfix_str(
            "train/test "
            + "  ".join(
                f"{name} {float(tr):.3f}/{float(te):.3f}"
                for name, tr, te in zip(
                    names[:4], metrics.train_accuracy, metrics.test_accuracy, strict=False
                )
            )
        )
        if on_epoch is not None:
            on_epoch(metrics, weights)
    bar.close()
    return weights
