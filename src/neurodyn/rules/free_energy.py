"""Local predictive Hebbian/anti-Hebbian learning of free-energy attractor networks.

Spisak & Friston, arXiv 2505.22749 (2025); spec ``free-energy-attractor.md`` section 3,
checked against ``AttractorNetwork.update`` of the authors' code. Inference and learning
happen in the same step: with sigma the state just sampled and h = J sigma_prev the
recurrent input it was sampled from,

    dJ_ij = learning_rate * (sigma_i sigma_j - L(u_i) sigma_j),    i != j,

an observed (Hebbian) minus a predicted (anti-Hebbian) correlation, where the prediction
uses

* ``prediction="previous"`` (default, the authors' code): u = h, the previous state's
  input without bias and without precision. This is the version that learns.
* ``prediction="paper"``: u = precision (b + h), the literal reading of the paper's boxed
  equation. sigma_new is drawn with mean L(u), so E[dJ] = 0 and learning is noise; kept
  to show that failure.

With several chains per member (B > 1) the update is the mean over chains.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from neurodyn.checks import MemberValue, check_choice, check_tensor, member_values
from neurodyn.networks import continuous_bernoulli as cb
from neurodyn.networks.attractor import FreeEnergyAttractorNetwork

PREDICTIONS = ("previous", "paper")


@dataclass(frozen=True)
class FreeEnergyRule:
    """Learning rate (one per member or shared) and the prediction term; see module doc."""

    learning_rate: MemberValue = 0.001
    prediction: str = "previous"

    def __post_init__(self) -> None:
        check_choice("prediction", self.prediction, PREDICTIONS)

    def rates(self, network: FreeEnergyAttractorNetwork) -> torch.Tensor:
        """The learning rate of every member, (E,)."""
        return member_values(
            "learning_rate",
            self.learning_rate,
            network.ensemble_size,
            minimum=0.0,
            dtype=network.dtype,
            device=network.device,
        )

    def step(
        self,
        network: FreeEnergyAttractorNetwork,
        couplings: torch.Tensor,
        sigma: torch.Tensor,
        bias: torch.Tensor,
        *,
        uniform: torch.Tensor | None = None,
        learning_rate: torch.Tensor | None = None,
        inplace: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step of inference and learning: returns (new couplings, new state).

        ``uniform`` (E, B, N) makes the update stochastic (see
        :meth:`FreeEnergyAttractorNetwork.step`); ``learning_rate`` (E,) overrides the
        rule's values (zeros for pure inference). With ``inplace`` the given couplings are
        overwritten, which saves a copy of the E x N x N tensor per step.
        """
        new, h = network.step(couplings, sigma, bias, uniform=uniform)  # checks the shapes
        rate = self.rates(network) if learning_rate is None else learning_rate
        if not (isinstance(rate, torch.Tensor) and rate.shape == network.precision.shape):
            check_tensor("learning_rate", rate, (network.ensemble_size,), axes="(E,)")
        if not bool(rate.any()):
            return couplings, new
        predicted = h if self.prediction == "previous" else network.natural_parameter(h, bias)
        error = (new - cb.langevin(predicted)) * (rate / new.shape[1]).view(-1, 1, 1)
        updated = couplings if inplace else couplings.clone()
        # dJ[pre j, post i] = rate sigma_j (sigma_i - L(u_i)); the diagonal stays zero
        updated.baddbmm_(new.transpose(1, 2), error)
        updated.diagonal(dim1=1, dim2=2).zero_()
        return updated, new
