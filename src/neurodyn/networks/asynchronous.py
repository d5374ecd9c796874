"""Asynchronous sweeps of the binary steering network: random order, latest state.

The thesis's "simple asynchronous dynamical rule" (Scardecchia, *Learning by Steering the
Neural Dynamics*, arXiv 2510.11984, 2025; spec ``steering.md`` sections 2.1 and 6.3) on
the steering network: in every sweep each sample visits its L H hidden units in its own
random order and sets, from the latest state,

    s^l_i <- sign(h^l_i)   (a zero field keeps s^l_i, so a unit at 0 stays there),

each change accepted with probability p (``update_probability``); then every readout
unit is set from the new hidden state at once, y_c <- sign(f_c) (fields in
:mod:`neurodyn.networks.binary`).

The hidden units run in the numba kernel
:func:`neurodyn.networks.spin_sweeps.asynchronous_sweep`, the one the phase-transition
analysis uses: at the start of a sweep the fields are computed by
:meth:`~neurodyn.networks.binary.BinarySteeringNetwork.hidden_fields` (the self-coupling
is on the diagonal of J, so the kernel's extra self term is d = 0) and kept in float64,
and the kernel adds a row of J (and lambda to the neighbouring layers) for every unit
that changes. Tensors on another device are copied to the CPU and back.

Randomness (design principle 2). Every sweep draws one order seed per sample from its
member's own generator, ``torch.randint(0, 2**62, (B,), generator=g)``; the sample then
visits its units in the order ``sweep_order(seed, 0, L*H)`` and accepts the proposal at
visit k iff ``acceptance_draws(seed, 0, L*H)[k] < p`` (:mod:`.spin_sweeps`), so a member's
dynamics depend only on its own stream. Earlier versions ran a torch loop over units,
with orders argsort(rand) from the same generators and fields recomputed at every visit
in the network's dtype: the same rule, but trajectories (hence asynchronous results) of
those versions are not reproduced.
"""

from __future__ import annotations

import numpy as np
import torch

from neurodyn.networks.spin_sweeps import SEED_BOUND, asynchronous_sweep
from neurodyn.networks.synchronous import sign_keep_ties


def _to_kernel(tensor: torch.Tensor) -> np.ndarray:
    """(E, L, B, H) -> a fresh float64 CPU array (E B, L, H), sample-major for the kernel."""
    E, L, B, H = tensor.shape
    host = torch.empty(E, B, L, H, dtype=torch.float64)
    host.copy_(tensor.detach().transpose(1, 2))
    return host.numpy().reshape(E * B, L, H)


class AsynchronousSweeps:
    """The sweeps of one asynchronous relaxation (keeps the couplings in the kernel's form)."""

    recurrent = None  # the incremental recurrent input is a synchronous saving: not kept

    def __init__(self, network, weights, state, drive, label, generators, recurrent=None):
        if generators is None:
            raise ValueError("asynchronous dynamics need generators= (one per member)")
        self.network, self.weights, self.drive = network, weights, drive
        self.label, self.generators = label, generators
        E, B = network.ensemble_size, state.hidden.shape[2]
        # float32 couplings enter the float64 field updates exactly: no conversion needed.
        self.couplings = weights.couplings.detach().cpu().contiguous().numpy()
        self.ferromagnetic = network.ferromagnetic_strength.cpu().numpy()
        self.member = np.arange(E * B, dtype=np.int64) // B
        self.no_self_term = np.zeros(E * B, dtype=np.float64)
        self.active = np.ones(E * B, dtype=np.bool_)

    def order_seeds(self, batch: int) -> torch.Tensor:
        """(E, B) seeds of this sweep's orders, each row from its member's generator."""
        return torch.stack(
            [
                torch.randint(0, SEED_BOUND, (batch,), generator=g, device=g.device).cpu()
                for g in self.generators
            ]
        )

    def sweep(self, state, feedback: float):
        """One sweep from ``state``: (hidden, readout, moved), moved (E, B) marking the
        samples in which some unit changed."""
        network, weights = self.network, self.weights
        E, L, B, H = state.hidden.shape
        fields = _to_kernel(network.hidden_fields(weights, state, self.drive, feedback))
        spins = _to_kernel(state.hidden)
        seeds = self.order_seeds(B).flatten().numpy().view(np.uint64)  # non-negative
        changes = np.zeros(E * B, dtype=np.int64)
        asynchronous_sweep(
            self.couplings,
            self.member,
            self.ferromagnetic,
            self.no_self_term,
            spins,
            fields,
            seeds,
            np.uint64(0),
            float(network.update_probability),
            self.active,
            changes,
        )
        options = {"dtype": state.hidden.dtype, "device": state.hidden.device}
        hidden = torch.empty(E, L, B, H, **options)
        hidden.copy_(torch.from_numpy(spins).view(E, B, L, H).transpose(1, 2))
        readout_fields = network.readout_fields(weights, hidden, self.label)
        readout = sign_keep_ties(readout_fields, state.readout)
        changed = torch.from_numpy(changes).view(E, B).to(hidden.device) > 0
        return hidden, readout, changed | (readout != state.readout).any(-1)
