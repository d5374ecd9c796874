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

from typing import NamedTuple

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


class _Unrolled(NamedTuple):
    """A forward pass in time-major buffers: inputs (E, T * B, N_in), hidden and rates
    (E, T, B, N), delta = dL/dy (E, T * B, N_out) and the loss per member (E,)."""

    inputs: torch.Tensor
    hidden: torch.Tensor
    rates: torch.Tensor
    delta: torch.Tensor
    loss: torch.Tensor


def _unroll(network, weights, x, targets, mask, loss) -> _Unrolled:
    """Forward pass with one product per step; the input drive and the readout are each
    one product over all T * B rows."""
    x = network.prepare_inputs(x)
    E, B, T, n_in = x.shape
    N, alpha, leak = network.hidden_size, network.alpha, 1 - network.alpha
    inputs = x.transpose(1, 2).reshape(E, T * B, n_in)
    hidden = network.input_drive(weights, inputs).mul_(leak).view(E, T, B, N)  # + W_h r_{t-1}
    h = hidden[:, 0].contiguous()  # h_{-1} = 0
    for t in range(1, T):
        h_t = torch.baddbmm(hidden[:, t], network.rate(h), weights.recurrent, alpha=leak)
        hidden[:, t] = h = h_t.add_(h, alpha=alpha) if alpha else h_t
    rates = network.rate(hidden)
    # y^T = w^T r^T: (E, N_out, T * B), a wide product instead of a narrow one
    outputs = torch.bmm(weights.readout.transpose(1, 2), _rows(rates))
    outputs = outputs.view(E, -1, T, B).permute(0, 3, 2, 1)  # (E, B, T, N_out)
    delta = output_error(outputs, targets, mask, loss).transpose(1, 2).reshape(E, T * B, -1)
    return _Unrolled(inputs, hidden, rates, delta, task_loss(outputs, targets, mask, loss))


def _rows(tensor: torch.Tensor) -> torch.Tensor:
    """(E, T, B, N) -> (E, N, T * B): the left factor of a sum over steps and trials."""
    E, T, B, N = tensor.shape
    return tensor.reshape(E, T * B, N).transpose(1, 2)


def _weight_gradients(run: _Unrolled, local: torch.Tensor, previous: torch.Tensor, input_traces):
    """g(W_h) = sum_{t >= 1} previous_{t-1}^T local_t, g(W_x) = sum_t input_traces_t^T
    local_t and g(w) = sum_t r_t^T delta_t, each one product over all steps and trials;
    ``previous`` (E, T, B, N) is r or the traces eps_{t+1} built from r up to step t."""
    E, T, B, N = local.shape
    later = local[:, 1:].reshape(E, (T - 1) * B, N)  # views: the layout is time-major
    return RateWeights(
        torch.bmm(_rows(previous[:, :-1]), later),
        torch.bmm(input_traces.transpose(1, 2), local.view(E, T * B, N)),
        torch.bmm(run.delta.transpose(1, 2), run.rates.view(E, T * B, N)).transpose(1, 2),
    )


@torch.no_grad()
def _manual_bptt(network, weights, x, targets, mask, loss):
    """The adjoint recursion on per-step slices of the time-major buffers: one product per
    step; delta w^T and the weight gradients are each one product over all steps."""
    run = _unroll(network, weights, x, targets, mask, loss)
    E, T, B, N = run.hidden.shape
    alpha, leak = network.alpha, 1 - network.alpha
    slope = network.rate_derivative(run.hidden)
    # a_t = dL/dh_t, starting from its direct part psi_t * (delta_t w^T)
    adjoint = torch.bmm(run.delta, weights.readout.transpose(1, 2)).view(E, T, B, N)
    adjoint.mul_(slope)
    recurrent_t = weights.recurrent.transpose(1, 2).mul(leak)  # (1 - alpha) W_h^T
    following = adjoint[:, T - 1].contiguous()
    for t in range(T - 2, -1, -1):
        a_t = torch.bmm(following, recurrent_t).mul_(slope[:, t]).add_(adjoint[:, t])
        adjoint[:, t] = following = a_t.add_(following, alpha=alpha) if alpha else a_t
    grads = _weight_gradients(run, adjoint.mul_(leak), run.rates, run.inputs)
    return grads, run.loss


def eprop_gradients(
    network: LeakyRateNetwork, weights: RateWeights, x, targets, mask, loss, *, form="online"
):
    """Symmetric e-prop gradients, ``form`` "online" (traces) or "detach" (autograd).

    The online form runs the eligibility traces forward in time,
    eps_t = alpha eps_{t-1} + (1 - alpha) r_{t-1} and eps^x_t = alpha eps^x_{t-1} +
    (1 - alpha) x_t, next to the learning signals L_t = delta_t w^T; nothing flows
    backward in time. The sum over t of eps_t^T (L_t psi_t) is taken as one product after
    the pass (the same terms as accumulating them step by step, summed in another order).
    """
    if form == "detach":
        return _autograd(network, weights, x, targets, mask, loss, detach=True)
    if form != "online":
        raise ValueError(f"form must be 'online' or 'detach', got {form!r}")
    return _eprop_online(network, weights, x, targets, mask, loss)


@torch.no_grad()
def _eprop_online(network, weights, x, targets, mask, loss):
    run = _unroll(network, weights, x, targets, mask, loss)
    E, T, B, N = run.hidden.shape
    alpha, leak = network.alpha, 1 - network.alpha
    signal = torch.bmm(run.delta, weights.readout.transpose(1, 2)).view(E, T, B, N)
    local = signal.mul_(network.rate_derivative(run.hidden))
    traces = run.rates.mul(leak)  # [:, t] becomes eps_{t+1}, made of r_0 ... r_t
    input_traces = run.inputs.view(E, T, B, -1).mul(leak)  # [:, t] becomes eps^x_t
    if alpha:
        for t in range(1, T):
            traces[:, t].add_(traces[:, t - 1], alpha=alpha)
            input_traces[:, t].add_(input_traces[:, t - 1], alpha=alpha)
    return _weight_gradients(run, local, traces, input_traces.view(E, T * B, -1)), run.loss


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
    """RFLO gradients with fixed feedback ``feedback`` (E, N_out, N) (B, stored as x @ B).

    The trace p_t = alpha p_{t-1} + (1 - alpha) psi_t r_{t-1} is linear in its inputs, so
    sum_t s_t p_t with s_t = B delta_t equals (1 - alpha) sum_t (psi_t S_t) r_{t-1} with
    the signal filtered backward, S_t = s_t + alpha S_{t+1}: the same sum without the
    (B, N, N) trace per step.
    """
    return _rflo(network, weights, x, targets, mask, loss, feedback)


@torch.no_grad()
def _rflo(network, weights, x, targets, mask, loss, feedback):
    run = _unroll(network, weights, x, targets, mask, loss)
    E, T, B, N = run.hidden.shape
    alpha, leak = network.alpha, 1 - network.alpha
    signal = torch.bmm(run.delta, feedback).view(E, T, B, N)
    if alpha:
        for t in range(T - 2, -1, -1):
            signal[:, t].add_(signal[:, t + 1], alpha=alpha)
    local = signal.mul_(network.rate_derivative(run.hidden)).mul_(leak)
    return _weight_gradients(run, local, run.rates, run.inputs), run.loss
