"""Tests that compare CUDA with the CPU (``pytest -m cuda tests/cuda``; skipped without a GPU).

Every module sets ``pytestmark = ON_CUDA``. Tolerances are stated per test: float64
comparisons differ only by summation order (relative 1e-9 or tighter); float32 ones run
in full precision (TF32 off, :mod:`neurodyn.precision`), relative 1e-4 after a few steps.
"""

from __future__ import annotations

import pytest
import torch

ON_CUDA = [
    pytest.mark.cuda,
    pytest.mark.skipif(
        not torch.cuda.is_available(),
        reason="needs a CUDA GPU (torch.cuda.is_available() is False)",
    ),
]


def assert_close(on_cuda, on_cpu, *, rtol: float, atol: float) -> None:
    """A CUDA tensor (or RateWeights / list of tensors) equal to its CPU counterpart."""
    if hasattr(on_cuda, "parameters"):
        on_cuda, on_cpu = on_cuda.parameters(), on_cpu.parameters()
    if isinstance(on_cuda, (list, tuple)):
        for a, b in zip(on_cuda, on_cpu, strict=True):
            assert_close(a, b, rtol=rtol, atol=atol)
        return
    assert on_cuda.device.type == "cuda" and on_cpu.device.type == "cpu"
    torch.testing.assert_close(on_cuda.cpu(), on_cpu, rtol=rtol, atol=atol)
