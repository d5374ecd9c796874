"""Input validation and per-member hyperparameters shared by every component.

Every public entry point validates what it is given and raises a ``ValueError`` whose
message names the argument and says what to fix (design principle 7).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

MemberValue = float | Sequence[float] | torch.Tensor


def check_positive_int(name: str, value: int, *, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer >= ``minimum``, else raise a clear error."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


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
        "cuda": lambda: torch.cuda.is_available()
        and (parsed.index is None or parsed.index < torch.cuda.device_count()),
        "mps": lambda: torch.backends.mps.is_available(),
    }
    if not available.get(parsed.type, lambda: False)():
        raise ValueError(f"{name} = {device!r}: PyTorch cannot use that device on this machine")
    return parsed


def check_finite(name: str, tensor: torch.Tensor) -> torch.Tensor:
    """Reject NaN or infinite entries: they would silently poison the sign dynamics."""
    if not torch.isfinite(tensor).all():
        bad = int((~torch.isfinite(tensor)).sum())
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); clean the data first")
    return tensor


def check_shape(name: str, tensor: torch.Tensor, expected: Sequence[int | None]) -> torch.Tensor:
    """Check ``tensor.shape`` against ``expected``; ``None`` entries match any size."""
    shape = tuple(tensor.shape)
    ok = len(shape) == len(expected) and all(
        e is None or s == e for s, e in zip(shape, expected, strict=False)
    )
    if not ok:
        pretty = "(" + ", ".join("*" if e is None else str(e) for e in expected) + ")"
        raise ValueError(f"{name} must have shape {pretty}, got {shape}")
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
    tensor = torch.as_tensor(value, dtype=torch.float64).flatten()
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
