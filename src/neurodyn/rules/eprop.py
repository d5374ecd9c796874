"""Symmetric e-prop for leaky rate RNNs (Bellec et al. 2020).

Spec ``rate-rnn-eprop-lyapunov.md`` section 4.2, as Liu, Zhang & Liu (arXiv 2410.11164)
use it: the gradient of BPTT with the rate entering the recurrent term treated as
constant (the leak path kept). ``form="detach"``: autograd with that rate detached, as the
paper and the original e-prop code implement it; ``form="online"``: the equivalent
forward rule,

    eps_t = alpha eps_{t-1} + (1 - alpha) r_{t-1}     (eps^x with x_t for the inputs)
    L_t   = w^T delta_t                               (symmetric learning signal)
    g(W_h)[j, i] = sum_t L_{i,t} psi_{i,t} eps_{j,t},  g(w) = sum_t r_t^T delta_t.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from neurodyn.checks import check_choice
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.rules import rate_rule
from neurodyn.rules.unroll import Workspace, autograd_gradients, gradients_in, unroll

FORMS = ("online", "detach")


def eprop_gradients(
    network: LeakyRateNetwork,
    weights: RateWeights,
    x,
    targets,
    mask,
    loss,
    *,
    form="online",
    workspace: Workspace | None = None,
    noise: torch.Tensor | None = None,
):
    """Symmetric e-prop gradients, ``form`` "online" (traces) or "detach" (autograd);
    returns (gradients, loss (E,)).

    The online form runs the eligibility traces forward in time (one ``lerp_`` pass each,
    in one [eps_t, eps^x_t] buffer), next to the learning signals L_t = delta_t w^T;
    nothing flows backward in time, and each step adds [eps_t, eps^x_t]^T (L_t psi_t) to
    the gradient as it goes (one trace per member and trial, not one per step).
    ``noise``: the recurrent noise (E, B, T, N) of the trials, if any; the gradient of W_eff
    is pulled back to W~ elementwise (:meth:`LeakyRateNetwork.pull_back`), so it stays
    local.
    """
    check_choice("form", form, FORMS)
    network.check_weights(weights, finite=False)
    if form == "detach":
        return autograd_gradients(
            network, weights, x, targets, mask, loss, detach=True, noise=noise
        )
    grads, value = _eprop_online(
        network, weights, x, targets, mask, loss, workspace or Workspace(), noise
    )
    return network.pull_back(weights, grads), value


@torch.no_grad()
def _eprop_online(network, weights, x, targets, mask, loss, workspace, noise):
    run = unroll(network, weights, x, targets, mask, loss, workspace, noise)
    N, n_in = network.hidden_size, network.input_size
    alpha, leak = network.alpha, 1 - network.alpha
    (E, B, _), n_out = run.rates[0].shape, run.readout.shape[1]
    trace = workspace.get("trace", (E, B, N + n_in), run.loss).zero_()  # [eps_t, eps^x_t]
    local = workspace.get("local", (E, B, N), run.loss)
    blocks = workspace.get("blocks", (E, N + n_in, N), run.loss).zero_()
    readout_gradient = workspace.get("readout", (E, n_out, N), run.loss).zero_()
    eps, eps_x, trace_t = trace[..., :N], trace[..., N:], trace.mT
    for t in range(len(run.errors)):
        eps.lerp_(run.rates[t], leak)  # eps + (1 - alpha)(r_{t-1} - eps)
        if run.active[t]:
            eps_x.lerp_(run.inputs[t], leak)
        else:
            eps_x.mul_(alpha)
        torch.bmm(run.errors[t], run.readout, out=local)  # L_t = delta_t w^T
        network.rate_backward(local, run.rates[t + 1], out=local)
        readout_gradient.baddbmm_(run.delta[t], run.rates[t + 1])
        blocks.baddbmm_(trace_t, local)
    return gradients_in(workspace, blocks[:, :N], blocks[:, N:], readout_gradient), run.loss


@dataclass(frozen=True)
class EProp(rate_rule.BatchRule):
    """Symmetric e-prop as a :func:`~neurodyn.training.rate.train_rate` rule (``form`` as
    in :func:`eprop_gradients`; both forms give the same gradients)."""

    form: str = "online"

    def __post_init__(self) -> None:
        check_choice("form", self.form, FORMS)

    def batch_gradients(
        self, network, weights, x, targets, mask, loss, *, workspace=None, noise=None
    ):
        options = {"form": self.form, "workspace": workspace, "noise": noise}
        return eprop_gradients(network, weights, x, targets, mask, loss, **options)


rate_rule.register("eprop", EProp)
