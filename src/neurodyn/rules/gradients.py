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
axis, like the weights. Every rule runs on one time-major unroll whose steps are
contiguous (E, B, .) blocks, so that the per-step products can run on oneDNN where it
gives MKL's bits faster (:mod:`neurodyn._products`).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from neurodyn._products import Products, onednn_products
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
    outputs: torch.Tensor,
    targets: torch.Tensor,
    mask: torch.Tensor,
    loss: str,
    *,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """delta_t = dL/dy_t for :func:`task_loss`: (E, B, T, N_out); into ``out`` (any layout)
    if given, for the MSE without temporaries."""
    targets, mask, total = _member_shapes(outputs.shape, targets, mask, loss)
    if loss == "mse":
        if out is None:
            return mask * (outputs - targets) / total
        return torch.sub(outputs, targets, out=out).mul_(mask).div_(total)
    onehot = torch.nn.functional.one_hot(targets, outputs.shape[-1]).to(outputs.dtype)
    delta = (torch.softmax(outputs, -1) - onehot) * (mask / total).unsqueeze(-1)
    return delta if out is None else out.copy_(delta)


class Workspace:
    """Buffers reused by successive gradient calls of the same shapes (``train_rate``
    keeps one per run). The state buffer of an ensemble is tens of MB; a fresh allocation
    per call pays page faults and zeroing every time (17% of a BPTT iteration at E = 100,
    N = 64 on one thread on a Zen 4 machine). The gradients a rule returns are buffers of
    its workspace too, valid until the next call with that workspace (without one, a
    rule uses a fresh workspace)."""

    def __init__(self):
        self._buffers: dict[str, tuple[tuple, torch.Tensor]] = {}

    def get(self, name: str, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """Buffer ``name`` of ``shape`` with the dtype and device of ``like``: zero when
        first allocated, then as the last call left it (entries a caller never writes
        stay zero)."""
        key = (tuple(shape), like.dtype, like.device)
        entry = self._buffers.get(name)
        if entry is None or entry[0] != key:
            entry = self._buffers[name] = (key, like.new_zeros(shape))
        return entry[1]


def _autograd(network, weights, x, targets, mask, loss, detach):
    params = RateWeights(*(p.detach().requires_grad_(True) for p in weights.parameters()))
    outputs, _ = network.run(params, x, detach_recurrent=detach)
    value = task_loss(outputs, targets, mask, loss)
    grads = torch.autograd.grad(value.sum(), params.parameters())
    return RateWeights(*grads), value.detach()


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
):
    """Exact gradients by backpropagation through time; returns (gradients, loss (E,)).

    ``method="manual"`` runs the adjoint recursion a_t = dL/dh_t,
        a_t = psi_t * ([a_{t+1}, delta_t] [(1 - alpha) W_h^T; w^T]) + alpha a_{t+1},
    one product per step, and accumulates g(W_h) = (1 - alpha) sum_t r_{t-1}^T a_t together
    with g(w) = sum_t r_t^T delta_t by one more, [a_{t+1}, delta_t]^T r_t, while r_t is in
    cache (:func:`_fold_backward`); g(W_x) = (1 - alpha) sum_t x_t^T a_t on the steps with
    inputs. The adjoint of all steps is never stored. ``"autograd"`` is the reference.
    """
    if method == "autograd":
        return _autograd(network, weights, x, targets, mask, loss, detach=False)
    if method != "manual":
        raise ValueError(f"method must be 'manual' or 'autograd', got {method!r}")
    return _manual_bptt(network, weights, x, targets, mask, loss, workspace or Workspace())


class _Unrolled(NamedTuple):
    """A forward pass in time-major buffers whose every step is one contiguous block.

    ``rates[t]`` (E, B, N), t = 0 ... T, is r_{t-1} (r_{-1} = 0): views into one
    (T + 1, E, B, N) buffer, so ``rates[t + 1]`` = r_t. ``inputs[t]`` = x_t (E, B, N_in),
    and ``active[t]`` whether any x_t is nonzero (the input terms of the other steps are
    skipped: Romo has inputs on a quarter of its steps). ``delta[t]`` = (dL/dy_t)^T
    (E, N_out, B) and ``errors[t]`` = dL/dy_t (E, B, N_out); ``readout`` = w^T (E, N_out, N);
    ``loss`` per member (E,). Per-step views are taken by one ``unbind`` each, not one call
    per step. The hidden states are not kept: the rules need f'(h), which
    :meth:`LeakyRateNetwork.rate_backward` recovers from r. ``products`` runs the step
    products (:func:`neurodyn._products.onednn_products`).
    """

    rates: tuple[torch.Tensor, ...]
    inputs: tuple[torch.Tensor, ...]
    active: list[bool]
    delta: tuple[torch.Tensor, ...]
    errors: tuple[torch.Tensor, ...]
    readout: torch.Tensor
    loss: torch.Tensor
    products: Products


