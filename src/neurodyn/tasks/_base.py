"""Containers shared by the classification data sets."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from neurodyn._checks import check_finite


@dataclass(frozen=True)
class ClassificationData:
    """A labelled train/test split: inputs (P, N) float, labels (P,) int64 in [0, C)."""

    name: str
    train_inputs: torch.Tensor
    train_labels: torch.Tensor
    test_inputs: torch.Tensor
    test_labels: torch.Tensor
    num_classes: int

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            inputs, labels = getattr(self, f"{split}_inputs"), getattr(self, f"{split}_labels")
            if inputs.dim() != 2 or labels.dim() != 1 or inputs.shape[0] != labels.shape[0]:
                raise ValueError(
                    f"{split} inputs must be (P, N) and labels (P,) with the same P, got "
                    f"{tuple(inputs.shape)} and {tuple(labels.shape)}"
                )
            if inputs.shape[0] == 0:
                raise ValueError(f"the {split} split of {self.name} is empty")
            check_finite(f"{split} inputs", inputs)
        if self.train_inputs.shape[1] != self.test_inputs.shape[1]:
            raise ValueError("train and test inputs have different widths")

    @property
    def input_size(self) -> int:
        return int(self.train_inputs.shape[1])
