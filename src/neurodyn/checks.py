"""Input validation and per-member hyperparameters shared by every component.

Every public entry point validates what it is given and raises a ``ValueError`` whose
message names the argument and says what to fix (design principle 7).
"""

from __future__ import annotations

import numbers
import reprlib
from collections.abc import Sequence

import numpy as np
import torch

MemberValue = float | Sequence[float] | torch.Tensor


def describe(value: object) -> str:
    """``value`` for an error message, on one line: a tensor or array by dtype and shape,
    anything else by a shortened repr."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return f"a {value.dtype} {type(value).__name__} of shape {tuple(value.shape)}"
    return reprlib.repr(value)


def check_integer(name: str, value: int, *, minimum: int | None = None) -> int:
    """``value`` as an ``int`` if it is a Python or NumPy integer (not a bool) >= ``minimum``,
    else a clear error: 1.5, True or "3" are refused, never rounded or converted."""
    integral = isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    if not integral or (minimum is not None and value < minimum):
        bound = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"{name} must be an integer{bound}, got {describe(value)}")
    return int(value)


def check_positive_int(name: str, value: int, *, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` if it is an integer >= ``minimum``, else raise a clear
    error (see :func:`check_integer`)."""
    return check_integer(name, value, minimum=minimum)


def check_real(
    name: str, value: float, *, minimum: float | None = None, above: float | None = None
) -> float:
    """``value`` as a float if it is a finite real number (not a bool) >= ``minimum`` and
    > ``above``."""
    real = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if (
        real
        and np.isfinite(value)
        and (minimum is None or value >= minimum)
        and (above is None or value > above)
    ):
        return float(value)
    bound = "" if minimum is None else f" >= {minimum}"
    if above is not None:
        bound += f" > {above}"
    raise ValueError(f"{name} must be a finite number{bound}, got {describe(value)}")


def check_probability(name: str, value: float) -> float:
    if not (0.0 < float(value) <= 1.0):
        raise ValueError(f"{name} must lie in (0, 1], got {value!r}")
    return float(value)


def check_choice(name: str, value: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_device(name: str, device: torch.device | str) -> torch.device:
    """``device`` as a ``torch.device`` if PyTorch can use it here, else a clear error
    (an unknown name, or cuda / mps on a machine or build without them)."""
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(
            f"{name} must be a torch device such as cpu, cuda or cuda:1, got {device!r}"
        ) from None
    available = {
        "cpu": lambda: True,
        "cuda": lambda: (
            torch.cuda.is_available()
            and (parsed.index is None or parsed.index < torch.cuda.device_count())
        ),
        "mps": lambda: torch.backends.mps.is_available(),
    }
    if not available.get(parsed.type, lambda: False)():
        raise ValueError(f"{name} = {device!r}: PyTorch cannot use that device on this machine")
    return parsed


def check_float_dtype(name: str, dtype: torch.dtype) -> torch.dtype:
    """``dtype`` if it is a floating-point ``torch.dtype`` (the dtype of a network)."""
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(
            f"{name} must be a floating-point torch dtype such as torch.float32, got {dtype!r}"
        )
    return dtype


def check_finite(name: str, tensor: torch.Tensor) -> torch.Tensor:
    """Reject NaN or infinite entries: they would silently poison the sign dynamics. A real
    floating tensor is checked by its minimum and maximum (one reduction, NaN propagates
    into it; about 20x faster than ``isfinite(...).all()``, which writes a mask)."""
    if tensor.is_floating_point() and tensor.numel():
        # a permuted dense tensor (a time-major buffer seen batch-first) reduced in its
        # memory order: reductions across strides are several times slower
        order = sorted(range(tensor.dim()), key=lambda d: -tensor.stride(d))
        dense = tensor.permute(order) if order else tensor
        if all(bool(torch.isfinite(v)) for v in torch.aminmax(dense)):
            return tensor
    if not torch.isfinite(tensor).all():
        bad = int((~torch.isfinite(tensor)).sum())
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); clean the data first")
    return tensor


def same_device(actual: torch.device, expected: torch.device | str) -> bool:
    """Whether a tensor on ``actual`` lives on ``expected`` (``cuda`` matches any ``cuda:k``)."""
    expected = torch.device(expected)
    return actual.type == expected.type and (
        expected.index is None or actual.index is None or actual.index == expected.index
    )


