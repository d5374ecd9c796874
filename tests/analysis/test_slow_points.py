"""Fixed points by speed minimisation: linear maps give (I - A)^-1 b and A's eigenvalues,
the 2-unit tanh net its 9 points with their stability, contracting networks one point,
ensembles equal single runs, and bad input is refused."""

import math
from types import SimpleNamespace

import pytest
import torch

from neurodyn.analysis.lyapunov import StepDynamics
from neurodyn.analysis.slow_points import find_fixed_points, sample_initial_states
from neurodyn.networks.rate import LeakyRateNetwork

F64 = torch.float64


def gaussian(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def canonical(values: torch.Tensor) -> torch.Tensor:
    """Eigenvalues in one order, by real then imaginary part (conjugates tie in |lambda|)."""
    values = values.gather(-1, values.imag.argsort(-1))
    return values.gather(-1, values.real.argsort(dim=-1, stable=True))


def linear_dynamics(matrices: torch.Tensor, offsets: torch.Tensor) -> StepDynamics:
    """Member e: F(h) = A_e h + b_e (row vectors: h @ A_e^T), Jacobian A_e everywhere."""
    return StepDynamics(
        lambda h, x: torch.bmm(h, matrices.mT) + offsets[:, None],
        jacobian=lambda h, x: matrices[:, None].expand(*h.shape, h.shape[-1]),
    )


def test_linear_map_gives_its_fixed_point_eigenvalues_and_unstable_direction():
    spectrum = torch.tensor([-1.2, 0.9, 0.5, -0.3, 0.1], dtype=F64)
    bases = torch.eye(5, dtype=F64) + 0.3 * gaussian(2, 5, 5, seed=1)
    matrices = bases @ torch.diag(spectrum) @ torch.linalg.inv(bases)
    offsets = gaussian(2, 5, seed=2)
    dynamics = linear_dynamics(matrices, offsets)
    expected = torch.linalg.solve(torch.eye(5, dtype=F64) - matrices, offsets)
    found = find_fixed_points(dynamics, gaussian(2, 8, 5, seed=3), stop_q=1e-26)
    assert found.count.tolist() == [1, 1] and found.labels == (("saddle",), ("saddle",))
    torch.testing.assert_close(found.points[:, 0], expected, rtol=0, atol=1e-6)
    ones = torch.ones(2, 1, dtype=F64)
    values = (ones * spectrum).to(torch.complex128)
    torch.testing.assert_close(found.eigenvalues[:, 0], values, rtol=0, atol=1e-5)
    assert found.unstable_modes.tolist() == [[1], [1]]
    leading = bases[..., 0] / bases[..., 0].norm(dim=-1, keepdim=True)  # lambda = -1.2
    leading = leading * leading.gather(-1, leading.abs().argmax(-1, keepdim=True)).sign()
    torch.testing.assert_close(found.unstable_directions[:, 0], leading, rtol=0, atol=1e-8)

    # As the Euler step of a flow (alpha = 0.5), lambda = -1.2 is stable: mu = -4.4.
    flow = find_fixed_points(dynamics, gaussian(2, 8, 5, seed=3), time="continuous", alpha=0.5)
    mu = ((spectrum - 1) / 0.5).sort(descending=True).values
    torch.testing.assert_close(flow.eigenvalues[:, 0].real, ones * mu, rtol=0, atol=1e-5)
    assert flow.labels == (("stable",), ("stable",))
    assert bool(flow.unstable_directions.isnan().all())


def test_two_tanh_units_have_nine_fixed_points_with_their_stability():
    """h' = tanh(w h), w = 2, per unit: 0 (slope 2, unstable) and +-a, a = tanh(2 a)
    (slope w (1 - a^2) < 1, stable); the mixed points are saddles, unstable along the
    axis of their zero coordinate. The dynamics have no tangent: autograd linearises."""
    a = 1.0
    for _ in range(100):
        a = math.tanh(2 * a)
    dynamics = SimpleNamespace(step=lambda h, x: torch.tanh(2 * h))
    grid = torch.linspace(-1.5, 1.5, 7, dtype=F64) + 0.01
    found = find_fixed_points(dynamics, torch.cartesian_prod(grid, grid)[None], stop_q=1e-26)
    assert found.count.tolist() == [9]
    for point, label, modes, direction in zip(
        found.points[0],
        found.labels[0],
        found.unstable_modes[0],
        found.unstable_directions[0],
        strict=True,
    ):
        zero = point.abs() < 0.5
        torch.testing.assert_close(
            point, torch.where(zero, 0.0, a * point.sign()), atol=1e-8, rtol=0
        )
        assert int(modes) == int(zero.sum())
        assert label == {0: "stable", 1: "saddle", 2: "unstable"}[int(zero.sum())]
        if label == "saddle":
            torch.testing.assert_close(direction, zero.to(F64), rtol=0, atol=1e-12)
    slopes = found.eigenvalues[0].real
    torch.testing.assert_close(found.eigenvalues[0].imag, torch.zeros(9, 2, dtype=F64))
    assert bool(
        ((slopes - 2).abs() < 1e-8).logical_or((slopes - 2 * (1 - a * a)).abs() < 1e-6).all()
    )


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_a_contracting_rate_network_has_one_stable_fixed_point_at_the_origin(activation):
    """With |W_h|_2 < 1, G(h) = W_h^T f(h) is a contraction (f is 1-Lipschitz, f(0) = 0):
    the origin is the only fixed point. There J = alpha I + (1 - alpha) W_h^T diag f'(h*)
    and J_c = -I + W_h^T diag f'(h*), f' taken at the h* found (ReLU's kink at 0 gives each
    unit 0 or 1)."""
    network = LeakyRateNetwork(
        2, 20, 1, ensemble_size=2, gain=0.4, alpha=0.6, activation=activation, dtype=F64
    )
    weights = network.init([0, 1])
    assert float(torch.linalg.matrix_norm(weights.recurrent, ord=2).max()) < 1
    for tensor in weights.parameters():
        tensor.requires_grad_(True)
    dynamics = StepDynamics.of_network(network, weights)
    start = gaussian(2, 16, 20, seed=4)
    found = find_fixed_points(dynamics, start, input_size=2, stop_q=1e-28)
    flow = find_fixed_points(
        dynamics, start, torch.zeros(2, dtype=F64), time="continuous", alpha=network.alpha
    )
    assert all(p.grad is None for p in weights.parameters())
    assert found.count.tolist() == [1, 1] and found.labels == (("stable",), ("stable",))
    assert float(found.points.abs().max()) < 1e-10
    for result, linearise in ((found, lambda c: 0.6 + 0.4 * c), (flow, lambda c: c - 1)):
        slope = network.rate_derivative(result.points[:, 0])  # ReLU: 1 where h* > 0, as J
        coupling = torch.linalg.eigvals(weights.recurrent.detach().mT * slope[:, None])
        expected = canonical(linearise(coupling))
        torch.testing.assert_close(canonical(result.eigenvalues[:, 0]), expected, rtol=0, atol=1e-8)
    assert bool((found.eigenvalues.abs().diff(dim=-1) <= 1e-12).all())  # by decreasing |lambda|
    assert bool((flow.eigenvalues.real.diff(dim=-1) <= 0).all())  # by decreasing Re mu
    assert flow.labels == (("stable",), ("stable",))


def test_a_homogeneous_relu_network_has_rays_of_marginal_fixed_points():
    """No bias, zero input: F(c h) = c F(h) for c > 0. With W_h^T = R diag(1, 0.5, 0.2) R^T
    and R's first column v > 0, every c v (c > 0) is a fixed point (all units active, J =
    W_h^T, alpha = 0) with the marginal eigenvalue 1 along v: the points found lie on the
    ray. With 1 + 1e-9 instead of 1 (a rounding-sized growth) the points barely move
    (q < 1e-14): marginal, so stable, unless ``marginal_tolerance`` is 0."""
    positive = torch.tensor([[1.0], [2.0], [3.0]], dtype=F64)
    rotation, _ = torch.linalg.qr(torch.cat([positive, gaussian(3, 2, seed=7)], 1))
    rotation[:, 0] *= torch.sign(rotation[0, 0])  # v = (1, 2, 3) / |(1, 2, 3)|
    network = LeakyRateNetwork(1, 3, 1, alpha=0.0, dtype=F64)
    weights = network.init(0)
    start = torch.tensor([1.0, 2.0, 4.0], dtype=F64)[:, None] * rotation[:, 0]
    start = (start + 1e-3 * gaussian(3, 3, seed=8))[None]
    for growth, tolerance, label in (
        (1.0, 1e-6, "stable"),
        (1 + 1e-9, 1e-6, "stable"),
        (1 + 1e-9, 0.0, "saddle"),
    ):
        spectrum = torch.tensor([growth, 0.5, 0.2], dtype=F64)
        weights.recurrent = (rotation @ torch.diag(spectrum) @ rotation.T).T[None].contiguous()
        found = find_fixed_points(
            StepDynamics.of_network(network, weights),
            start,
            input_size=1,
            stop_q=1e-14,
            marginal_tolerance=tolerance,
        )
        assert found.count.tolist() == [3] and found.labels == ((label,) * 3,)
        assert float(found.q.max()) < 1e-14
        along = found.points[0] @ rotation[:, 0]
        ray = along[:, None] * rotation[:, 0]
        torch.testing.assert_close(found.points[0], ray, atol=1e-6, rtol=0)
        torch.testing.assert_close(found.eigenvalues[0, :, 0].abs(), spectrum[:1].expand(3))


def test_ensemble_members_equal_their_single_runs():
    E, N = 3, 16
    network = LeakyRateNetwork(2, N, 1, ensemble_size=E, gain=1.5, dtype=F64)
    weights = network.init([0, 1, 2])
    drive = gaussian(E, 2, seed=5)
    _, hidden = network.run(weights, drive[:, None, None] + gaussian(E, 4, 30, 2, seed=6))
    start = sample_initial_states(hidden, 32, noise_scale=0.1, seed=[7, 8, 9])
    options = {"max_iterations": 400, "q_tolerance": 1e-4, "time": "continuous", "alpha": 0.5}
    together = find_fixed_points(StepDynamics.of_network(network, weights), start, drive, **options)
    assert int(together.count.min()) >= 1
    single = LeakyRateNetwork(2, N, 1, gain=1.5, dtype=F64)
    for e, seed in enumerate([7, 8, 9]):
        part = type(weights)(*(p[e : e + 1] for p in weights.parameters()))
        alone = sample_initial_states(hidden[e : e + 1], 32, noise_scale=0.1, seed=seed)
        assert torch.equal(alone, start[e : e + 1])
        found = find_fixed_points(StepDynamics.of_network(single, part), alone, drive[e], **options)
        member = together.member(e)
        for name in ("points", "q", "eigenvalues", "unstable_modes", "candidate_q"):
            torch.testing.assert_close(
                getattr(found, name), getattr(member, name), rtol=0, atol=0, equal_nan=True
            )
        assert found.labels == member.labels


def test_duplicates_merge_greedily_by_q_and_outliers_are_dropped():
    """F(h) = h + d(h) with a small d, no descent: six points 0.6e-3 apart, q growing
    towards 0. Greedily from the lowest q, 3.0e-3 is kept, 2.4e-3 merges into it, 1.8e-3
    is kept (1.2e-3 away) although its neighbour 2.4e-3 is within the tolerance, and so on.
    A marginal map (|lambda| = 1) is stable."""
    line = SimpleNamespace(step=lambda h, x: h + 1e-6 * (1 + (3e-3 - h) * 1e3))
    start = (0.6e-3 * torch.arange(6, dtype=F64)).view(1, 6, 1)
    found = find_fixed_points(line, start, max_iterations=0)
    assert found.iterations == 0 and found.labels == (("stable",) * 3,)
    expected = torch.tensor([3.0e-3, 1.8e-3, 0.6e-3], dtype=F64).view(1, 3, 1)
    torch.testing.assert_close(found.points, expected, rtol=0, atol=1e-15)
    assert bool((found.q.diff() > 0).all())

    still = SimpleNamespace(step=lambda h, x: h)  # every state is fixed
    start = torch.cat([torch.linspace(-1, 1, 20, dtype=F64), torch.tensor([50.0], dtype=F64)])
    start = start.view(1, 21, 1)  # spread 4.5 around 2.4: 50 is 10.5 spreads out
    assert find_fixed_points(still, start, outlier_distance=5).count.tolist() == [20]
    assert find_fixed_points(still, start, outlier_distance=None).count.tolist() == [21]


def test_initial_states_are_reproducible_trajectory_states_plus_noise():
    hidden = gaussian(2, 3, 5, 4, seed=10)
    exact = sample_initial_states(hidden, 50, seed=1)
    rows = hidden.reshape(2, 15, 1, 4)
    assert bool((exact[:, None] == rows).all(-1).any(1).all())  # every candidate is a state
    noisy = sample_initial_states(hidden, 50, noise_scale=0.3, seed=1)
    assert torch.equal(noisy, sample_initial_states(hidden, 50, noise_scale=0.3, seed=1))
    assert 0.2 < float((noisy - exact).std()) < 0.4
    assert not torch.equal(exact, sample_initial_states(hidden, 50, seed=2))


def test_nothing_found_gives_empty_padded_tensors():
    dynamics = SimpleNamespace(step=lambda h, x: h + 1)  # no fixed point
    found = find_fixed_points(dynamics, gaussian(2, 4, 3), max_iterations=5)
    assert found.points.shape == (2, 0, 3) and found.eigenvalues.shape == (2, 0, 3)
    assert found.count.tolist() == [0, 0] and found.labels == ((), ())
    assert found.candidate_q.shape == (2, 4) and found.iterations == 5


def test_bad_arguments_are_refused_with_clear_errors():
    network = LeakyRateNetwork(2, 4, 1, ensemble_size=2, dtype=F64)
    dynamics = StepDynamics.of_network(network, network.init(0))
    start = gaussian(2, 3, 4)
    bad_states = start.clone()
    bad_states[1, 2, 0] = float("nan")
    cases = [
        ({"initial_states": start[0]}, "initial_states must have shape"),
        ({"initial_states": start.float()}, "dtype"),
        ({"initial_states": bad_states}, "initial_states contains 1 NaN"),
        ({"initial_states": start[:, :0]}, "non-empty"),
        ({"initial_states": start.half()}, "float32 or float64"),
        ({"inputs": torch.zeros(3, 2, dtype=F64)}, r"inputs must be \(E, N_in\)"),
        ({"inputs": torch.zeros(3, dtype=F64)}, "inputs must have shape"),
        ({"inputs": None}, "inputs must have shape"),
        ({"q_tolerance": -1.0}, "q_tolerance"),
        ({"q_tolerance": 0.0}, "q_tolerance must be a finite number > 0"),
        ({"unique_tolerance": float("nan")}, "unique_tolerance"),
        ({"stop_q": "small"}, "stop_q"),
        ({"outlier_distance": 0}, "outlier_distance"),
        ({"max_iterations": 1.5}, "max_iterations"),
        ({"grow": 2.0, "shrink": 0.5}, r"grow \* shrink = 1 must be < 1"),
        ({"shrink": 0.0}, "shrink"),
        ({"time": "continuous"}, "needs the leak alpha"),
        ({"time": "continuous", "alpha": 1.0}, "needs the leak alpha"),
        ({"time": "weird"}, "time must be one of"),
        ({"marginal_tolerance": -1e-6}, "marginal_tolerance"),
    ]
    for change, message in cases:
        arguments = {"initial_states": start, "inputs": torch.zeros(2, dtype=F64)} | change
        initial = arguments.pop("initial_states")
        with pytest.raises(ValueError, match=message):
            find_fixed_points(dynamics, initial, **arguments)
    with pytest.raises(TypeError, match="dynamics must have a step"):
        find_fixed_points(object(), start)
    with pytest.raises(TypeError, match="speed_gradient must be None or a function"):
        find_fixed_points(StepDynamics(dynamics.step, speed_gradient=3), start, input_size=2)
    with pytest.raises(TypeError, match="initial_states must be a torch.Tensor"):
        find_fixed_points(dynamics, start.tolist())
    with pytest.raises(ValueError, match="hidden must have shape"):
        sample_initial_states(start, 4)
    with pytest.raises(ValueError, match="count"):
        sample_initial_states(start[None], 0)
    with pytest.raises(ValueError, match="noise_scale"):
        sample_initial_states(start[None], 2, noise_scale=-1.0)


def test_the_analytic_gradient_of_q_follows_the_autograd_one():
    """The rate network's speed_gradient against reverse-mode autograd of its step: the
    same descent, to rounding."""
    net = LeakyRateNetwork(2, 8, 1, ensemble_size=2, gain=1.5, alpha=0.2, dtype=F64)
    weights = net.init([3, 4])
    start = torch.randn(2, 16, 8, dtype=F64, generator=torch.Generator().manual_seed(0))
    runs = [
        find_fixed_points(
            StepDynamics.of_network(net, weights, jacobian=kind),
            start,
            input_size=2,
            max_iterations=100,
            stop_q=0.0,
        )
        for kind in ("analytic", "autograd")
    ]
    assert StepDynamics.of_network(net, weights).speed_gradient is not None
    torch.testing.assert_close(runs[0].candidate_q, runs[1].candidate_q, rtol=1e-6, atol=1e-14)
