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


class Workspace:
    """Buffers reused by successive gradient calls of the same shapes (``train_rate``
    keeps one per run). The state buffer of an ensemble is tens of MB; a fresh allocation
    per call pays page faults and zeroing every time (17% of a BPTT iteration at E = 100,
    N = 64 on one thread on a Zen 4 machine). Returned gradients never alias them."""

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
        a_t = psi_t * (delta_t w^T + (1 - alpha) a_{t+1} W_h^T) + alpha a_{t+1},
    two products per step; g([W_h; W_x]) = (1 - alpha) sum_t z_t^T a_t with
    z_t = [r_{t-1}, x_t] accumulates by one product per step while z_t is in cache, so the
    adjoint of all steps is never stored; g(w) = sum_t r_t^T delta_t is one product over
    all steps. ``"autograd"`` is the reference.
    """
    if method == "autograd":
        return _autograd(network, weights, x, targets, mask, loss, detach=False)
    if method != "manual":
        raise ValueError(f"method must be 'manual' or 'autograd', got {method!r}")
    return _manual_bptt(network, weights, x, targets, mask, loss, workspace or Workspace())


class _Unrolled(NamedTuple):
    """A forward pass in time-major buffers.

    ``state`` (E, T + 1, B, N + N_in) holds the stacked presynaptic rows
    z_t = [r_{t-1}, x_t] for t = 0 ... T (r_{-1} = 0, x_T = 0), which multiply [W_h; W_x]
    at step t; ``rates`` r_0 ... r_{T-1} (E, T, B, N) is a view into it. ``delta`` =
    dL/dy (E, T, B, N_out); ``loss`` per member (E,). The hidden states are not kept: the
    rules need f'(h), which :meth:`LeakyRateNetwork.rate_backward` recovers from r.
    """

    state: torch.Tensor
    rates: torch.Tensor
    delta: torch.Tensor
    loss: torch.Tensor


def _unroll(network, weights, x, targets, mask, loss, workspace) -> _Unrolled:
    """Forward pass with one product per step, h_t = alpha h_{t-1} + (1 - alpha)
    z_t [W_h; W_x], each r_t written straight into the state buffer; then the readout of
    all steps as one product, y^T = w^T [r_0 ... r_{T-1}]^T."""
    x = network.prepare_inputs(x)
    E, B, T, n_in = x.shape
    N, n_out = network.hidden_size, network.output_size
    alpha, leak = network.alpha, 1 - network.alpha
    state = workspace.get("state", (E, T + 1, B, N + n_in), x)  # r_{-1}, x_T stay 0
    state[:, :T, :, N:].copy_(x.transpose(1, 2))
    stacked = workspace.get("forward", (E, N + n_in, N), x)  # [W_h; W_x]
    stacked[:, :N].copy_(weights.recurrent)
    stacked[:, N:].copy_(weights.inputs)
    h = workspace.get("hidden", (E, B, N), x)
    rows, rates_out = state.unbind(1), state[..., :N].unbind(1)  # per-step views at once
    torch.bmm(rows[0], stacked, out=h).mul_(leak)
    network.rate(h, out=rates_out[1])
    for t in range(1, T):
        h.baddbmm_(rows[t], stacked, beta=alpha, alpha=leak)
        network.rate(h, out=rates_out[t + 1])
    rates = state[:, 1:, :, :N]
    # (E, N_out, T * B): with the N_out rows of w^T on the left, MKL runs this product in
    # half the time of r w, whose output rows are N_out wide (0.50 against 0.99 ms for
    # E = 50, T B = 1792, N = 64 on 2 threads of an Intel Xeon)
    outputs = workspace.get("outputs", (E, n_out, T * B), x)
    torch.bmm(weights.readout.mT.contiguous(), _rows(rates).mT, out=outputs)
    outputs = outputs.view(E, n_out, T, B).permute(0, 3, 2, 1)  # (E, B, T, N_out)
    delta = workspace.get("delta", (E, T, B, n_out), x)
    delta.copy_(output_error(outputs, targets, mask, loss).transpose(1, 2))
    return _Unrolled(state, rates, delta, task_loss(outputs, targets, mask, loss))


def _rows(tensor: torch.Tensor) -> torch.Tensor:
    """(E, T, B, K) -> (E, T * B, K), a view for the time-major buffers (also with rows
    of a stride larger than K)."""
    E, T, B, K = tensor.shape
    return tensor.reshape(E, T * B, K)


def _sum_over_steps(left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """sum_{t, b} left_{t, b}^T right_{t, b} for (E, T, B, K) and (E, T, B, M): (E, K, M),
    one product over all steps and trials."""
    return torch.bmm(_rows(left).transpose(1, 2), _rows(right))


@torch.no_grad()
def _manual_bptt(network, weights, x, targets, mask, loss, workspace):
    run = _unroll(network, weights, x, targets, mask, loss, workspace)
    E, T, B, N = run.rates.shape
    alpha, leak = network.alpha, 1 - network.alpha
    stacked = workspace.get("backward", (E, N, N), run.rates)
    torch.mul(weights.recurrent.mT, leak, out=stacked)  # (1 - alpha) W_h^T
    readout = weights.readout.mT.contiguous()  # w^T
    pushed = workspace.get("pushed", (E, B, N), run.rates)
    adjoint = workspace.get("adjoint", (2, E, B, N), run.rates).unbind(0)  # a_t, a_{t+1}
    a_t = adjoint[T % 2].zero_()  # a_T
    blocks = workspace.get("blocks", (E, run.state.shape[-1], N), run.rates).zero_()
    # the per-step views in three calls rather than several per step (2-3% of a gradient)
    rows, rates, delta = run.state.mT.unbind(1), run.rates.unbind(1), run.delta.unbind(1)
    for t in range(T - 1, -1, -1):
        a_next, a_t = a_t, adjoint[t % 2]
        torch.bmm(delta[t], readout, out=pushed).baddbmm_(a_next, stacked)
        # z_{t+1}^T a_{t+1}: reading z_{t+1} = [r_t, x_{t+1}] brings r_t into cache
        blocks.baddbmm_(rows[t + 1], a_next)
        network.rate_backward(pushed, rates[t], out=a_t)
        if alpha:
            a_t.add_(a_next, alpha=alpha)
    blocks.baddbmm_(rows[0], a_t)
    grads = RateWeights(blocks[:, :N] * leak, blocks[:, N:] * leak, _readout_gradient(run))
    return grads, run.loss


def _readout_gradient(run: _Unrolled) -> torch.Tensor:
    """g(w) = sum_t r_t^T delta_t (E, N, N_out), as (delta^T r)^T: with the N_out rows on
    the left MKL takes 1.0 ms instead of 2.5 (E = 100, T B = 1792, N = 64, Intel Xeon)."""
    return _sum_over_steps(run.delta, run.rates).mT.contiguous()


def _split(blocks: torch.Tensor, run: _Unrolled, scale: float) -> RateWeights:
    """RateWeights from the stacked gradient [g(W_h); g(W_x)] (E, N + N_in, N) times
    ``scale``, and the readout gradient."""
    N = run.rates.shape[-1]
    blocks = blocks.mul_(scale)
    return RateWeights(
        blocks[:, :N].contiguous(), blocks[:, N:].contiguous(), _readout_gradient(run)
    )


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
    (1 - alpha) x_t (one filter of the stacked rows z_t = [r_{t-1}, x_t]), next to the
    learning signals L_t = delta_t w^T; nothing flows backward in time. The sum over t of
    [eps_t, eps^x_t]^T (L_t psi_t) is taken as one product after the pass (the same terms
    as accumulating them step by step, summed in another order).
    """
    if form == "detach":
        return _autograd(network, weights, x, targets, mask, loss, detach=True)
    if form != "online":
        raise ValueError(f"form must be 'online' or 'detach', got {form!r}")
    return _eprop_online(network, weights, x, targets, mask, loss, workspace or Workspace())


