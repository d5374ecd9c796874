"""Full float32 precision and deterministic algorithms for the span of a computation.

:func:`full_precision` turns TensorFloat-32 and reduced-precision float32 matmuls off
(``torch.set_float32_matmul_precision("highest")``, ``torch.backends.cuda.matmul.allow_tf32``
and ``torch.backends.cudnn.allow_tf32`` False, and on PyTorch >= 2.9 every backend's
``fp32_precision`` "ieee": on CPUs with bfloat16 units "medium" makes oneDNN matmuls
bfloat16) and puts the caller's exact settings back afterwards, also on an exception.
neurodyn's public entry points (training loops, Lyapunov spectra, fixed-point searches)
run under it, so their numbers do not depend on a setting made elsewhere in the process;
use it as ``with full_precision():`` or ``@full_precision()`` in your own code.

Deterministic algorithms are the application's choice (they set an environment
variable): the ``neurodyn`` command's ``--deterministic``, :func:`neurodyn.cli.deterministic`.
Importing this module changes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

# The backends of PyTorch's fp32_precision settings (>= 2.9), parents before children.
_BACKENDS = ("", "cuda.matmul", "cudnn", "cudnn.conv", "cudnn.rnn", "mkldnn", "mkldnn.matmul",
             "mkldnn.conv", "mkldnn.rnn")  # fmt: skip


def _backend(path: str):
    backend = torch.backends
    for part in filter(None, path.split(".")):
        backend = getattr(backend, part)
    return backend


def _backends() -> list[str]:
    """The backends with an ``fp32_precision`` setting in this PyTorch (none before 2.9)."""
    if not hasattr(torch.backends, "fp32_precision"):
        return []
    return [path for path in _BACKENDS if hasattr(_backend(path), "fp32_precision")]


def _read(getter):
    """``getter()``, or None where PyTorch refuses to answer (the caller mixed the older
    settings with the newer ``fp32_precision`` ones, and they disagree)."""
    try:
        return getter()
    except RuntimeError:
        return None


def matmul_precision() -> str:
    """``torch.get_float32_matmul_precision()``, or ``"mixed"`` where PyTorch refuses to say
    (its older and newer TF32 settings disagree)."""
    return _read(torch.get_float32_matmul_precision) or "mixed"


@contextlib.contextmanager
def full_precision() -> Iterator[None]:
    """Float32 matmuls and convolutions in full precision (no TF32, no bfloat16) inside,
    the caller's settings restored exactly afterwards (a context manager or decorator)."""
    matmul = _read(torch.get_float32_matmul_precision)
    cudnn = _read(lambda: torch.backends.cudnn.allow_tf32)
    settings = {path: _backend(path).fp32_precision for path in _backends()}
    torch.set_float32_matmul_precision("highest")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    for path in settings:
        if path.count(".") == 1:  # an operation's own setting, not a parent's default
            _backend(path).fp32_precision = "ieee"
    try:
        yield
    finally:
        if matmul is not None:
            torch.set_float32_matmul_precision(matmul)
        if cudnn is not None:
            torch.backends.cudnn.allow_tf32 = cudnn
        for path, value in settings.items():
            _backend(path).fp32_precision = value
