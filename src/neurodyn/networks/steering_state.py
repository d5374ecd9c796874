"""Weights, state and relaxation result of binary steering networks.

Scardecchia, *Learning by Steering the Neural Dynamics* (arXiv 2510.11984, 2025); spec
``steering.md`` section 1. Plain data with a leading ensemble axis E; the dynamics that
use them are :class:`neurodyn.networks.binary.BinarySteeringNetwork` and its sweep
strategies.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch


@dataclass(frozen=True)
class SteeringWeights:
    """All weights of an ensemble of steering networks, stored presynaptic x postsynaptic.

    ``couplings`` (E, L, H, H): recurrent J with the fixed self-coupling on the diagonal;
    ``input_weights`` (E, L, N, H); ``readout_weights`` (E, L, H, C), layer L-1 is the
    readout proper and earlier layers are readout skips; ``feedback_weights``
    (E, L, C, H), fixed, layer L-1 is W_back and earlier layers are feedback skips.
    """

    couplings: torch.Tensor
    input_weights: torch.Tensor
    readout_weights: torch.Tensor
    feedback_weights: torch.Tensor

    def tensors(self) -> dict[str, torch.Tensor]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def clone(self) -> SteeringWeights:
        return SteeringWeights(**{k: v.clone() for k, v in self.tensors().items()})

    def member(self, index: int) -> SteeringWeights:
        """The weights of one member, kept as an ensemble of size 1."""
        return SteeringWeights(**{k: v[index : index + 1] for k, v in self.tensors().items()})

    def replace(self, **changes: torch.Tensor) -> SteeringWeights:
        return replace(self, **changes)


@dataclass(frozen=True)
class SteeringState:
    """Network state: ``hidden`` (E, L, B, H) and ``readout`` (E, B, C), values in {-1, 0, 1}."""

    hidden: torch.Tensor
    readout: torch.Tensor
    is_zero: bool = False  # the all-zero start: every field term but the input vanishes


@dataclass(frozen=True)
class Relaxation:
    """Result of :meth:`BinarySteeringNetwork.relax`: ``sweeps`` (E, B), sweeps until the
    first sweep without a flip (the budget if none); ``converged`` (E, B), whether such a
    sweep occurred; ``recurrent`` (E, L, B, H), s J of the final state if the dynamics kept it.
    """

    state: SteeringState
    sweeps: torch.Tensor
    converged: torch.Tensor
    recurrent: torch.Tensor | None = None
