"""BPTT, e-prop and RFLO gradients of leaky rate RNNs against their definitions."""

import pytest
import torch

from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.rules.bptt import bptt_gradients
from neurodyn.rules.eprop import eprop_gradients
from neurodyn.rules.losses import output_error, task_loss
from neurodyn.rules.rflo import rflo_gradients
from neurodyn.rules.unroll import Workspace
from neurodyn.tasks.romo import Romo


def setting(activation="relu", alpha=0.5, loss="mse"):
    """A 2-member network and a Romo batch: MSE on 2 outputs, or cross entropy on 3
    actions (0 = fixate, 1 + the larger stimulus during the response)."""
    outputs = 2 if loss == "mse" else 3
    net = LeakyRateNetwork(
        1,
        10,
        outputs,
        ensemble_size=2,
        gain=[0.8, 1.5],
        alpha=alpha,
        activation=activation,
        dtype=torch.float64,
    )
    batch = Romo().sample(4, torch.Generator().manual_seed(1))
    x = batch.inputs.double()
    if loss == "mse":
        return net, net.init([0, 1]), x, batch.targets.double(), batch.mask.double()
    targets = batch.targets.argmax(-1) + (batch.targets.sum(-1) > 0).long()
    return net, net.init([0, 1]), x, targets, batch.mask[..., 0].double()


def relative(a, b):
    return float((a - b).norm() / b.norm())


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_bptt_matches_finite_differences(loss):
    net, weights, x, y, m = setting(activation="tanh", loss=loss)
    grads, _ = bptt_gradients(net, weights, x, y, m, loss)
    for name in ("recurrent", "inputs", "readout"):
        tensor = getattr(weights, name)
        for index in [(0, 0, 1), (1, 0, 0), (1, tensor.shape[1] - 1, tensor.shape[2] - 1)]:
            step = 1e-6
            plus, minus = tensor.clone(), tensor.clone()
            plus[index] += step
            minus[index] -= step

            def loss_with(value, name=name, index=index):
                changed = RateWeights(**{**weights.tensors(), name: value})
                outputs, _ = net.run(changed, x)
                return task_loss(outputs, y, m, loss)[index[0]]

            numeric = (loss_with(plus) - loss_with(minus)) / (2 * step)
            assert float(getattr(grads, name)[index]) == pytest.approx(
                float(numeric), rel=1e-6, abs=1e-10
            )


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_online_eprop_equals_the_detach_form(activation, loss):
    net, weights, x, y, m = setting(activation=activation, loss=loss)
    detach, loss_detach = eprop_gradients(net, weights, x, y, m, loss, form="detach")
    online, loss_online = eprop_gradients(net, weights, x, y, m, loss, form="online")
    for a, b in zip(online.parameters(), detach.parameters(), strict=True):
        assert relative(a, b) < 1e-6
    torch.testing.assert_close(loss_online, loss_detach)
    exact, _ = bptt_gradients(net, weights, x, y, m, loss)
    torch.testing.assert_close(online.readout, exact.readout)  # the readout gradient is exact
    assert relative(online.recurrent, exact.recurrent) > 1e-3  # truncation differs


def test_rflo_with_readout_feedback_and_no_leak_equals_eprop():
    net, weights, x, y, m = setting(alpha=0.0)
    feedback = weights.readout.transpose(1, 2)
    rflo, _ = rflo_gradients(net, weights, x, y, m, "mse", feedback=feedback)
    eprop, _ = eprop_gradients(net, weights, x, y, m, "mse")
    for a, b in zip(rflo.parameters(), eprop.parameters(), strict=True):
        assert relative(a, b) < 1e-10
    leaky, weights2, *_ = setting(alpha=0.5)
    rflo2, _ = rflo_gradients(
        leaky, weights2, x, y, m, "mse", feedback=weights2.readout.transpose(1, 2)
    )
    eprop2, _ = eprop_gradients(leaky, weights2, x, y, m, "mse")
    assert relative(rflo2.recurrent, eprop2.recurrent) > 1e-3  # derivative inside the filter


def test_rflo_equals_its_trace_definition():
    """The filtered-signal form against p_t = alpha p_{t-1} + (1 - alpha) psi_t r_{t-1}."""
    net, weights, x, y, m = setting(alpha=0.5, activation="tanh")
    feedback = torch.randn(2, 2, 10, generator=torch.Generator().manual_seed(4), dtype=x.dtype)
    rflo, _ = rflo_gradients(net, weights, x, y, m, "mse", feedback=feedback)
    xs = net.prepare_inputs(x)
    outputs, hidden = net.run(weights, xs)
    delta = output_error(outputs, y, m, "mse")
    E, B, T, N = hidden.shape
    trace = torch.zeros(E, B, N, N, dtype=x.dtype)  # p[j, i]
    trace_in = torch.zeros(E, B, 1, N, dtype=x.dtype)
    g_rec, g_in = torch.zeros(E, N, N, dtype=x.dtype), torch.zeros(E, 1, N, dtype=x.dtype)
    previous = torch.zeros(E, B, N, dtype=x.dtype)
    for t in range(T):
        psi = net.rate_derivative(hidden[:, :, t]).unsqueeze(2)
        trace = 0.5 * trace + 0.5 * previous.unsqueeze(3) * psi
        trace_in = 0.5 * trace_in + 0.5 * xs[:, :, t].unsqueeze(3) * psi
        signal = torch.bmm(delta[:, :, t], feedback).unsqueeze(2)
        g_rec += (trace * signal).sum(1)
        g_in += (trace_in * signal).sum(1)
        previous = net.rate(hidden[:, :, t])
    assert relative(rflo.recurrent, g_rec) < 1e-10
    assert relative(rflo.inputs, g_in) < 1e-10


