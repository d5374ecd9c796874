"""Synthetic pattern tasks: prototype classification and random hetero-associations.

* **Prototypes** (spec ``steering.md`` section 4.2): C random +-1 prototypes in dimension
  N; every example copies its class prototype and flips each bit independently with
  probability ``flip_probability`` (authors' default 0.35). Runs without any download,
  for tests and examples.
* **Random associations** (spec section 4.3, the capacity experiment): independent random
  +-1 patterns, each with an independent uniformly random label.
"""

from __future__ import annotations

import torch

from neurodyn import rng
from neurodyn.checks import check_positive_int
from neurodyn.tasks._base import ClassificationData


def prototype_patterns(
    *,
    input_size: int = 100,
    num_classes: int = 10,
    train_per_class: int = 100,
    test_per_class: int = 100,
    flip_probability: float = 0.35,
    seed: int = 0,
) -> ClassificationData:
    check_positive_int("input_size", input_size)
    check_positive_int("num_classes", num_classes, minimum=2)
    check_positive_int("train_per_class", train_per_class)
    check_positive_int("test_per_class", test_per_class)
    if not 0.0 <= flip_probability < 0.5:
        raise ValueError(f"flip_probability must lie in [0, 0.5), got {flip_probability}")
    gen = rng.generator(seed, "task")
    prototypes = torch.randint(0, 2, (num_classes, input_size), generator=gen).float() * 2 - 1

    def split(per_class: int) -> tuple[torch.Tensor, torch.Tensor]:
        labels = torch.arange(num_classes).repeat_interleave(per_class)
        flips = torch.rand(labels.numel(), input_size, generator=gen) < flip_probability
        inputs = torch.where(flips, -prototypes[labels], prototypes[labels])
        return inputs, labels

    train_x, train_y = split(train_per_class)
    test_x, test_y = split(test_per_class)
    return ClassificationData("prototypes", train_x, train_y, test_x, test_y, num_classes)


def random_associations(
    count: int, *, input_size: int, num_classes: int = 10, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hetero-association data: ``count`` random +-1 patterns (count, N), each with a label
    drawn uniformly from C classes (count,), from the seed's ``"task"`` stream.

    Every bit and label is independent, so the first P rows of a draw are a draw of P
    associations: a capacity search takes nested sets from one draw.
    """
    check_positive_int("count", count)
    check_positive_int("input_size", input_size)
    check_positive_int("num_classes", num_classes, minimum=2)
    gen = rng.generator(seed, "task")
    patterns = torch.randint(0, 2, (count, input_size), generator=gen).float() * 2 - 1
    labels = torch.randint(0, num_classes, (count,), generator=gen)
    return patterns, labels