@torch.no_grad()
def _eprop_online(network, weights, x, targets, mask, loss, workspace):
    run = _unroll(network, weights, x, targets, mask, loss, workspace)
    E, T, B, N = run.rates.shape
    alpha, leak = network.alpha, 1 - network.alpha
    signal = workspace.get("local", (E, T, B, N), run.rates)
    torch.bmm(_rows(run.delta), weights.readout.mT, out=signal.view(E, T * B, N))
    local = network.rate_backward(signal, run.rates, out=signal)
    traces = workspace.get("traces", run.state[:, :T].shape, run.state)
    torch.mul(run.state[:, :T], leak, out=traces)  # [:, t] becomes [eps_t, eps^x_t]
    if alpha:
        for t in range(1, T):
            traces[:, t].add_(traces[:, t - 1], alpha=alpha)
    return _split(_sum_over_steps(traces, local), run, 1.0), run.loss


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
    the signal filtered backward, S_t = s_t + alpha S_{t+1}: the same sum without the
    (B, N, N) trace per step.
    """
    return _rflo(network, weights, x, targets, mask, loss, feedback, workspace or Workspace())


@torch.no_grad()
def _rflo(network, weights, x, targets, mask, loss, feedback, workspace):
    run = _unroll(network, weights, x, targets, mask, loss, workspace)
    E, T, B, N = run.rates.shape
    alpha, leak = network.alpha, 1 - network.alpha
    signal = workspace.get("local", (E, T, B, N), run.rates)
    torch.bmm(_rows(run.delta), feedback, out=signal.view(E, T * B, N))
    if alpha:
        for t in range(T - 2, -1, -1):
            signal[:, t].add_(signal[:, t + 1], alpha=alpha)
    local = network.rate_backward(signal, run.rates, out=signal)
    return _split(_sum_over_steps(run.state[:, :T], local), run, leak), run.loss
