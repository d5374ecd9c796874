"""The +-1 front ends of the steering learner's data sets, and their random subsets.

The steering network reads binary inputs x_tilde in {-1, +1}^N (spec ``steering.md``
section 1.1). Entangled MNIST (spec 4.1; Scardecchia 2025, arXiv 2510.11984) makes them
from real-valued features x (the 784 pixels of an image) by one random projection and a
sign,

    x_tilde = sign(x R),   R in R^{D x N},   R_ij ~ N(0, 1),

with one R for train and test and sign(0) = +1 (:func:`sign_projection`); MNIST-1D goes
through the same front end (:mod:`neurodyn.tasks.mnist1d`), and full-resolution MNIST
through a threshold of its pixels instead (:func:`neurodyn.tasks.mnist.mnist_pixels`).
:func:`binarised_data` encodes both splits and keeps random subsets of them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from neurodyn.checks import check_positive_int
from neurodyn.tasks._base import ClassificationData

Split = tuple[torch.Tensor, torch.Tensor]  # features (P, D) float64, labels (P,) int64
Encoder = Callable[[torch.Tensor], torch.Tensor]


def signs(values: torch.Tensor) -> torch.Tensor:
    """sign(values) in {-1, +1} as float32, with sign(0) = +1."""
    return torch.where(values >= 0, 1.0, -1.0).float()


def sign_projection(width: int, bits: int, generator: torch.Generator) -> Encoder:
    """x -> sign(x R) for features of ``width`` entries, with R (``width`` x ``bits``),
    R_ij ~ N(0, 1) in float64, drawn once from ``generator``."""
    check_positive_int("bits", bits)
    projection = torch.randn(width, bits, generator=generator, dtype=torch.float64)
    return lambda features: signs(features @ projection)


def binarised_data(
    name: str,
    train: Split,
    test: Split,
    encode: Encoder,
    *,
    generator: torch.Generator,
    train_size: int | None = None,
    test_size: int | None = None,
) -> ClassificationData:
    """Both splits through ``encode`` (features -> +-1 inputs), then, where a size is given,
    a random subset of that split drawn from ``generator`` (train first, then test; None
    keeps the whole split and draws nothing). A size above the split's is an error."""
    encoded = []
    for split, (features, labels), size in (
        ("train", train, train_size),
        ("test", test, test_size),
    ):
        inputs = encode(features)
        if size is not None:
            check_positive_int(f"{split}_size", size)
            if size > inputs.shape[0]:
                raise ValueError(
                    f"{split}_size={size} exceeds the {inputs.shape[0]} {split} examples of "
                    f"{name}; ask for at most {inputs.shape[0]}"
                )
            keep = torch.randperm(inputs.shape[0], generator=generator)[:size]
            inputs, labels = inputs[keep], labels[keep]
        encoded += [inputs, labels]
    return ClassificationData(name, *encoded, 10)
