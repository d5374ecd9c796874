"""Backprop baseline: a one-hidden-layer perceptron trained with Adam on the same +-1 inputs.

Issue 19 part 3 asks how far the steering learner (Scardecchia 2025, arXiv 2510.11984) is
from backprop at the same hidden size; the authors' own MLP baseline (spec ``steering.md``
section 5: one hidden layer, AdamW, cross-entropy) left no readable numbers. The model is

    logits = phi(x W_1 + b_1) W_2 + b_2,   x in {-1, +1}^N,  W_1 in R^{N x H},  W_2 in R^{H x 10},

trained on the cross-entropy of softmax(logits) by Adam (Kingma & Ba 2015, PyTorch's
defaults beta = (0.9, 0.999), eps = 1e-8, no weight decay) on mini-batches; every epoch
draws a fresh order of the training set from the seed's ``"data"`` stream and drops the
last incomplete batch, as the steering training does (:mod:`.classification`).
Weights and biases start as :class:`torch.nn.Linear`'s, U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
drawn from the seed's ``"init"`` stream, so a seed gives the same start and the same order
at every learning rate (paired comparisons) and the same numbers on every run.

phi is ReLU by default: the standard backprop MLP, the kind behind MNIST-1D's published
~68% (Greydanus 2020), so that the comparison is with backprop at its usual strength;
tanh, the smooth counterpart of the steering units' sign(h), is the alternative.

The seeds of one learning rate train as one batched tensor program (weights (S, N, H);
Adam's update is elementwise, so each seed's slice moves as if it were trained alone);
the learning rates run one after another. Test (and train) accuracy is measured after
every epoch, so that a caller can report the best test accuracy over epochs (the issue's
"best test", as the thesis reports the steering learner's best epoch) and the final one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from neurodyn import rng
from neurodyn.checks import check_choice, check_positive_int, check_real
from neurodyn.tasks._base import ClassificationData

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}
EVALUATION_BATCH = 4096  # examples per forward pass when measuring accuracy


@dataclass(frozen=True)
class MLPBaseline:
    """Accuracies of one training run: ``test_accuracy`` and ``train_accuracy`` (L, S,
    epochs), per learning rate, seed and epoch (epoch k + 1 at index k)."""

    learning_rates: tuple[float, ...]
    seeds: tuple[int, ...]
    test_accuracy: torch.Tensor
    train_accuracy: torch.Tensor


def _linear(generators, fan_in: int, fan_out: int) -> list[torch.Tensor]:
    """Weights (S, fan_in, fan_out) and biases (S, 1, fan_out), U(-1/sqrt(fan_in), ...)."""
    bound = 1.0 / math.sqrt(fan_in)
    weight = torch.stack([torch.rand(fan_in, fan_out, generator=g) for g in generators])
    bias = torch.stack([torch.rand(1, fan_out, generator=g) for g in generators])
    return [(2 * weight - 1) * bound, (2 * bias - 1) * bound]


def _logits(parameters: list[torch.Tensor], inputs: torch.Tensor, phi) -> torch.Tensor:
    """(S, B, 10) logits of inputs (S, B, N) or (B, N) shared by every seed."""
    w1, b1, w2, b2 = parameters
    return torch.baddbmm(b2, phi(torch.matmul(inputs, w1) + b1), w2)


@torch.no_grad()
def _accuracy(parameters, inputs: torch.Tensor, labels: torch.Tensor, phi) -> torch.Tensor:
    """(S,) fraction of ``inputs`` whose argmax logit is the label, per seed."""
    correct = torch.zeros(parameters[0].shape[0], dtype=torch.float64)
    for start in range(0, inputs.shape[0], EVALUATION_BATCH):
        chunk = slice(start, start + EVALUATION_BATCH)
        predicted = _logits(parameters, inputs[chunk], phi).argmax(-1)
        correct += (predicted == labels[chunk]).sum(-1).double()
    return correct / inputs.shape[0]


def train_mlp(
    data: ClassificationData,
    *,
    hidden_size: int,
    learning_rates: Sequence[float],
    seeds: Sequence[int],
    epochs: int,
    batch_size: int,
    activation: str = "relu",
) -> MLPBaseline:
    """Train one MLP of ``hidden_size`` units per (learning rate, seed) on ``data`` for
    ``epochs`` epochs of mini-batches of ``batch_size``, on the CPU; accuracies after every
    epoch. See the module's docstring for the model and the choices."""
    if not isinstance(data, ClassificationData):
        raise TypeError(f"data must be a ClassificationData, got {type(data).__name__}")
    check_positive_int("hidden_size", hidden_size)
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    check_choice("activation", activation, ACTIVATIONS)
    rates = tuple(check_real("learning rate", r, minimum=0.0) for r in learning_rates)
    if not rates or min(rates) <= 0:
        raise ValueError(f"learning_rates must list positive numbers, got {list(learning_rates)}")
    seeds = tuple(rng.check_seeds("seeds", seeds))
    inputs, labels = data.train_inputs.float().cpu(), data.train_labels.cpu()
    if batch_size > inputs.shape[0]:
        raise ValueError(
            f"batch_size = {batch_size} exceeds the {inputs.shape[0]} training examples; "
            "choose a smaller batch"
        )
    phi = ACTIVATIONS[activation]
    test_inputs, test_labels = data.test_inputs.float().cpu(), data.test_labels.cpu()
    measured = torch.zeros(2, len(rates), len(seeds), epochs, dtype=torch.float64)
    for k, rate in enumerate(rates):
        starts = [rng.generator(seed, "init") for seed in seeds]
        parameters = [
            *_linear(starts, data.input_size, hidden_size),
            *_linear(starts, hidden_size, data.num_classes),
        ]
        parameters = [p.requires_grad_() for p in parameters]
        optimiser = torch.optim.Adam(parameters, lr=rate)
        orders = [rng.generator(seed, "data") for seed in seeds]
        for epoch in range(epochs):
            order = torch.stack([torch.randperm(inputs.shape[0], generator=g) for g in orders])
            for start in range(0, inputs.shape[0] - batch_size + 1, batch_size):
                batch = order[:, start : start + batch_size]  # (S, B)
                logits = _logits(parameters, inputs[batch], phi)
                # the sum over seeds of each seed's mean loss: per-seed gradients
                loss = torch.nn.functional.cross_entropy(
                    logits.flatten(0, 1), labels[batch].flatten(), reduction="sum"
                )
                optimiser.zero_grad()
                (loss / batch_size).backward()
                optimiser.step()
            measured[0, k, :, epoch] = _accuracy(parameters, test_inputs, test_labels, phi)
            measured[1, k, :, epoch] = _accuracy(parameters, inputs, labels, phi)
    return MLPBaseline(rates, seeds, measured[0], measured[1])
