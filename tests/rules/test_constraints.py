"""Dale's law and connectivity masks under every rate rule, and in the analyses.

The constraints are a parameterisation (W_eff = |W~| S or W~ M,
:mod:`neurodyn.networks.connectivity`): every rule must keep each effective recurrent
weight's sign and every masked weight at exactly zero, e-prop and RFLO must stay local
(the same detach-form equivalence as the unconstrained network), and the Lyapunov and
fixed-point analyses must see the constrained weights.
"""

import pytest
import torch

from neurodyn import rules, tasks
from neurodyn.analysis import StepDynamics, lyapunov_spectrum
from neurodyn.analysis.slow_points import find_fixed_points
from neurodyn.networks import connectivity
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.rules.bptt import bptt_gradients
from neurodyn.rules.eprop import eprop_gradients
from neurodyn.rules.rflo import rflo_gradients
from neurodyn.tasks.romo import Romo
from neurodyn.training.rate import train_rate

F64 = torch.float64
# members: Dale plain, Dale balanced with a mask, a mask alone, Dale plain with a mask
DALE, INITS, SEEDS = (
    [True, True, False, True],
    ["plain", "balanced", "plain", "plain"],
    [0, 1, 2, 3],
)


def constrained(input_size=1, output_size=2, hidden_size=12, **options):
    masks = connectivity.random_mask(SEEDS, hidden_size, [1.0, 0.5, 0.3, 0.5])
    settings = {"ensemble_size": 4, "gain": [0.5, 1.0, 1.5, 1.0], "dale": DALE}
    settings |= {"dale_init": INITS, "mask": masks} | options
    return LeakyRateNetwork(input_size, hidden_size, output_size, **settings), masks


def relative(a, b):
    return float((a - b).norm() / b.norm())


def romo_setting(**options):
    network, masks = constrained(dtype=F64, **options)
    batch = Romo().sample(4, torch.Generator().manual_seed(1))
    trials = (batch.inputs.double(), batch.targets.double(), batch.mask.double())
    return network, network.init(SEEDS), trials, masks


@pytest.mark.parametrize("task_name", ["romo", "decision"])
@pytest.mark.parametrize("name", rules.names())
def test_every_rule_keeps_the_signs_and_the_masks(name, task_name):
    task = tasks.get(task_name, **({"tau": 200.0} if task_name == "decision" else {}))
    network, masks = constrained(task.input_size, task.output_size, alpha=task.alpha)
    initial = network.init(SEEDS)
    weights, losses = train_rate(
        network,
        initial,
        task,
        rule=rules.get(name)(),
        iterations=5,
        learning_rate=1e-2,
        seeds=SEEDS,
        batch_size=4,
    )
    assert bool(losses.isfinite().all())
    before, after = network.recurrent_weights(initial), network.recurrent_weights(weights)
    assert not torch.equal(before, after), "the rule did not train the recurrent weights"
    dale = torch.tensor(DALE)
    kept = masks == 1
    assert torch.equal(after[dale].sign(), before[dale].sign())  # masked: 0 in both
    signs = connectivity.unit_signs(12, 0.8).view(1, -1, 1)
    assert bool(((after[dale] * signs) > 0)[kept[dale]].all())  # strictly: no weight reaches 0
    assert bool((after[~kept] == 0).all()) and bool((weights.recurrent[~kept] == 0).all())


def test_eprop_stays_local_under_dale_and_masks():
    """The online (trace) form equals the detach form through |W~| S: the chain rule of the
    parameterisation is elementwise, so the gradient is the same local one times S sign(W~)."""
    for loss in ("mse",):
        network, weights, (x, y, m), masks = romo_setting(activation="tanh")
        detach, loss_detach = eprop_gradients(network, weights, x, y, m, loss, form="detach")
        online, loss_online = eprop_gradients(network, weights, x, y, m, loss, form="online")
        for a, b in zip(online.parameters(), detach.parameters(), strict=True):
            assert relative(a, b) < 1e-6
        torch.testing.assert_close(loss_online, loss_detach)
        assert bool((online.recurrent[masks == 0] == 0).all())


def test_bptt_and_rflo_pull_back_their_gradients():
    network, weights, (x, y, m), _ = romo_setting()
    manual, _ = bptt_gradients(network, weights, x, y, m, "mse")
    reference, _ = bptt_gradients(network, weights, x, y, m, "mse", method="autograd")
    for a, b in zip(manual.parameters(), reference.parameters(), strict=True):
        assert relative(a, b) < 1e-12
    leakless, _ = constrained(dtype=F64, alpha=0.0)
    feedback = weights.readout.transpose(1, 2)
    rflo, _ = rflo_gradients(leakless, weights, x, y, m, "mse", feedback=feedback)
    eprop, _ = eprop_gradients(leakless, weights, x, y, m, "mse", form="detach")
    for a, b in zip(rflo.parameters(), eprop.parameters(), strict=True):
        assert relative(a, b) < 1e-10  # RFLO = e-prop at alpha = 0 and B = w^T, as unconstrained


def test_the_analyses_use_the_effective_weights():
    """Lyapunov spectra and fixed points of a constrained network equal those of the
    unconstrained network given its effective weights; the Jacobian has zeros where the
    mask has."""
    network, weights, (x, _, _), masks = romo_setting()
    plain = LeakyRateNetwork(1, 12, 2, ensemble_size=4, dtype=F64)
    effective = network.effective(weights)
    h = torch.randn(4, 3, 12, dtype=F64, generator=torch.Generator().manual_seed(2))
    jacobian = network.jacobian(weights, h)
    torch.testing.assert_close(jacobian, plain.jacobian(effective, h))
    missing = (masks == 0) & ~torch.eye(12, dtype=torch.bool)  # J[i, j] = (1 - alpha) W[j, i] f'
    assert bool((jacobian.mT[missing.unsqueeze(1).expand_as(jacobian)] == 0).all())
    state = torch.zeros(4, 4, 12, dtype=F64)
    ours = lyapunov_spectrum(
        StepDynamics.of_network(network, weights), state, x[None].expand(4, -1, -1, -1), exponents=3
    )
    theirs = lyapunov_spectrum(
        StepDynamics.of_network(plain, effective), state, x[None].expand(4, -1, -1, -1), exponents=3
    )
    torch.testing.assert_close(ours.exponents, theirs.exponents)
    start = torch.randn(4, 8, 12, dtype=F64, generator=torch.Generator().manual_seed(3))
    options = {"input_size": 1, "max_iterations": 300, "q_tolerance": 1e-4}
    found = find_fixed_points(StepDynamics.of_network(network, weights), start, **options)
    reference = find_fixed_points(StepDynamics.of_network(plain, effective), start, **options)
    torch.testing.assert_close(found.candidate_q, reference.candidate_q)


def test_flossing_gradients_respect_the_constraints():
    network, weights, (x, _, _), masks = romo_setting()
    grads, _ = rules.flossing.flossing_gradients(network, weights, x, warmup=10)
    assert bool((grads.recurrent[masks == 0] == 0).all())
    assert bool(grads.recurrent.abs().sum() > 0)


def test_pull_back_is_the_chain_rule():
    network, weights, _, _ = romo_setting()
    leaf = weights.recurrent.clone().requires_grad_(True)
    upstream = torch.randn_like(leaf)
    (expected,) = torch.autograd.grad(
        (
            network.recurrent_weights(RateWeights(leaf, weights.inputs, weights.readout)) * upstream
        ).sum(),
        leaf,
    )
    grads = RateWeights(upstream.clone(), weights.inputs, weights.readout)
    torch.testing.assert_close(network.pull_back(weights, grads).recurrent, expected)