def _unroll(network, weights, x, targets, mask, loss, workspace, inner) -> _Unrolled:
    """Forward pass h_t = alpha h_{t-1} + (1 - alpha)(r_{t-1} W_h + x_t W_x), one product
    per step (the input term apart, on MKL, only on steps with inputs), each r_t written
    straight into the buffer, and the readout y_t^T = w^T r_t^T of each step while r_t is
    in cache (on MKL, which runs these products with N_out rows fast; oneDNN does not).
    ``inner`` is the inner size of the rule's backward products (for the probe)."""
    x = network.prepare_inputs(x)
    E, B, T, n_in = x.shape
    N, n_out = network.hidden_size, network.output_size
    alpha, leak = network.alpha, 1 - network.alpha
    state = workspace.get("rates", (T + 1, E, B, N), x)  # r_{-1} stays 0
    inputs = workspace.get("inputs", (T, E, B, n_in), x)
    inputs.copy_(x.permute(2, 0, 1, 3))
    active = inputs.flatten(1).ne(0).any(1).tolist()
    readout = weights.readout.mT.contiguous()  # w^T
    h = workspace.get("hidden", (E, B, N), x)
    outputs = workspace.get("outputs", (T, E, n_out, B), x)
    rates, columns, xs = state.unbind(0), state.mT.unbind(0), inputs.unbind(0)
    products = onednn_products(E, B, N, inner, alpha, x)
    for t in range(T):
        if t:
            with products:
                h.baddbmm_(rates[t], weights.recurrent, beta=alpha, alpha=leak)
        else:
            h.zero_()
        if active[t]:
            network.add_input_drive(h, weights, xs[t], leak)
        network.rate(h, out=rates[t + 1])
        torch.bmm(readout, columns[t + 1], out=outputs[t])
    delta, value = _error_and_loss(outputs, targets, mask, loss, workspace)
    errors = delta.mT.unbind(0)
    return _Unrolled(rates, xs, active, delta.unbind(0), errors, readout, value, products)


def _error_and_loss(outputs, targets, mask, loss, workspace):
    """:func:`output_error` into a workspace buffer of the layout of ``outputs``
    (T, E, N_out, B), and :func:`task_loss` (E,). The MSE is computed in two reused
    buffers: fresh temporaries of this size cost more in page faults than in arithmetic."""
    view = outputs.permute(1, 3, 0, 2)  # (E, B, T, N_out)
    delta = workspace.get("delta", outputs.shape, outputs)
    delta_view = output_error(view, targets, mask, loss, out=delta.permute(1, 3, 0, 2))
    if loss != "mse":
        return delta, task_loss(view, targets, mask, loss)
    error = workspace.get("error", outputs.shape, outputs).permute(1, 3, 0, 2)
    torch.sub(view, targets, out=error)  # 0.5 sum (y - yhat) delta
    return delta, error.mul_(delta_view).sum((1, 2, 3)).mul_(0.5)


def _gradients(recurrent, inputs, readout, scale: float, workspace: Workspace) -> RateWeights:
    """RateWeights in ``workspace``: ``scale`` times g(W_h) (E, N, N) and g(W_x)
    (E, N_in, N), and g(w) from its transpose ``readout`` (E, N_out, N)."""
    parts = (recurrent, inputs, readout.mT)
    grads = RateWeights(*(workspace.get(f"gradient {k}", p.shape, p) for k, p in enumerate(parts)))
    torch.mul(recurrent, scale, out=grads.recurrent)
    torch.mul(inputs, scale, out=grads.inputs)
    grads.readout.copy_(parts[2])
    return grads


