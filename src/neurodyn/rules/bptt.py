"""Backpropagation through time for leaky rate RNNs.

Spec ``rate-rnn-eprop-lyapunov.md`` section 4.1 (Liu, Zhang & Liu, arXiv 2410.11164): the
exact gradient of the task loss through the unrolled network
h_t = alpha h_{t-1} + (1 - alpha)(W_h r_{t-1} + W_x x_t), y_t = w r_t, by the adjoint
recursion a_t = dL/dh_t,

    a_t = psi_t * ([a_{t+1}, delta_t] [(1 - alpha) W_h^T; w^T]) + alpha a_{t+1},

psi_t = f'(h_t), delta_t = dL/dy_t, and g(W_h) = (1 - alpha) sum_t r_{t-1}^T a_t,
g(W_x) = (1 - alpha) sum_t x_t^T a_t, g(w) = sum_t r_t^T delta_t.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from neurodyn.checks import check_choice
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.rules import rate_rule
from neurodyn.rules.unroll import Workspace, autograd_gradients, fold_backward, unroll

METHODS = ("manual", "autograd")


def bptt_gradients(
    network: LeakyRateNetwork,
    weights: RateWeights,
    x,
    targets,
    mask,
    loss,
    *,
    method="manual",
    workspace: Workspace | None = None,
    noise: torch.Tensor | None = None,
):
    """Exact gradients by backpropagation through time; returns (gradients, loss (E,)).
    ``noise``: the recurrent noise (E, B, T, N) of the trials, if any
    (:meth:`LeakyRateNetwork.sample_noise`); gradients of W~ are pulled back through the
    network's constraints (:meth:`LeakyRateNetwork.pull_back`).

    ``method="manual"`` runs the adjoint recursion of the module docstring, one product per
    step, and accumulates g(W_h) with g(w) by one more, [a_{t+1}, delta_t]^T r_t, while r_t
    is in cache (:func:`~neurodyn.rules.unroll.fold_backward`); the adjoint of all steps is
    never stored. ``"autograd"`` is the reference.
    """
    check_choice("method", method, METHODS)
    network.check_weights(weights, finite=False)
    if method == "autograd":
        return autograd_gradients(
            network, weights, x, targets, mask, loss, detach=False, noise=noise
        )
    effective = network.effective(weights)
    grads, value = _manual_bptt(
        network, effective, x, targets, mask, loss, workspace or Workspace(), noise
    )
    return network.pull_back(weights, grads), value


@torch.no_grad()
def _manual_bptt(network, weights, x, targets, mask, loss, workspace, noise):
    run = unroll(network, weights, x, targets, mask, loss, workspace, noise)
    N, n_out = network.hidden_size, network.output_size
    alpha, leak = network.alpha, 1 - network.alpha
    pushing = workspace.get("pushing", (weights.recurrent.shape[0], N + n_out, N), run.loss)
    torch.mul(weights.recurrent.mT, leak, out=pushing[:, :N])  # [(1 - alpha) W_h^T; w^T]
    pushing[:, N:].copy_(run.readout)
    pushed = workspace.get("pushed", run.rates[0].shape, run.loss)

    def adjoint(t, carried, out):  # a_t from [a_{t+1}, delta_t]
        torch.bmm(carried, pushing, out=pushed)
        network.rate_backward(pushed, run.rates[t + 1], out=out)
        if alpha:
            out.add_(carried[..., :N], alpha=alpha)

    return fold_backward(network, run, workspace, adjoint), run.loss


@dataclass(frozen=True)
class BPTT(rate_rule.BatchRule):
    """BPTT as a :func:`~neurodyn.training.rate.train_rate` rule (``method`` as in
    :func:`bptt_gradients`)."""

    method: str = "manual"

    def __post_init__(self) -> None:
        check_choice("method", self.method, METHODS)

    def batch_gradients(
        self, network, weights, x, targets, mask, loss, *, workspace=None, noise=None
    ):
        options = {"method": self.method, "workspace": workspace, "noise": noise}
        return bptt_gradients(network, weights, x, targets, mask, loss, **options)


rate_rule.register("bptt", BPTT)
