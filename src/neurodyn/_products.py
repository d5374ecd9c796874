"""Batched float32 products by oneDNN where it computes them exactly as the default path.

On x86 PyTorch hands float32 ``bmm`` / ``baddbmm`` to MKL, which runs its AVX2 code on
AMD CPUs. With the rate RNN's per-step products ((E, 32, 64) x (E, 64, 64) and the two of
the backward pass) on oneDNN's AVX-512 kernels instead, its BPTT gradient at E = 100 on
Romo is 1.3-1.5x faster on an AMD Zen 5 (``python benchmarks/rate_ensemble.py`` prints
both). PyTorch sends float32 products to oneDNN only in the matmul mode
``torch.backends.mkldnn.matmul.fp32_precision = "bf16"``, which *allows* oneDNN to round
the operands to bfloat16; it may do so where the CPU has bfloat16 matrix units (AMX), and
on the Zen 5 it computed in float32. So :func:`onednn_products` switches the mode on
(around a block of products, restoring the caller's setting) only where a probe found
oneDNN's results bit-identical to the default path for the very shapes, operand layouts
and leak, once per process. Elsewhere (rounding to bfloat16, other devices or dtypes, a
PyTorch without the setting, ``NEURODYN_ONEDNN=0``) it does nothing. The mode is
process-wide while a block runs: products of other threads in that time may take the
oneDNN path too.
"""

from __future__ import annotations

import os

import torch

_verdicts: dict[tuple, bool] = {}


class Products:
    """Context manager: inside it, float32 batched products run on oneDNN if ``onednn``."""

    def __init__(self, onednn: bool):
        self.onednn = onednn
        self._saved = None

    def __enter__(self) -> Products:
        if self.onednn:
            self._saved = torch.backends.mkldnn.matmul.fp32_precision
            torch.backends.mkldnn.matmul.fp32_precision = "bf16"
        return self

    def __exit__(self, *exc) -> None:
        if self.onednn:
            torch.backends.mkldnn.matmul.fp32_precision = self._saved


def onednn_products(
    ensemble: int, rows: int, columns: int, inner: int, alpha: float, like: torch.Tensor
) -> Products:
    """:class:`Products` for the rate RNN's step products of an ensemble of ``ensemble``
    members with leak ``alpha``: (rows x columns) x (columns x columns) forward (scaled by
    1 - alpha, added to alpha times the output), (rows x inner) x (inner x columns) and
    (inner x rows) x (rows x columns) backward, in the layouts of
    :mod:`neurodyn.rules.gradients`; on oneDNN only where the probe passed."""
    if os.environ.get("NEURODYN_ONEDNN", "1") == "0":
        return Products(False)
    key = (ensemble, rows, columns, inner, alpha, like.dtype, like.device)
    if key not in _verdicts:
        _verdicts[key] = _available(like) and _probe(ensemble, rows, columns, inner, alpha)
    return Products(_verdicts[key])


def _available(like: torch.Tensor) -> bool:
    return (
        like.device.type == "cpu"
        and like.dtype == torch.float32
        and torch.backends.mkldnn.is_available()
        and hasattr(torch.backends.mkldnn, "matmul")
    )


@torch.no_grad()
def _probe(ensemble: int, rows: int, columns: int, inner: int, alpha: float) -> bool:
    """Whether the three step products give the same bits on oneDNN as by default: random
    operands, in the layouts the gradients use (per-step blocks of time-major buffers)."""
    gen = torch.Generator().manual_seed(0)
    E, B, N, K = ensemble, rows, columns, inner
    rates = torch.randn(2, E, B, N, generator=gen)
    recurrent = torch.randn(E, N, N, generator=gen)
    carried = torch.randn(2, E, B, K, generator=gen)
    pushing = torch.randn(E, K, N, generator=gen)
    start = torch.randn(E, B, N, generator=gen)

    def products() -> list[torch.Tensor]:
        hidden = start.clone().baddbmm_(rates[0], recurrent, beta=alpha, alpha=1 - alpha)
        pushed = torch.bmm(carried[0], pushing)
        blocks = pushing.clone().baddbmm_(carried[1].mT, rates[1])
        return [hidden, pushed, blocks]

    try:
        default = products()
        with Products(True):
            fast = products()
    except RuntimeError:  # a PyTorch build without the mode
        return False
    return all(torch.equal(a, b) for a, b in zip(default, fast, strict=True))
