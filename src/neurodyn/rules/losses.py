"""Task losses of rate RNNs and their output errors delta_t = dL/dy_t.

Spec ``rate-rnn-eprop-lyapunov.md`` sections 3 and 4: the masked MSE of Schuessler's Romo
code and the cross entropy over masked steps of Yang & Wang (2020). Every loss is per
ensemble member (E,), each member summing over its own trials. The mask weights each
term: 0/1 masks leave steps out, and weights in between (per trial period,
:mod:`neurodyn.tasks.periods`) give the weighted mean sum(mask l_t) / sum(mask), unchanged
when every weight is scaled by one constant.
"""

from __future__ import annotations

import torch

from neurodyn.checks import check_tensor

LOSSES = ("mse", "cross_entropy")


def _member_shapes(shape, targets, mask, loss):
    """Targets and mask broadcast to every member for outputs of ``shape`` (E, B, T, N_out),
    and each member's mask total (E, 1...); a clear error for those that do not fit."""
    E = shape[0]
    if loss == "mse":
        targets = _expand("targets", targets, shape, "(B, T, N_out) or (E, B, T, N_out)")
        mask = _expand("mask", mask, shape, "(B, T, N_out) or (E, B, T, N_out)")
        total = mask.sum((1, 2, 3)).view(E, 1, 1, 1)
    elif loss == "cross_entropy":
        targets = _expand("targets", targets, shape[:3], "(B, T) or (E, B, T)")
        mask = _expand("mask", mask, shape[:3], "(B, T) or (E, B, T)")
        if targets.dtype.is_floating_point or targets.dtype == torch.bool:
            raise ValueError(
                f"targets of the cross entropy must be integer class indices, got {targets.dtype}"
            )
        if bool(((targets < 0) | (targets >= shape[-1])).any()):
            raise ValueError(f"targets must lie in [0, {shape[-1] - 1}] (one per output)")
        total = mask.sum((1, 2)).view(E, 1, 1)
    else:
        raise ValueError(f"loss must be one of {list(LOSSES)}, got {loss!r}")
    return targets, mask, total


def _expand(name: str, tensor: torch.Tensor, shape, axes: str) -> torch.Tensor:
    check_tensor(name, tensor)
    try:
        return tensor.expand(shape)
    except RuntimeError:
        raise ValueError(
            f"{name} must have shape {axes} for outputs {tuple(shape)}, got {tuple(tensor.shape)}"
        ) from None


def task_loss(
    outputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, loss: str
) -> torch.Tensor:
    """Per-member loss (E,); targets and mask (B, ...) shared or (E, B, ...) per member.

    ``mse``: 0.5 sum mask (y - yhat)^2 / sum mask with targets and mask (B, T, N_out)
    (Schuessler's ``loss_mse``); ``cross_entropy``: mean over the masked steps of
    -log softmax(yhat)[target] with integer targets and mask (B, T). Sums run over each
    member's own trials.
    """
    targets, mask, total = _member_shapes(outputs.shape, targets, mask, loss)
    if loss == "mse":
        return 0.5 * member_sums(mask * (outputs - targets) ** 2) / total.flatten()
    logp = torch.log_softmax(outputs, dim=-1)
    picked = logp.gather(-1, targets.unsqueeze(-1))[..., 0]
    return -member_sums(mask * picked) / total.flatten()


def member_sums(values: torch.Tensor) -> torch.Tensor:
    """The sum of each member's entries (E,) of ``values`` (E, ...), row by row over a
    member-major copy: a reduction over several strided dimensions is ordered by the
    layout, which changes with E, so that a member's loss would depend on its ensemble
    (by one rounding); row sums make each member's value that of a lone run."""
    return values.contiguous().view(values.shape[0], -1).sum(1)


def output_error(
    outputs: torch.Tensor,
    targets: torch.Tensor,
    mask: torch.Tensor,
    loss: str,
    *,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """delta_t = dL/dy_t for :func:`task_loss`: (E, B, T, N_out); into ``out`` (any layout)
    if given, for the MSE without temporaries."""
    targets, mask, total = _member_shapes(outputs.shape, targets, mask, loss)
    if loss == "mse":
        if out is None:
            return mask * (outputs - targets) / total
        return torch.sub(outputs, targets, out=out).mul_(mask).div_(total)
    onehot = torch.nn.functional.one_hot(targets, outputs.shape[-1]).to(outputs.dtype)
    delta = (torch.softmax(outputs, -1) - onehot) * (mask / total).unsqueeze(-1)
    return delta if out is None else out.copy_(delta)