def test_output_error_is_the_loss_derivative():
    for loss in ("mse", "cross_entropy"):
        net, weights, x, y, m = setting(loss=loss)
        outputs, _ = net.run(weights, x)
        outputs = outputs.detach().requires_grad_(True)
        grad = torch.autograd.grad(task_loss(outputs, y, m, loss).sum(), outputs)[0]
        torch.testing.assert_close(output_error(outputs, y, m, loss), grad)
    with pytest.raises(ValueError, match="loss"):
        task_loss(outputs, y, m, "hinge")


def test_output_error_into_a_buffer_of_another_layout_gives_the_same_bits():
    for loss in ("mse", "cross_entropy"):
        net, weights, x, y, m = setting(loss=loss)
        outputs, _ = net.run(weights, x)
        E, B, T, n_out = outputs.shape
        buffer = torch.full((T, E, n_out, B), float("nan"), dtype=outputs.dtype)
        written = output_error(outputs, y, m, loss, out=buffer.permute(1, 3, 0, 2))
        assert written.data_ptr() == buffer.data_ptr()
        assert torch.equal(written, output_error(outputs, y, m, loss))


@pytest.mark.parametrize("activation, alpha", [("relu", 0.5), ("tanh", 0.3), ("relu", 0.0)])
def test_manual_bptt_equals_autograd(activation, alpha):
    net, weights, x, y, m = setting(activation=activation, alpha=alpha)
    reference, loss_reference = bptt_gradients(net, weights, x, y, m, "mse", method="autograd")
    manual, loss_manual = bptt_gradients(net, weights, x, y, m, "mse")
    for a, b in zip(manual.parameters(), reference.parameters(), strict=True):
        assert relative(a, b) < 1e-12
    torch.testing.assert_close(loss_manual, loss_reference)
    with pytest.raises(ValueError, match="method"):
        bptt_gradients(net, weights, x, y, m, "mse", method="numeric")


def test_a_reused_workspace_gives_the_results_of_fresh_buffers():
    net, weights, x, y, m = setting()
    other = RateWeights(*(p.flip(0) for p in weights.parameters()))
    workspace = Workspace()
    bptt_gradients(net, other, x.flip(0), y, m, "mse", workspace=workspace)
    eprop_gradients(net, other, x, y, m, "mse", workspace=workspace)
    for rule in (bptt_gradients, eprop_gradients):
        reused, loss = rule(net, weights, x, y, m, "mse", workspace=workspace)
        fresh, fresh_loss = rule(net, weights, x, y, m, "mse")
        for a, b in zip(reused.parameters(), fresh.parameters(), strict=True):
            assert torch.equal(a, b)
        assert torch.equal(loss, fresh_loss)


@pytest.mark.parametrize("inputs, alpha", [(1, 0.0), (3, 0.0), (3, 0.5)])
def test_steps_without_inputs_are_skipped_exactly(inputs, alpha):
    """Per-member inputs, zero at some steps for every member (skipped) and at others for
    one member only: the manual rules still equal their references (RFLO with B = w^T
    equals e-prop at alpha = 0)."""
    gen = torch.Generator().manual_seed(5)
    net = LeakyRateNetwork(
        inputs, 8, 2, ensemble_size=2, gain=[0.9, 1.4], alpha=alpha, dtype=torch.float64
    )
    weights = net.init([3, 4])
    x = torch.randn(2, 3, 12, inputs, generator=gen, dtype=torch.float64)
    x[:, :, [0, 4, 5, 11]] = 0.0
    x[1, :, 7] = 0.0
    y = torch.randn(3, 12, 2, generator=gen, dtype=torch.float64)
    m = (torch.rand(3, 12, 2, generator=gen) > 0.3).double()
    manual, _ = bptt_gradients(net, weights, x, y, m, "mse")
    reference, _ = bptt_gradients(net, weights, x, y, m, "mse", method="autograd")
    online, _ = eprop_gradients(net, weights, x, y, m, "mse")
    detach, _ = eprop_gradients(net, weights, x, y, m, "mse", form="detach")
    feedback = weights.readout.transpose(1, 2)
    rflo, _ = rflo_gradients(net, weights, x, y, m, "mse", feedback=feedback)
    for k in range(3):
        assert relative(manual.parameters()[k], reference.parameters()[k]) < 1e-12
        assert relative(online.parameters()[k], detach.parameters()[k]) < 1e-12
        if alpha == 0.0:
            assert relative(rflo.parameters()[k], online.parameters()[k]) < 1e-12
