"""Patterns of the free-energy attractor simulations (Spisak & Friston 2025).

* :func:`digit_patterns`: scikit-learn's bundled 8 x 8 digits (1797 images, N = 64) with
  the authors' preprocessing: square every pixel, then z-score each image (population
  standard deviation). The first 10 images (digits 0-9 in order) are the training
  patterns, images 10 onwards the test set (spec section 4).
* :func:`two_bars`: the two 5 x 5 toy patterns of simulation 1, a vertical and a
  horizontal bar with cells 1, 1, 4, 1, 1, each z-scored (correlation 0.7706).
"""

from __future__ import annotations

import torch


def zscore(patterns: torch.Tensor) -> torch.Tensor:
    """Per-pattern z-score with the population standard deviation."""
    centred = patterns - patterns.mean(-1, keepdim=True)
    return centred / patterns.std(-1, correction=0, keepdim=True)


def digit_patterns(train_count: int = 10) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(training patterns (10, 64), test patterns (1787, 64), all labels), float32."""
    # imported here: scikit-learn sets KMP_* environment variables when it is imported,
    # which ``import neurodyn`` should not do
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = torch.tensor(digits.data, dtype=torch.float64) ** 2
    data = zscore(pixels).float()
    labels = torch.tensor(digits.target)
    return data[:train_count], data[train_count:], labels


def two_bars() -> torch.Tensor:
    """The vertical and horizontal bars of simulation 1, z-scored: (2, 25)."""
    line = torch.tensor([1.0, 1.0, 4.0, 1.0, 1.0], dtype=torch.float64)
    vertical = torch.zeros(5, 5, dtype=torch.float64)
    vertical[:, 2] = line
    horizontal = vertical.T.clone()
    return zscore(torch.stack([vertical.flatten(), horizontal.flatten()])).float()
