"""One step of each network family on CUDA against the CPU: the binary steering network's
relaxation, the leaky rate network's run (with its counter-based noise) and its
fixed-point search, and the continuous-Bernoulli attractor network's step. Initial
weights are drawn on the CPU for every device, so both start from the same numbers
(checked too)."""

from __future__ import annotations

import torch

from neurodyn import rng
from neurodyn.analysis import StepDynamics, find_fixed_points
from neurodyn.networks.attractor import FreeEnergyAttractorNetwork
from neurodyn.networks.binary import BinarySteeringNetwork
from neurodyn.networks.rate import LeakyRateNetwork
from tests.cuda import ON_CUDA, assert_close

pytestmark = ON_CUDA
F64 = torch.float64


def test_binary_relaxation_is_the_same_on_cuda():
    """float64 fields: a sign could differ only for a field within ~1e-15 of zero, so the
    relaxed spins and sweep counts must be equal (atol 0)."""
    results = {}
    for device in ("cpu", "cuda"):
        network = BinarySteeringNetwork(
            20, 64, 5, ensemble_size=2, self_coupling=[0.3, 0.6], device=device, dtype=F64
        )
        weights = network.init([1, 2])
        x = torch.randint(0, 2, (40, 20), generator=torch.Generator().manual_seed(0)) * 2 - 1
        label = network.one_hot(torch.arange(80).remainder(5).view(2, 40).to(device))
        x = x.to(device, F64)
        relaxed = network.relax(weights, x, sweeps=6, feedback=1.0, label=label)
        results[device] = (weights, relaxed)
    (w_cpu, cpu), (w_cuda, cuda) = results["cpu"], results["cuda"]
    assert_close(list(w_cuda.tensors().values()), list(w_cpu.tensors().values()), rtol=0, atol=0)
    assert_close(cuda.state.hidden, cpu.state.hidden, rtol=0, atol=0)
    assert_close(cuda.state.readout, cpu.state.readout, rtol=0, atol=0)
    assert_close(cuda.sweeps, cpu.sweeps, rtol=0, atol=0)


def rate_network(device: str, dtype=F64, **options) -> LeakyRateNetwork:
    return LeakyRateNetwork(
        2, 16, 3, ensemble_size=3, gain=[0.5, 1.0, 1.5], device=device, dtype=dtype, **options
    )


def test_rate_network_run_is_the_same_on_cuda():
    """float64: relative 1e-10; float32 in full precision: relative 1e-4 over 50 steps."""
    x = torch.randn(3, 4, 50, 2, generator=torch.Generator().manual_seed(0), dtype=F64)
    for dtype, tolerance in ((F64, 1e-10), (torch.float32, 1e-4)):
        cpu, cuda = rate_network("cpu", dtype), rate_network("cuda", dtype)
        weights = cpu.init([0, 1, 2]), cuda.init([0, 1, 2])
        assert_close(weights[1], weights[0], rtol=0, atol=0)  # drawn on the CPU for both
        out_cpu, hidden_cpu = cpu.run(weights[0], x.to(dtype))
        out_cuda, hidden_cuda = cuda.run(weights[1], x.to("cuda", dtype))
        assert_close(hidden_cuda, hidden_cpu, rtol=tolerance, atol=tolerance)
        assert_close(out_cuda, out_cpu, rtol=tolerance, atol=tolerance)


def test_rate_network_noise_is_the_same_on_cuda():
    """The CPU draws the noise with the numba kernel, CUDA with tensor operations: the same
    counter-based uniforms, then erfinv (float32; implementations may differ in the last
    bit: relative 1e-6)."""
    noise = {"recurrent_noise": [0.0, 0.1, 0.2], "input_noise": [0.05, 0.0, 0.1]}
    x = torch.randn(3, 4, 30, 2, generator=torch.Generator().manual_seed(1))
    drawn = {}
    for device in ("cpu", "cuda"):
        network = rate_network(device, torch.float32, **noise)
        keys = rng.member_keys([0, 1, 2], "task", device)
        drawn[device] = network.sample_noise(x.to(device), keys, 5)
    (x_cpu, noise_cpu), (x_cuda, noise_cuda) = drawn["cpu"], drawn["cuda"]
    assert_close(x_cuda, x_cpu, rtol=1e-6, atol=1e-6)
    assert_close(noise_cuda, noise_cpu, rtol=1e-6, atol=1e-6)


def test_attractor_step_is_the_same_on_cuda():
    """float64 continuous-Bernoulli step from the same uniforms: relative 1e-10."""
    generator = torch.Generator().manual_seed(2)
    couplings = torch.randn(2, 12, 12, generator=generator, dtype=F64) * 0.3
    sigma = torch.rand(2, 5, 12, generator=generator, dtype=F64) * 2 - 1
    bias = torch.randn(2, 5, 12, generator=generator, dtype=F64)
    uniform = torch.rand(2, 5, 12, generator=generator, dtype=F64)
    steps = {}
    for device in ("cpu", "cuda"):
        network = FreeEnergyAttractorNetwork(12, ensemble_size=2, device=device, dtype=F64)
        tensors = (t.to(device) for t in (couplings, sigma, bias))
        steps[device] = network.step(*tensors, uniform=uniform.to(device))
    assert_close(list(steps["cuda"]), list(steps["cpu"]), rtol=1e-10, atol=1e-12)


def test_rate_network_fixed_point_search_is_the_same_on_cuda():
    """float64: the speed_gradient writer's residual and gradient relative 1e-10; the first
    50 steps of find_fixed_points (fused Adam, buffers reused on the device) from the same
    candidates, final q relative 1e-9. Later steps are not compared: a perturbation of
    1e-15 in the candidates grows to 4e-10 in q by step 100 on the CPU alone, and the
    points found after thousands of steps can differ."""
    generator = torch.Generator().manual_seed(3)
    start = torch.randn(3, 32, 16, generator=generator, dtype=F64)
    x = torch.randn(3, 32, 2, generator=generator, dtype=F64)
    written, found = {}, {}
    for device in ("cpu", "cuda"):
        network = rate_network(device)
        weights = network.init([0, 1, 2])
        h = start.to(device)
        written[device] = [torch.empty_like(h), torch.empty_like(h)]
        network.speed_gradient(weights, x.to(device))(h, *written[device])
        dynamics = StepDynamics.of_network(network, weights)
        found[device] = find_fixed_points(
            dynamics, h, input_size=2, max_iterations=50, stop_q=0.0
        ).candidate_q
    assert_close(written["cuda"], written["cpu"], rtol=1e-10, atol=1e-12)
    assert_close(found["cuda"], found["cpu"], rtol=1e-9, atol=0)
