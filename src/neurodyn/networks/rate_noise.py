"""Recurrent and input noise of leaky rate RNNs, counter-seeded per member.

Yang & Wang (2020, Neuron 107:1048) and Song, Yang & Wang (2016) with their
alpha_YW = dt / tau, which is 1 - alpha of :mod:`neurodyn.networks.rate`:

    h_t = alpha h_{t-1} + (1 - alpha) (W_eff^T f(h_{t-1}) + W_x (x_t + sigma_in xi'_t)
                                       + sqrt(2 / (1 - alpha)) sigma_rec xi_t),

xi_t, xi'_t ~ N(0, I) independent over members, trials, steps and units. Every draw
comes from the member's own counter-based stream, so a member's noise is that of its
lone run whatever the ensemble.
"""

from __future__ import annotations

import math

import torch

from neurodyn import rng
from neurodyn.checks import check_positive_int, check_tensor
from neurodyn.networks.counter_kernels import counter_noise_levels


def sample_noise(
    network, x: torch.Tensor, keys: torch.Tensor, counter: int, *, out: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Inputs x (B, T, N_in) or (E, B, T, N_in) with the input noise sigma_in xi' added,
    and the recurrent noise sqrt(2 / (1 - alpha)) sigma_rec xi (E, B, T, N) to pass to
    ``network.run(..., noise=)`` (None where no member has any), for the
    :class:`~neurodyn.networks.rate.LeakyRateNetwork` ``network``: draw ``counter`` of the
    member ``keys`` (:func:`neurodyn.rng.member_keys`) in their ``"dynamics"`` split, the
    recurrent noise on draw 2 counter and the input noise on 2 counter + 1
    (:func:`neurodyn.rng.counter_noise`; members without noise draw nothing). Without
    noise, the inputs as (E, B, T, N_in) and None. ``out``: a buffer (E, B, T, N) of the
    network's dtype for the recurrent noise, reused from call to call (a fresh one of
    tens of MB costs its page faults every time)."""
    x = network.prepare_inputs(x)
    if not network.noisy:
        return x, None
    keys = rng.split_keys(rng.check_keys("keys", keys), "dynamics")
    if keys.shape[0] != network.ensemble_size:
        raise ValueError(
            f"keys must hold one key per member ({network.ensemble_size}), got {keys.shape[0]}"
        )
    counter = check_positive_int("counter", counter, minimum=0)
    scale = network.recurrent_noise * math.sqrt(2 / (1 - network.alpha))
    shape = (*x.shape[:3], network.hidden_size)
    if out is None or out.shape != shape or out.dtype != network.dtype:
        out = torch.empty(shape, dtype=network.dtype, device=network.device)
    recurrent = _member_noise(keys, 2 * counter, scale, out)
    inputs = _member_noise(keys, 2 * counter + 1, network.input_noise, torch.empty_like(x))
    return (x if inputs is None else x + inputs), recurrent


def _member_noise(keys, counter: int, scale, out: torch.Tensor) -> torch.Tensor | None:
    """``out`` (E, ...) = ``scale`` (E,) times standard normals, zero for the members of
    scale 0 (not drawn); None if every scale is 0."""
    drawn = scale > 0
    if not bool(drawn.any()):
        return None
    return _normals_into(keys, counter, scale, out, drawn)


def _normals_into(keys, counter: int, scale, out: torch.Tensor, drawn=None) -> torch.Tensor:
    """``out`` (E, B, T, X) = :func:`neurodyn.rng.counter_noise` with ``scale`` (E,), the
    same numbers, for the members whose ``drawn`` (E,) is True (default: all), zero for
    the others: on the CPU 2u - 1 by the numba kernel
    :func:`~neurodyn.networks.counter_kernels.counter_noise_levels` (one pass for all
    members, in place for float32, in any layout), then erfinv and the factor in place on
    each run of consecutive drawn members, zeros on the others."""
    E, shape = out.shape[0], out.shape[1:]
    drawn = torch.ones(E, dtype=torch.bool) if drawn is None else drawn.cpu()
    if keys.device.type == "cpu":
        levels = out if out.dtype == torch.float32 else torch.empty(out.shape)
        counter_noise_levels(keys, counter, levels, drawn)
    else:
        count = math.prod(shape)
        levels = rng.counter_noise_levels(keys, counter, count)[:, :count].reshape(E, *shape)
    factor = rng.noise_factor(scale, E, keys.device).view(E, *[1] * len(shape))
    flags = drawn.tolist()
    first = 0
    for e, on in enumerate([*flags, None]):
        if e == E or on != flags[first]:
            if flags[first]:
                levels[first:e].erfinv_().mul_(factor[first:e])
            else:
                levels[first:e].zero_()
            first = e
    return out if levels is out else out.copy_(levels)


def check_noise(network, noise: torch.Tensor | None, x: torch.Tensor, *, finite=True) -> None:
    """Recurrent noise for inputs x (E, B, T, N_in): None, or (E, B, T, N) in the
    network's dtype and device, and finite if ``finite`` (loops over noise that
    :func:`sample_noise` drew skip that pass over tens of MB: it is finite by construction)."""
    if noise is not None:
        shape = (*x.shape[:3], network.hidden_size)
        options = {"dtype": network.dtype, "device": network.device, "finite": finite}
        check_tensor("noise", noise, shape, axes="(E, B, T, N)", **options)