def _fold_backward(network, run: _Unrolled, workspace: Workspace, local_step) -> RateWeights:
    """The backward pass of BPTT and RFLO, whose weight gradients are
    (1 - alpha) sum_t [r_{t-1}, x_t]^T u_t for the rule's local signal u_t (a_t, or RFLO's
    psi_t S_t), and g(w) = sum_t r_t^T delta_t.

    From t = T - 1 down, the buffer [u_{t+1}, delta_t] (E, B, N + N_out) gets delta_t, one
    product adds [u_{t+1}, delta_t]^T r_t to an (E, N + N_out, N) sum (both gradients in
    one: the readout's small product per step would cost more than its two extra rows),
    ``local_step(t, carried, out)`` writes u_t into the other buffer, and x_t^T u_t is
    added on steps with inputs (r_{-1}^T u_0 = 0 is skipped). Returns the gradients."""
    T, (E, B, N) = len(run.errors), run.rates[0].shape
    n_out, n_in = run.readout.shape[1], run.inputs[0].shape[-1]
    pairs = workspace.get("carried", (2, E, B, N + n_out), run.loss)
    pairs[(T - 1) % 2, ..., :N].zero_()  # u_T = 0
    carried, local, errors = pairs.unbind(0), pairs[..., :N].unbind(0), pairs[..., N:].unbind(0)
    blocks = workspace.get("blocks", (E, N + n_out, N), run.loss).zero_()
    inputs_gradient = workspace.get("inputs gradient", (E, n_in, N), run.loss).zero_()
    for t in range(T - 1, -1, -1):
        here, below = t % 2, (t - 1) % 2
        errors[here].copy_(run.errors[t])
        with run.products:
            blocks.baddbmm_(carried[here].mT, run.rates[t + 1])
        local_step(t, carried[here], local[below])
        if run.active[t]:
            inputs_gradient.baddbmm_(run.inputs[t].mT, local[below])
    leak = 1 - network.alpha
    return _gradients(blocks[:, :N].mT, inputs_gradient, blocks[:, N:], leak, workspace)


@torch.no_grad()
def _manual_bptt(network, weights, x, targets, mask, loss, workspace):
    N, n_out = network.hidden_size, network.output_size
    run = _unroll(network, weights, x, targets, mask, loss, workspace, N + n_out)
    alpha, leak = network.alpha, 1 - network.alpha
    pushing = workspace.get("pushing", (weights.recurrent.shape[0], N + n_out, N), run.loss)
    torch.mul(weights.recurrent.mT, leak, out=pushing[:, :N])  # [(1 - alpha) W_h^T; w^T]
    pushing[:, N:].copy_(run.readout)
    pushed = workspace.get("pushed", run.rates[0].shape, run.loss)

    def adjoint(t, carried, out):  # a_t from [a_{t+1}, delta_t]
        with run.products:
            torch.bmm(carried, pushing, out=pushed)
        network.rate_backward(pushed, run.rates[t + 1], out=out)
        if alpha:
            out.add_(carried[..., :N], alpha=alpha)

    return _fold_backward(network, run, workspace, adjoint), run.loss


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
):
    """Symmetric e-prop gradients, ``form`` "online" (traces) or "detach" (autograd).

    The online form runs the eligibility traces forward in time,
    eps_t = alpha eps_{t-1} + (1 - alpha) r_{t-1} and eps^x_t = alpha eps^x_{t-1} +
    (1 - alpha) x_t (one ``lerp_`` pass each, in one buffer), next to the
    learning signals L_t = delta_t w^T; nothing flows backward in time, and each step adds
    [eps_t, eps^x_t]^T (L_t psi_t) to the gradient as it goes (one trace per member and
    trial, not one per step).
    """
    if form == "detach":
        return _autograd(network, weights, x, targets, mask, loss, detach=True)
    if form != "online":
        raise ValueError(f"form must be 'online' or 'detach', got {form!r}")
    return _eprop_online(network, weights, x, targets, mask, loss, workspace or Workspace())


@torch.no_grad()
def _eprop_online(network, weights, x, targets, mask, loss, workspace):
    N, n_in = network.hidden_size, network.input_size
    run = _unroll(network, weights, x, targets, mask, loss, workspace, N + n_in)
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
        with run.products:
            blocks.baddbmm_(trace_t, local)
    grads = _gradients(blocks[:, :N], blocks[:, N:], readout_gradient, 1.0, workspace)
    return grads, run.loss


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
):
    """RFLO gradients with fixed feedback ``feedback`` (E, N_out, N) (B, stored as x @ B).

    The trace p_t = alpha p_{t-1} + (1 - alpha) psi_t r_{t-1} is linear in its inputs, so
    sum_t s_t p_t with s_t = B delta_t equals (1 - alpha) sum_t (psi_t S_t) r_{t-1} with
    the signal filtered backward, S_t = s_t + alpha S_{t+1}, in one pass from t = T - 1
    down: the same sum without the (B, N, N) trace per step.
    """
    return _rflo(network, weights, x, targets, mask, loss, feedback, workspace or Workspace())


@torch.no_grad()
def _rflo(network, weights, x, targets, mask, loss, feedback, workspace):
    N, n_out = network.hidden_size, network.output_size
    run = _unroll(network, weights, x, targets, mask, loss, workspace, N + n_out)
    signal = workspace.get("signal", run.rates[0].shape, run.loss).zero_()  # S_t

    def local(t, carried, out):  # psi_t S_t, S_t = s_t + alpha S_{t+1}
        signal.baddbmm_(run.errors[t], feedback, beta=network.alpha)
        network.rate_backward(signal, run.rates[t + 1], out=out)

    return _fold_backward(network, run, workspace, local), run.loss