def check_tensor(
    name: str,
    value: torch.Tensor,
    shape: Sequence[int | None] | None = None,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
    finite: bool = False,
    axes: str = "",
) -> torch.Tensor:
    """One clear error for a ``value`` that is not a tensor (TypeError), or whose shape
    (``None`` entries match any size), dtype or device differ from those expected, or
    (``finite``) that holds NaN or infinite entries (ValueError); returns ``value``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if shape is not None:
        check_shape(name, value, shape, axes)
    if dtype is not None and value.dtype != dtype:
        raise ValueError(
            f"{name} must have dtype {dtype}, got {value.dtype}; convert it with .to({dtype})"
        )
    if device is not None and not same_device(value.device, device):
        raise ValueError(
            f"{name} is on device {value.device} but must be on {device}; move it with .to()"
        )
    if finite:
        check_finite(name, value)
    return value


def check_fields(
    name: str,
    value: object,
    kind: type,
    expected: dict[str, tuple[tuple[int | None, ...], str]],
    **options,
) -> None:
    """``value`` must be a ``kind`` (a dataclass of tensors with ``tensors()``) whose field
    ``f`` has the shape ``expected[f] = (shape, axes)``; ``options`` go to
    :func:`check_tensor` (dtype, device, finite). Errors name ``name.f``."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be {kind.__name__}, got {type(value).__name__}")
    tensors = value.tensors()
    if not options.get("finite") and _fit(tensors, expected, options):
        return  # the cheap test of hot paths; the checks below explain a misfit
    for field, (shape, axes) in expected.items():
        check_tensor(f"{name}.{field}", tensors[field], shape, axes=axes, **options)


def _fit(tensors: dict, expected: dict, options: dict) -> bool:
    dtype, device = options.get("dtype"), options.get("device")
    for field, (shape, _) in expected.items():
        tensor = tensors[field]
        if not isinstance(tensor, torch.Tensor) or tensor.shape != shape:
            return False
        if (dtype is not None and tensor.dtype != dtype) or (
            device is not None and tensor.device != device
        ):
            return False
    return True


def check_matrices(name: str, matrices: torch.Tensor, *, minimum_size: int = 1) -> tuple[int, int]:
    """A stack of E square, finite, floating-point N x N matrices (E, N, N), such as the
    couplings of E networks; returns (E, N)."""
    check_tensor(name, matrices, (None, None, None), axes="(E, N, N)")
    E, N, M = matrices.shape
    if not matrices.is_floating_point() or N != M or E < 1 or N < minimum_size:
        raise ValueError(
            f"{name} must be a floating-point tensor (E, N, N) with E >= 1 and N >= "
            f"{minimum_size}, got {matrices.dtype} of shape {tuple(matrices.shape)}"
        )
    check_finite(name, matrices)
    return E, N


def check_shape(
    name: str, tensor: torch.Tensor, expected: Sequence[int | None], axes: str = ""
) -> torch.Tensor:
    """Check ``tensor.shape`` against ``expected``; ``None`` entries match any size.
    ``axes`` names them in the message, e.g. ``"(E, N, N)"``."""
    shape = tuple(tensor.shape)
    ok = len(shape) == len(expected) and all(
        e is None or s == e for s, e in zip(shape, expected, strict=False)
    )
    if not ok:
        pretty = "(" + ", ".join("*" if e is None else str(e) for e in expected) + ")"
        meaning = f" = {axes}" if axes else ""
        raise ValueError(f"{name} must have shape {pretty}{meaning}, got {shape}")
    return tensor


def member_values(
    name: str,
    value: MemberValue,
    ensemble_size: int,
    *,
    minimum: float | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Broadcast a scalar or one-value-per-member hyperparameter to a tensor of shape (E,).

    This is how every network and rule accepts per-member hyperparameters (design
    principle 1): a float means "the same for every member", a sequence of length E
    gives each ensemble member its own value.
    """
    if not _numeric(value):
        raise TypeError(
            f"{name} must be a number or a flat sequence of one number per member, got "
            f"{describe(value)}"
        )
    try:
        tensor = torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):  # ragged nesting
        tensor = None
    if tensor is None or tensor.dim() > 1:
        raise ValueError(
            f"{name} must be one value or a flat sequence of one value per member, got the "
            f"nested {describe(value)}"
        )
    tensor = tensor.flatten()
    if tensor.numel() == 1:
        tensor = tensor.expand(ensemble_size)
    elif tensor.numel() != ensemble_size:
        raise ValueError(
            f"{name} has {tensor.numel()} values but the ensemble has {ensemble_size} "
            "members; give one value, or one per member"
        )
    check_finite(name, tensor)
    if minimum is not None and bool((tensor < minimum).any()):
        raise ValueError(f"{name} must be >= {minimum}, got {tensor.tolist()}")
    return tensor.to(dtype=dtype, device=device).clone()


def _numeric(value: object) -> bool:
    """Whether ``value`` is a real number, a real tensor or array, or a (possibly nested)
    sequence of those; bools, strings and complex numbers are not."""
    if isinstance(value, torch.Tensor):
        return not (value.dtype == torch.bool or value.is_complex())
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "iuf"
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, numbers.Real):
        return True
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return all(_numeric(item) for item in value)
    return False
