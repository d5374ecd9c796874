"""Random feedback local online learning (RFLO, Murray 2019) for leaky rate RNNs.

Spec ``rate-rnn-eprop-lyapunov.md`` section 4.3: the derivative sits inside the filter
and the learning signal comes through a fixed feedback matrix B,

    p_{ij,t} = alpha p_{ij,t-1} + (1 - alpha) psi_{i,t} r_{j,t-1},
    g(W_h)[j, i] = sum_t (B delta_t)_i p_{ij,t},   g(w) = sum_t r_t^T delta_t;

with B = w^T and alpha = 0 it equals e-prop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from neurodyn import rng
from neurodyn.checks import check_tensor
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.rules import rate_rule
from neurodyn.rules.unroll import Workspace, fold_backward, unroll

FEEDBACK_COUNTER = -1  # the draw of a member's task stream that holds its B (trials use >= 0)


def rflo_gradients(
    network: LeakyRateNetwork,
    weights: RateWeights,
    x,
    targets,
    mask,
    loss,
    *,
    feedback: torch.Tensor,
    workspace: Workspace | None = None,
    noise: torch.Tensor | None = None,
):
    """RFLO gradients with fixed feedback ``feedback`` (E, N_out, N) (B, stored as x @ B);
    returns (gradients, loss (E,)).

    The trace p_t is linear in its inputs, so sum_t s_t p_t with s_t = B delta_t equals
    (1 - alpha) sum_t (psi_t S_t) r_{t-1} with the signal filtered backward,
    S_t = s_t + alpha S_{t+1}, in one pass from t = T - 1 down: the same sum without the
    (B, N, N) trace per step. ``noise``: the recurrent noise (E, B, T, N) of the trials, if
    any; the gradient of W_eff is pulled back to W~ elementwise
    (:meth:`LeakyRateNetwork.pull_back`).
    """
    network.check_weights(weights, finite=False)
    expected = (network.ensemble_size, network.output_size, network.hidden_size)
    check_tensor("feedback", feedback, expected, axes="(E, N_out, N)", finite=True)
    workspace = workspace or Workspace()
    grads, value = _rflo(network, weights, x, targets, mask, loss, feedback, workspace, noise)
    return network.pull_back(weights, grads), value


@torch.no_grad()
def _rflo(network, weights, x, targets, mask, loss, feedback, workspace, noise):
    run = unroll(network, weights, x, targets, mask, loss, workspace, noise)
    signal = workspace.get("signal", run.rates[0].shape, run.loss).zero_()  # S_t
    feedback = feedback.to(run.loss.device, run.loss.dtype)

    def local(t, carried, out):  # psi_t S_t, S_t = s_t + alpha S_{t+1}
        signal.baddbmm_(run.errors[t], feedback, beta=network.alpha)
        network.rate_backward(signal, run.rates[t + 1], out=out)

    return fold_backward(network, run, workspace, local), run.loss


def random_feedback(network: LeakyRateNetwork, keys: torch.Tensor) -> torch.Tensor:
    """B ~ U(-1/sqrt(N), 1/sqrt(N)) per member (E, N_out, N), the lab's feedback-alignment
    scale (spec 4.2), from draw ``FEEDBACK_COUNTER`` of each member's ``keys``: fixed for a
    run and independent of the other members."""
    shape = (network.output_size, network.hidden_size)
    uniform = rng.counter_uniform(keys, FEEDBACK_COUNTER, shape, network.dtype)
    return (uniform * 2 - 1) / math.sqrt(network.hidden_size)


@dataclass(frozen=True, eq=False)
class RFLO:
    """RFLO as a :func:`~neurodyn.training.rate.train_rate` rule. ``feedback`` (E, N_out, N)
    fixes B; by default each member draws its own (:func:`random_feedback`)."""

    feedback: torch.Tensor | None = None
    stream_salt: ClassVar[int] = 0

    def gradients(self, network, weights, task, *, batch_size, keys, counter, workspace):
        feedback = random_feedback(network, keys) if self.feedback is None else self.feedback
        batch = rate_rule.training_batch(network, task, batch_size, keys, counter, workspace)
        x, targets, mask, noise = batch
        options = {"feedback": feedback, "workspace": workspace, "noise": noise}
        return rflo_gradients(network, weights, x, targets, mask, task.loss, **options)


rate_rule.register("rflo", RFLO)
