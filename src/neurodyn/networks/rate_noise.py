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
    network, x: torch.Tensor, keys: torch.Tensor, counter: int
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Inputs x (B, T, N_in) or (E, B, T, N_in) with the input noise sigma_in xi' added,
    and the recurrent noise sqrt(2 / (1 - alpha)) sigma_rec xi (E, B, T, N) to pass to
    ``network.run(..., noise=)`` (None where no member has any), for the
    :class:`~neurodyn.networks.rate.LeakyRateNetwork` ``network``: draw ``counter`` of the
    member ``keys`` (:func:`neurodyn.rng.member_keys`) in their ``"dynamics"`` split, the
    recurrent noise on draw 2 counter and the input noise on 2 counter + 1
    (:func:`neurodyn.rng.counter_noise`; members without noise draw nothing). Without
    noise, the inputs as (E, B, T, N_in) and None."""
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
    shape = (*x.shape[1:3], network.hidden_size)
    recurrent = _member_noise(network, keys, 2 * counter, shape, scale)
    inputs = _member_noise(network, keys, 2 * counter + 1, x.shape[1:], network.input_noise)
    return (x if inputs is None else x + inputs), recurrent


def _member_noise(network, keys, counter: int, shape, scale) -> torch.Tensor | None:
    """``scale`` (E,) times standard normals (E, *shape), zero for the members of scale 0
    (not drawn); None if every scale is 0. The normals of each run of consecutive members
    with noise are drawn in one call, straight into their rows."""
    drawn = (scale > 0).tolist()
    if not any(drawn):
        return None
    placement = {"dtype": network.dtype, "device": network.device}
    noise = torch.zeros(network.ensemble_size, *shape, **placement)
    first = None
    for e, on in enumerate([*drawn, False]):
        if on and first is None:
            first = e
        elif not on and first is not None:
            noise[first:e] = _normals(keys[first:e], counter, shape)
            first = None
    return noise.mul_(scale.view(-1, *[1] * len(shape)))


def _normals(keys: torch.Tensor, counter: int, shape) -> torch.Tensor:
    """:func:`neurodyn.rng.counter_noise` (E, *shape), on the CPU by its numba kernel
    (:func:`~neurodyn.networks.counter_kernels.counter_noise_levels`, the same numbers)."""
    if keys.device.type != "cpu":
        return rng.counter_noise(keys, counter, shape)
    count = math.prod(shape)
    levels = torch.empty(keys.shape[0], count + count % 2)
    counter_noise_levels(keys, counter, levels)
    return levels.erfinv_().mul_(math.sqrt(2.0))[:, :count].reshape(keys.shape[0], *shape)


def check_noise(network, noise: torch.Tensor | None, x: torch.Tensor) -> None:
    """Recurrent noise for inputs x (E, B, T, N_in): None, or finite (E, B, T, N) in the
    network's dtype and device."""
    if noise is not None:
        shape = (*x.shape[:3], network.hidden_size)
        options = {"dtype": network.dtype, "device": network.device, "finite": True}
        check_tensor("noise", noise, shape, axes="(E, B, T, N)", **options)
