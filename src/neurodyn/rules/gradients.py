"""Gradients of leaky rate RNNs: BPTT, e-prop (two forms) and RFLO.

Spec ``rate-rnn-eprop-lyapunov.md`` section 4, for the network of
:mod:`neurodyn.networks.rate` (h_t = alpha h_{t-1} + (1 - alpha)(W_h r_{t-1} + W_x x_t),
r = f(h), y_t = w r_t). Notation: psi_t = f'(h_t), delta_t = dL/dy_t.

* :func:`bptt_gradients`: exact gradients through the unrolled network (a manual adjoint
  recursion, or autograd as the reference).
* :func:`eprop_gradients` with ``form="detach"``: autograd with the rate entering the
  recurrent term detached (the leak path kept), as the paper and the original e-prop
  code implement it; ``form="online"``: the equivalent forward rule,
      eps_t = alpha eps_{t-1} + (1 - alpha) r_{t-1}     (eps^x with x_t for the inputs)
      L_t   = w^T delta_t                               (symmetric learning signal)
      g(W_h)[j, i] = sum_t L_{i,t} psi_{i,t} eps_{j,t},  g(w) = sum_t r_t^T delta_t.
* :func:`rflo_gradients` (Murray 2019): the derivative sits inside the filter and the
  learning signal comes through a fixed feedback matrix B,
      p_{ij,t} = alpha p_{ij,t-1} + (1 - alpha) psi_{i,t} r_{j,t-1},
      g(W_h)[j, i] = sum_t (B delta_t)_i p_{ij,t};
  with B = w^T and alpha = 0 it equals e-prop.

All gradients are summed over the batch of their member's loss and carry the ensemble
axis, like the weights.
"""

from __future__ import annotations

import torch

from neurodyn.networks.rate import LeakyRateNetwork, RateWeights

LOSSES = ("mse", "cross_entropy")


def _member_shapes(shape, targets, mask, loss):
    """Targets and mask broadcast to every member for outputs of ``shape`` (E, B, T, N_out),
    and each member's mask total (E, 1...)."""
    E = shape[0]
    if loss == "mse":
        mask = mask.expand(shape)
        targets = targets.expand(shape)
        total = mask.sum((1, 2, 3)).view(E, 1, 1, 1)
    elif loss == "cross_entropy":
        mask = mask.expand(shape[:3])
        targets = targets.expand(shape[:3])
        total = mask.sum((1, 2)).view(E, 1, 1)
    else:
        raise ValueError(f"loss must be one of {list(LOSSES)}, got {loss!r}")
    return targets, mask, total


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
        return 0.5 * (mask * (outputs - targets) ** 2).sum((1, 2, 3)) / total.flatten()
    logp = torch.log_softmax(outputs, dim=-1)
    picked = logp.gather(-1, targets.unsqueeze(-1))[..., 0]
    return -(mask * picked).sum((1, 2)) / total.flatten()


def output_error(
    outputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, loss: str
) -> torch.Tensor:
    """delta_t = dL/dy_t for :func:`task_loss`: (E, B, T, N_out)."""
    targets, mask, total = _member_shapes(outputs.shape, targets, mask, loss)
    if loss == "mse":
        return mask * (outputs - targets) / total
    onehot = torch.nn.functional.one_hot(targets, outputs.shape[-1]).to(outputs.dtype)
    return (torch.softmax(outputs, -1) - onehot) * (mask / total).unsqueeze(-1)


def _autograd(network, weights, x, targets, mask, loss, detach):
    params = RateWeights(*(p.detach().requires_grad_(True) for p in weights.parameters()))
    outputs, _ = network.run(params, x, detach_recurrent=detach)
    value = task_loss(outputs, targets, mask, loss)
    grads = torch.autograd.grad(value.sum(), params.parameters())
    return RateWeights(*grads), value.detach()


def bptt_gradients(
    network: LeakyRateNetwork, weights: RateWeights, x, targets, mask, loss, *, method="manual"
):
    """Exact gradients by backpropagation through time; returns (gradients, loss (E,)).

    ``method="manual"`` runs the adjoint recursion a_t = dL/dh_t,
        a_t = psi_t * (delta_t w^T) + alpha a_{t+1} + (1 - alpha) psi_t * (a_{t+1} W_h^T),
    then g(W_h) = (1 - alpha) sum_t r_{t-1}^T a_t and g(W_x) = (1 - alpha) sum_t x_t^T a_t:
    one product per step instead of an autograd graph; ``"autograd"`` is the reference.
    """
    if method == "autograd":
        return _autograd(network, weights, x, targets, mask, loss, detach=False)
    if method != "manual":
        raise ValueError(f"method must be 'manual' or 'autograd', got {method!r}")
    return _manual_bptt(network, weights, x, targets, mask, loss)


