"""Synchronous sweeps of the binary steering network (the authors' code).

Scardecchia, *Learning by Steering the Neural Dynamics* (arXiv 2510.11984, 2025); spec
``steering.md`` section 2.1. Every unit, hidden and readout, is set from the previous
state, each with probability p (``update_probability``):

    s^l_i(t+1) = sign(h^l_i(t))   and   y_c(t+1) = sign(f_c(t)),

a zero field keeping the current value (fields in :mod:`neurodyn.networks.binary`).

Two savings that leave the arithmetic unchanged: the static field (input drive plus
feedback) is recomputed only when the feedback scale or the readout changes (the readout
is pinned while the label is clamped); and, for the shapes that the network marks
``incremental`` (H >= ``binary.INCREMENTAL_MIN_HIDDEN``), the recurrent input s J is kept
and only the rows of the units that flipped are added, exact up to float rounding and
several times cheaper once few units flip. Batches up to ``INCREMENTAL_MAX_BATCH``
(training) add the rows of the units that flipped in any sample of the batch, as one
batched matmul (:func:`advance_recurrent`); larger batches (evaluation), in which that
union covers most units while each sample flips a few percent of them in its second
sweep and fewer after, add each sample's own flips as a sparse product
(:func:`advance_recurrent_sparse`). The choices depend only on shapes shared by all
members, so a member's result never depends on the other members. Measured crossovers
(training on Entangled MNIST, B = 16, 1 thread, Nov 2026): a single network runs equally
fast either way at H = 400 and gains from H = 512 on; an ensemble of 8 gains 25% at
H = 400 (1.44 vs 1.94 s per 150 steps) and nothing at H = 256. Evaluation:
``benchmarks/steering_evaluation.py``.
"""

from __future__ import annotations

import torch

TIE = 1e-30  # fields smaller than this in magnitude leave a unit unchanged
INCREMENTAL_MAX_BATCH = 64


