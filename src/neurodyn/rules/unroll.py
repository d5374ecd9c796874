"""The forward unroll and backward pass that BPTT, e-prop and RFLO share.

For the leaky rate network of :mod:`neurodyn.networks.rate`,
h_t = alpha h_{t-1} + (1 - alpha)(W_h r_{t-1} + W_x x_t), r = f(h), y_t = w r_t
(spec ``rate-rnn-eprop-lyapunov.md`` section 2.3), in time-major buffers whose every step
is one contiguous (E, B, .) block: per step one product forward (the input term apart,
only on steps with inputs), and for BPTT and RFLO one product backward that accumulates
the recurrent and readout gradients together (:func:`fold_backward`). The buffers live in a
:class:`Workspace` reused from call to call, so that a training loop allocates nothing per
iteration.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.networks.rate_noise import check_noise
from neurodyn.rules.losses import member_sums, output_error, task_loss


class Workspace:
    """Buffers reused by successive gradient calls of the same shapes (``train_rate``
    keeps one per run). The state buffer of an ensemble is tens of MB; a fresh allocation
    per call pays page faults and zeroing every time. The gradients a rule returns are
    buffers of its workspace too, valid until the next call with that workspace (without
    one, a rule uses a fresh workspace)."""

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


def autograd_gradients(network, weights, x, targets, mask, loss, *, detach: bool, noise=None):
    """Gradients by autograd through :meth:`LeakyRateNetwork.run` (the rate entering the
    recurrent term detached if ``detach``: e-prop's detach form), with the recurrent
    ``noise`` if given; (gradients, loss (E,)). The gradient of W~ goes through the
    network's constraints (Dale's law, masks) by the chain rule."""
    params = RateWeights(*(p.detach().requires_grad_(True) for p in weights.parameters()))
    outputs, _ = network.run(params, x, detach_recurrent=detach, noise=noise)
    value = task_loss(outputs, targets, mask, loss)
    grads = torch.autograd.grad(value.sum(), params.parameters())
    return RateWeights(*grads), value.detach()


class Unrolled(NamedTuple):
    """A forward pass in time-major buffers whose every step is one contiguous block.

    ``rates[t]`` (E, B, N), t = 0 ... T, is r_{t-1} (r_{-1} = 0): views into one
    (T + 1, E, B, N) buffer, so ``rates[t + 1]`` = r_t. ``inputs[t]`` = x_t (E, B, N_in),
    and ``active[t]`` whether any x_t is nonzero (the input terms of the other steps are
    skipped: Romo has inputs on a quarter of its steps). ``delta[t]`` = (dL/dy_t)^T
    (E, N_out, B) and ``errors[t]`` = dL/dy_t (E, B, N_out); ``readout`` = w^T (E, N_out, N);
    ``loss`` per member (E,). Per-step views are taken by one ``unbind`` each. The hidden
    states are not kept: the rules need f'(h), which
    :meth:`LeakyRateNetwork.rate_backward` recovers from r.
    """

    rates: tuple[torch.Tensor, ...]
    inputs: tuple[torch.Tensor, ...]
    active: list[bool]
    delta: tuple[torch.Tensor, ...]
    errors: tuple[torch.Tensor, ...]
    readout: torch.Tensor
    loss: torch.Tensor


def unroll(
    network: LeakyRateNetwork,
    weights: RateWeights,
    x,
    targets,
    mask,
    loss,
    workspace: Workspace,
    noise: torch.Tensor | None = None,
) -> Unrolled:
    """Forward pass h_t = alpha h_{t-1} + (1 - alpha)(r_{t-1} W_h + x_t W_x + n_t), one
    product per step (the input term apart, only on steps with inputs), each r_t written
    straight into the buffer, and the readout y_t^T = w^T r_t^T of each step while r_t is
    in cache. W_h is the network's effective W_eff; n_t the recurrent ``noise``
    (E, B, T, N) of :meth:`LeakyRateNetwork.sample_noise`, if any (its shape is checked,
    not its finiteness: non-finite noise makes its own member's loss non-finite)."""
    x = network.prepare_inputs(x)
    E, B, T, n_in = x.shape
    check_noise(network, noise, x, finite=False)
    recurrent = network.recurrent_weights(weights)
    if noise is not None:  # time-major: one contiguous block per step
        steps = noise.permute(2, 0, 1, 3)
        if not steps.is_contiguous():  # (training_batch draws it time-major)
            steps = workspace.get("noise", steps.shape, x).copy_(steps)
        noise = steps.unbind(0)
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
    for t in range(T):
        if t:
            h.baddbmm_(rates[t], recurrent, beta=alpha, alpha=leak)
        else:
            h.zero_()
        if active[t]:
            network.add_input_drive(h, weights, xs[t], leak)
        if noise is not None:
            h.add_(noise[t], alpha=leak)
        network.rate(h, out=rates[t + 1])
        torch.bmm(readout, columns[t + 1], out=outputs[t])
    delta, value = _error_and_loss(outputs, targets, mask, loss, workspace)
    return Unrolled(rates, xs, active, delta.unbind(0), delta.mT.unbind(0), readout, value)


def _error_and_loss(outputs, targets, mask, loss, workspace):
    """:func:`output_error` into a workspace buffer of the layout of ``outputs``
    (T, E, N_out, B), and :func:`task_loss` (E,). The MSE is computed in two reused
    buffers: fresh temporaries of this size cost more in page faults than in arithmetic."""
    view = outputs.permute(1, 3, 0, 2)  # (E, B, T, N_out)
    delta = workspace.get("delta", outputs.shape, outputs)
    delta_view = output_error(view, targets, mask, loss, out=delta.permute(1, 3, 0, 2))
    if loss != "mse":
        return delta, task_loss(view, targets, mask, loss)
    error = workspace.get("error", view.shape, outputs)  # member-major: see member_sums
    torch.sub(view, targets, out=error)  # 0.5 sum (y - yhat) delta
    return delta, member_sums(error.mul_(delta_view)).mul_(0.5)


def gradients_in(
    workspace: Workspace, recurrent, inputs, readout, scale: float = 1.0
) -> RateWeights:
    """RateWeights in ``workspace``: ``scale`` times g(W_h) (E, N, N) and g(W_x)
    (E, N_in, N), and g(w) from its transpose ``readout`` (E, N_out, N)."""
    parts = (recurrent, inputs, readout.mT)
    grads = RateWeights(*(workspace.get(f"gradient {k}", p.shape, p) for k, p in enumerate(parts)))
    torch.mul(recurrent, scale, out=grads.recurrent)
    torch.mul(inputs, scale, out=grads.inputs)
    grads.readout.copy_(parts[2])
    return grads


def fold_backward(network, run: Unrolled, workspace: Workspace, local_step) -> RateWeights:
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
        blocks.baddbmm_(carried[here].mT, run.rates[t + 1])
        local_step(t, carried[here], local[below])
        if run.active[t]:
            inputs_gradient.baddbmm_(run.inputs[t].mT, local[below])
    leak = 1 - network.alpha
    return gradients_in(workspace, blocks[:, :N].mT, inputs_gradient, blocks[:, N:], leak)
