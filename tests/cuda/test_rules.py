"""Each rule's gradient or update on CUDA against the CPU, from the same weights and data:
BPTT, e-prop and RFLO gradients and gradient flossing (float64: relative 1e-8; QR's signs
may differ between backends, the exponents and their gradients do not), the steering
rule's step and the free-energy rule's update (float64), and a few iterations of
``train_rate`` in float32 with full precision (relative 1e-4)."""

from __future__ import annotations

import pytest
import torch

from neurodyn.networks.attractor import FreeEnergyAttractorNetwork
from neurodyn.networks.binary import BinarySteeringNetwork
from neurodyn.networks.rate import LeakyRateNetwork
from neurodyn.rules import BPTT
from neurodyn.rules.bptt import bptt_gradients
from neurodyn.rules.eprop import eprop_gradients
from neurodyn.rules.flossing import flossing_gradients
from neurodyn.rules.free_energy import FreeEnergyRule
from neurodyn.rules.rflo import rflo_gradients
from neurodyn.rules.steering import SteeringRule
from neurodyn.tasks.romo import Romo
from neurodyn.training.rate import train_rate
from tests.cuda import ON_CUDA, assert_close

pytestmark = ON_CUDA
F64 = torch.float64


def romo_setting(device: str):
    """A 2-member tanh network and a Romo batch (MSE), as in tests/rules/test_gradients.py."""
    network = LeakyRateNetwork(
        1, 10, 2, ensemble_size=2, gain=[0.8, 1.5], activation="tanh", device=device, dtype=F64
    )
    batch = Romo().sample(4, torch.Generator().manual_seed(1))
    data = [t.to(device, F64) for t in (batch.inputs, batch.targets, batch.mask)]
    return network, network.init([0, 1]), *data


@pytest.mark.parametrize("rule", ["bptt", "eprop", "rflo"])
def test_rate_gradients_are_the_same_on_cuda(rule):
    results = {}
    for device in ("cpu", "cuda"):
        network, weights, x, y, mask = romo_setting(device)
        if rule == "bptt":
            results[device] = bptt_gradients(network, weights, x, y, mask, "mse")
        elif rule == "eprop":
            results[device] = eprop_gradients(network, weights, x, y, mask, "mse")
        else:
            feedback = weights.readout.transpose(1, 2)
            results[device] = rflo_gradients(network, weights, x, y, mask, "mse", feedback=feedback)
    (grads_cpu, loss_cpu), (grads_cuda, loss_cuda) = results["cpu"], results["cuda"]
    assert_close(grads_cuda, grads_cpu, rtol=1e-8, atol=1e-12)
    assert_close(loss_cuda, loss_cpu, rtol=1e-8, atol=1e-12)


def test_flossing_gradients_are_the_same_on_cuda():
    x = torch.randn(2, 3, 40, 1, generator=torch.Generator().manual_seed(0), dtype=F64)
    results = {}
    for device in ("cpu", "cuda"):
        network, weights, *_ = romo_setting(device)
        results[device] = flossing_gradients(
            network, weights, x.to(device), exponents=2, warmup=10, form="full"
        )
    (grads_cpu, loss_cpu), (grads_cuda, loss_cuda) = results["cpu"], results["cuda"]
    assert_close(loss_cuda, loss_cpu, rtol=1e-8, atol=1e-12)
    assert_close(grads_cuda, grads_cpu, rtol=1e-6, atol=1e-10)


def test_steering_rule_step_is_the_same_on_cuda():
    """float64 fields: the relaxed spins are equal, so the updates agree to rounding."""
    x = torch.randint(0, 2, (32, 20), generator=torch.Generator().manual_seed(3)) * 2 - 1
    labels = torch.arange(32).remainder(5)
    results = {}
    for device in ("cpu", "cuda"):
        network = BinarySteeringNetwork(20, 48, 5, ensemble_size=2, device=device, dtype=F64)
        weights = network.init([4, 5])
        inputs, targets = x.to(device, F64), labels.to(device)
        results[device] = SteeringRule().step(network, weights, inputs, targets)
    (new_cpu, stats_cpu), (new_cuda, stats_cuda) = results["cpu"], results["cuda"]
    cpu_tensors, cuda_tensors = new_cpu.tensors(), new_cuda.tensors()
    assert_close(list(cuda_tensors.values()), list(cpu_tensors.values()), rtol=1e-10, atol=1e-12)
    assert_close(stats_cuda.sweeps, stats_cpu.sweeps, rtol=0, atol=0)


def test_free_energy_update_is_the_same_on_cuda():
    generator = torch.Generator().manual_seed(4)
    couplings = torch.randn(2, 10, 10, generator=generator, dtype=F64) * 0.2
    sigma = torch.rand(2, 1, 10, generator=generator, dtype=F64) * 2 - 1
    bias = torch.randn(2, 1, 10, generator=generator, dtype=F64)
    uniform = torch.rand(2, 1, 10, generator=generator, dtype=F64)
    results = {}
    for device in ("cpu", "cuda"):
        network = FreeEnergyAttractorNetwork(10, ensemble_size=2, device=device, dtype=F64)
        tensors = [t.to(device) for t in (couplings, sigma, bias)]
        results[device] = FreeEnergyRule(0.05).step(network, *tensors, uniform=uniform.to(device))
    assert_close(list(results["cuda"]), list(results["cpu"]), rtol=1e-10, atol=1e-12)


def test_train_rate_is_the_same_on_cuda():
    """Trials are drawn on the CPU for every device (counter-based), so both devices train
    on the same data: float32 losses and weights after 5 iterations, relative 1e-4."""
    results = {}
    for device in ("cpu", "cuda"):
        network = LeakyRateNetwork(1, 16, 2, ensemble_size=2, gain=[0.5, 1.0], device=device)
        results[device] = train_rate(
            network,
            network.init([0, 1]),
            Romo(),
            rule=BPTT(),
            iterations=5,
            learning_rate=1e-3,
            seeds=[0, 1],
            batch_size=8,
        )
    (weights_cpu, losses_cpu), (weights_cuda, losses_cuda) = results["cpu"], results["cuda"]
    assert_close(losses_cuda, losses_cpu, rtol=1e-4, atol=1e-6)
    assert_close(weights_cuda, weights_cpu, rtol=1e-4, atol=1e-6)