def sign_keep_ties(fields: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
    """sign(h), and the current value where h = 0: sign(h + TIE s), in place on ``fields``.

    A field below TIE = 1e-30 in magnitude, far under the float32 resolution of the O(1)
    terms it sums, counts as a tie; in practice only an exact zero does.
    """
    return fields.add_(current, alpha=TIE).sign_()


def update_mask(network, shape: tuple[int, ...], generators: list[torch.Generator] | None):
    """Which units update in this sweep: None when all do, else a bool (E, *shape[1:])."""
    if network.update_probability >= 1.0:
        return None
    if generators is None:
        raise ValueError("update_probability < 1 needs generators= (one per member)")
    draws = [torch.rand(shape[1:], generator=g, device=g.device) for g in generators]
    return torch.stack(draws).to(network.device) < network.update_probability


def advance_recurrent(weights, recurrent, old, new, changed):
    """In place: s_old J -> s_new J, adding the rows of the units that flipped.

    ``changed`` (E, L, H) marks units that flipped in some sample. Every (member,
    layer) takes its changed units first, in index order, padded to the largest count
    with unchanged units, whose delta is exactly zero: the padding adds only zeros,
    so a member's arithmetic does not depend on the other members.
    """
    E, L, B, H = new.shape
    count = int(changed.sum(-1).max())
    if count == 0:
        return recurrent
    units = torch.sort((~changed).to(torch.uint8), dim=-1, stable=True).indices[..., :count]
    delta = (new - old).gather(-1, units.unsqueeze(2).expand(E, L, B, count))
    offsets = torch.arange(E * L, device=units.device).view(E, L, 1) * H
    rows = weights.couplings.reshape(E * L * H, H).index_select(0, (units + offsets).flatten())
    recurrent.view(E * L, B, H).baddbmm_(delta.reshape(E * L, B, count), rows.view(E * L, count, H))
    return recurrent


def advance_recurrent_sparse(weights, recurrent, old, new, flipped):
    """In place: s_old J -> s_new J, adding each sample's own flipped rows of J.

    ``flipped`` (E, L, B, H) marks the units that flipped. The deltas form one sparse
    (E L B, E L H) matrix, block diagonal over (member, layer), times J stacked to
    (E L H, H): each output row sums only its own sample's flips, in unit order.
    """
    E, L, B, H = new.shape
    rows, units = flipped.reshape(E * L * B, H).nonzero(as_tuple=True)
    if rows.numel() == 0:
        return recurrent
    values = (new - old).reshape(E * L * B, H)[rows, units]
    columns = units + torch.div(rows, B, rounding_mode="floor") * H
    delta = torch.sparse_coo_tensor(
        torch.stack([rows, columns]),
        values,
        (E * L * B, E * L * H),
        is_coalesced=True,
        check_invariants=False,
    )
    recurrent.view(E * L * B, H).add_(torch.sparse.mm(delta, weights.couplings.reshape(-1, H)))
    return recurrent


class SynchronousSweeps:
    """The sweeps of one synchronous relaxation.

    Holds what the relaxation carries from sweep to sweep: the static field and what it
    was computed from, and (when incremental) the recurrent input s J of the current state,
    a private copy of the given one updated in place (``recurrent``, None otherwise).
    """

    def __init__(self, network, weights, state, drive, label, generators, recurrent):
        self.network, self.weights, self.drive = network, weights, drive
        self.label, self.generators = label, generators
        self.incremental = network.incremental
        self.sparse = drive.shape[2] > INCREMENTAL_MAX_BATCH
        if not self.incremental:
            recurrent = None
        elif recurrent is not None:
            recurrent = recurrent.clone()
        elif state.is_zero:
            recurrent = torch.zeros_like(drive)
        else:
            recurrent = network.recurrent_input(weights, state.hidden)
        self.recurrent = recurrent
        self.static, self.static_scale, self.static_readout = drive, 0.0, state.readout

    def sweep(self, state, feedback: float):
        """One sweep from ``state``: (hidden, readout, moved), moved (E, B) marking the
        samples in which some unit changed."""
        network, weights = self.network, self.weights
        # drive + feedback changes only with the feedback scale or the readout, which
        # is pinned while the label is clamped: recompute it only then.
        if feedback != self.static_scale or (
            feedback != 0.0 and not torch.equal(state.readout, self.static_readout)
        ):
            self.static_scale, self.static_readout = feedback, state.readout
            self.static = self.drive
            if feedback != 0.0:
                self.static = self.drive + feedback * network.feedback_fields(
                    weights, state.readout
                )
        hidden, readout = self._states(state)
        flipped = hidden != state.hidden
        if self.incremental and state.is_zero:  # every unit left 0: one dense product
            self.recurrent = network.recurrent_input(weights, hidden)
        elif self.incremental and self.sparse:
            advance_recurrent_sparse(weights, self.recurrent, state.hidden, hidden, flipped)
        elif self.incremental:
            self.recurrent = advance_recurrent(
                weights, self.recurrent, state.hidden, hidden, flipped.any(dim=2)
            )
        moved = flipped.any(-1).any(1) | (readout != state.readout).any(-1)
        return hidden, readout, moved

    def _states(self, state):
        """All units from the previous state."""
        network = self.network
        if state.is_zero:  # only the drive acts; ties keep the 0 state
            hidden = torch.sign(self.static)
        else:
            fields = network.hidden_fields(self.weights, state, self.static, 0.0, self.recurrent)
            hidden = sign_keep_ties(fields, state.hidden)
        readout_fields = network.readout_fields(self.weights, state.hidden, self.label)
        readout = sign_keep_ties(readout_fields, state.readout)
        mask = update_mask(network, tuple(hidden.shape), self.generators)
        if mask is not None:
            hidden = torch.where(mask, hidden, state.hidden)
            readout_mask = update_mask(network, tuple(readout.shape), self.generators)
            readout = torch.where(readout_mask, readout, state.readout)
        return hidden, readout