@torch.no_grad()
def _manual_bptt(network, weights, x, targets, mask, loss):
    """Forward into one buffer, then the adjoint recursion, all on per-step (E, B, N)
    slices: no whole-sequence temporaries besides the stored hidden states."""
    x = network.prepare_inputs(x)
    E, B, T, _ = x.shape
    alpha = network.alpha
    hidden = torch.empty(E, B, T, network.hidden_size, dtype=x.dtype, device=x.device)
    outputs = torch.empty(E, B, T, network.output_size, dtype=x.dtype, device=x.device)
    h = torch.zeros(E, B, network.hidden_size, dtype=x.dtype, device=x.device)
    for t in range(T):
        h = network.step(weights, h, x[:, :, t])
        hidden[:, :, t] = h
        outputs[:, :, t] = torch.bmm(network.rate(h), weights.readout)
    delta = output_error(outputs, targets, mask, loss)  # (E, B, T, N_out)
    readout_t = weights.readout.transpose(1, 2)
    recurrent_t = weights.recurrent.transpose(1, 2)
    g_rec = torch.zeros_like(weights.recurrent)
    g_in = torch.zeros_like(weights.inputs)
    g_out = torch.zeros_like(weights.readout)
    following = torch.zeros_like(h)
    for t in range(T - 1, -1, -1):
        h_t = hidden[:, :, t]
        rate, slope = network.rate(h_t), network.rate_derivative(h_t)
        g_out += torch.bmm(rate.transpose(1, 2), delta[:, :, t])
        back = torch.bmm(following, recurrent_t).mul_(1 - alpha)
        back.add_(torch.bmm(delta[:, :, t], readout_t))
        following = back.mul_(slope).add_(following, alpha=alpha)  # a_t = dL/dh_t
        scaled = following * (1 - alpha)
        if t > 0:
            g_rec += torch.bmm(network.rate(hidden[:, :, t - 1]).transpose(1, 2), scaled)
        g_in += torch.bmm(x[:, :, t].transpose(1, 2), scaled)
    return RateWeights(g_rec, g_in, g_out), task_loss(outputs, targets, mask, loss)


def eprop_gradients(
    network: LeakyRateNetwork, weights: RateWeights, x, targets, mask, loss, *, form="online"
):
    """Symmetric e-prop gradients, ``form`` "online" (traces) or "detach" (autograd)."""
    if form == "detach":
        return _autograd(network, weights, x, targets, mask, loss, detach=True)
    if form != "online":
        raise ValueError(f"form must be 'online' or 'detach', got {form!r}")
    return _local_gradients(network, weights, x, targets, mask, loss, feedback=None, rflo=False)


def rflo_gradients(
    network: LeakyRateNetwork,
    weights: RateWeights,
    x,
    targets,
    mask,
    loss,
    *,
    feedback: torch.Tensor,
):
    """RFLO gradients with fixed feedback ``feedback`` (E, N_out, N) (B, stored as x @ B)."""
    return _local_gradients(network, weights, x, targets, mask, loss, feedback=feedback, rflo=True)


@torch.no_grad()
def _local_gradients(network, weights, x, targets, mask, loss, *, feedback, rflo):
    """Truly online: one forward pass that keeps the eligibility traces and accumulates
    trace x learning signal as it goes (delta_t needs only step t and each member's
    mask total)."""
    x = network.prepare_inputs(x)
    E, B, T, _ = x.shape
    N, alpha = network.hidden_size, network.alpha
    shape = (E, B, T, network.output_size)
    targets, mask, total = _member_shapes(shape, targets, mask, loss)
    back = weights.readout.transpose(1, 2) if feedback is None else feedback  # (E, N_out, N)
    g_rec = torch.zeros_like(weights.recurrent)
    g_in = torch.zeros_like(weights.inputs)
    g_out = torch.zeros_like(weights.readout)
    value = torch.zeros(E, dtype=x.dtype, device=x.device)
    if rflo:
        trace = torch.zeros(E, B, N, N, dtype=x.dtype, device=x.device)  # p[j, i]
        trace_in = torch.zeros(E, B, network.input_size, N, dtype=x.dtype, device=x.device)
    else:
        trace = torch.zeros(E, B, N, dtype=x.dtype, device=x.device)  # eps_j
        trace_in = torch.zeros(E, B, network.input_size, dtype=x.dtype, device=x.device)
    h = torch.zeros(E, B, N, dtype=x.dtype, device=x.device)
    for t in range(T):
        previous = network.rate(h)
        h = network.step(weights, h, x[:, :, t])
        rate, slope = network.rate(h), network.rate_derivative(h)
        y = torch.bmm(rate, weights.readout)
        step_targets, step_mask = targets[:, :, t], mask[:, :, t]
        if loss == "mse":
            delta = step_mask * (y - step_targets) / total[:, :, 0]
            value += 0.5 * (step_mask * (y - step_targets) ** 2).sum((1, 2)) / total.flatten()
        else:
            logp = torch.log_softmax(y, -1)
            onehot = torch.nn.functional.one_hot(step_targets, y.shape[-1]).to(y.dtype)
            weight = (step_mask / total[:, :, 0]).unsqueeze(-1)
            delta = (logp.exp() - onehot) * weight
            value -= (weight * onehot * logp).sum((1, 2))
        g_out += torch.bmm(rate.transpose(1, 2), delta)
        signal = torch.bmm(delta, back)  # (E, B, N) learning signal
        if rflo:
            psi = slope.unsqueeze(2)
            trace.mul_(alpha).add_(previous.unsqueeze(3) * psi, alpha=1 - alpha)
            trace_in.mul_(alpha).add_(x[:, :, t].unsqueeze(3) * psi, alpha=1 - alpha)
            g_rec += (trace * signal.unsqueeze(2)).sum(1)
            g_in += (trace_in * signal.unsqueeze(2)).sum(1)
        else:
            local = signal * slope
            trace.mul_(alpha).add_(previous, alpha=1 - alpha)
            trace_in.mul_(alpha).add_(x[:, :, t], alpha=1 - alpha)
            g_rec += torch.bmm(trace.transpose(1, 2), local)
            g_in += torch.bmm(trace_in.transpose(1, 2), local)
    return RateWeights(g_rec, g_in, g_out), value
