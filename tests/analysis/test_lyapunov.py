"""Lyapunov spectra: linear maps give log|eigenvalues|, sums give log|det J|, the three
Jacobian paths agree, ensembles equal single runs, and bad input is refused."""

import math

import pytest
import torch

from neurodyn.analysis.lyapunov import StepDynamics, cholesky_qr2, lyapunov_spectrum
from neurodyn.networks.rate import LeakyRateNetwork

F64 = torch.float64


def linear_dynamics(matrix: torch.Tensor) -> StepDynamics:
    """h_t = A h_{t-1} + x_t (row vectors: h @ A^T), whose Jacobian is A everywhere."""
    return StepDynamics(lambda h, x: h @ matrix.T + x, jacobian=lambda h, x: matrix)


def rotation(radius: float, angle: float) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    return radius * torch.tensor([[c, -s], [s, c]], dtype=F64)


def random_inputs(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def test_normal_linear_map_gives_sorted_log_moduli_of_its_eigenvalues():
    blocks = torch.block_diag(
        rotation(1.2, 0.7), torch.tensor([[-0.95]], dtype=F64), rotation(0.7, 2.0)
    )
    blocks = torch.block_diag(blocks, torch.tensor([[0.4]], dtype=F64))
    orthogonal = torch.linalg.qr(random_inputs(6, 6, seed=1))[0]
    matrix = orthogonal @ blocks @ orthogonal.T  # normal, complex eigenvalues included
    expected = torch.linalg.eigvals(matrix).abs().log().sort(descending=True).values
    spectrum = lyapunov_spectrum(
        linear_dynamics(matrix),
        random_inputs(3, 6),
        random_inputs(3, 400, 6),
        exponents=6,
        warmup=200,
    )
    torch.testing.assert_close(spectrum.exponents, expected.expand(3, 6), rtol=0, atol=1e-6)


def test_non_normal_linear_map_converges_to_log_moduli_as_the_trajectory_grows():
    matrix = random_inputs(5, 5, seed=2) / math.sqrt(5)
    expected = torch.linalg.eigvals(matrix).abs().log().sort(descending=True).values
    errors = []
    for steps in (100, 400, 1600):
        spectrum = lyapunov_spectrum(
            linear_dynamics(matrix),
            torch.zeros(1, 5, dtype=F64),
            torch.zeros(1, steps, 5, dtype=F64),
            exponents=5,
        )
        errors.append(float((spectrum.exponents[0] - expected).abs().max()))
    assert errors[2] < 0.01
    assert errors[2] < errors[1] / 2 < errors[0] / 4  # the O(1/T) transient shrinks


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("every", [1, 3])
def test_full_spectrum_sums_to_the_mean_log_determinant(activation, every):
    net = LeakyRateNetwork(
        2, 8, 1, ensemble_size=2, gain=[0.8, 1.5], alpha=0.5, activation=activation, dtype=F64
    )
    weights = net.init([0, 1])
    x = random_inputs(2, 3, 120, 2)
    spectrum = lyapunov_spectrum(
        StepDynamics.of_network(net, weights),
        torch.zeros(2, 3, 8, dtype=F64),
        x,
        exponents=8,
        warmup=20,
        reorthonormalise_every=every,
    )
    _, hidden = net.run(weights, x)
    previous = torch.cat([torch.zeros(2, 3, 1, 8, dtype=F64), hidden[:, :, :-1]], dim=2)
    log_det = torch.linalg.slogdet(net.jacobian(weights, previous.flatten(1, 2))).logabsdet
    expected = log_det.view(2, 3, 120)[:, :, 20:].mean(-1)
    torch.testing.assert_close(spectrum.exponents.sum(-1), expected, rtol=0, atol=1e-8)
    assert spectrum.steps == 100


def test_exponents_come_out_ordered_and_their_spread_shrinks_with_time():
    net = LeakyRateNetwork(1, 10, 1, gain=1.5, alpha=0.5, activation="tanh", dtype=F64)
    weights = net.init(4)
    dynamics = StepDynamics.of_network(net, weights)
    spreads = []
    for steps in (100, 1600):
        spectrum = lyapunov_spectrum(
            dynamics,
            torch.zeros(1, 8, 10, dtype=F64),
            random_inputs(1, 8, steps, 1),
            exponents=4,
            warmup=50,
        )
        spreads.append(float(spectrum.maximum.std()))
    assert spreads[1] < spreads[0] / 2  # ~ 1/sqrt(T) across trajectories
    assert bool((spectrum.exponents.diff(dim=-1) < 0).all())  # every long trajectory


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_analytic_product_matrix_and_autograd_jacobians_agree(activation):
    net = LeakyRateNetwork(
        2, 8, 1, ensemble_size=2, gain=[1.0, 1.8], alpha=0.3, activation=activation, dtype=F64
    )
    weights = net.init([0, 1])
    state, x = torch.zeros(2, 2, 8, dtype=F64), random_inputs(2, 2, 60, 2)

    def step(h, x_t):
        return net.step(weights, h, x_t)

    paths = [
        StepDynamics.of_network(net, weights),  # jacobian_product
        StepDynamics(step, jacobian=lambda h, _: net.jacobian(weights, h)),
        StepDynamics.of_network(net, weights, jacobian="autograd"),
    ]
    spectra = [lyapunov_spectrum(p, state, x, exponents=3, warmup=10).exponents for p in paths]
    for other in spectra[1:]:
        torch.testing.assert_close(other, spectra[0], rtol=0, atol=1e-12)


def test_ensemble_members_equal_their_single_runs_and_runs_repeat():
    gains, seeds = [0.3, 1.0, 1.7], [5, 6, 7]
    net = LeakyRateNetwork(1, 12, 1, ensemble_size=3, gain=gains, alpha=0.5)
    x = torch.rand(3, 4, 80, 1, generator=torch.Generator().manual_seed(0))
    options = {"exponents": 4, "warmup": 20, "seed": 3}
    ensemble = lyapunov_spectrum(
        StepDynamics.of_network(net, net.init(seeds)), torch.zeros(3, 4, 12), x, **options
    )
    again = lyapunov_spectrum(
        StepDynamics.of_network(net, net.init(seeds)), torch.zeros(3, 4, 12), x, **options
    )
    assert torch.equal(ensemble.exponents, again.exponents)
    for e in range(3):
        alone = LeakyRateNetwork(1, 12, 1, gain=gains[e], alpha=0.5)
        single = lyapunov_spectrum(
            StepDynamics.of_network(alone, alone.init(seeds[e])),
            torch.zeros(1, 4, 12),
            x[e : e + 1],
            **options,
        )
        assert torch.equal(single.exponents[0], ensemble.exponents[e])


def test_random_basis_agrees_with_identity_columns_and_bits_divide_by_ln2():
    net = LeakyRateNetwork(1, 10, 1, gain=1.2, alpha=0.5, activation="tanh", dtype=F64)
    dynamics = StepDynamics.of_network(net, net.init(0))
    state, x = torch.zeros(1, 2, 10, dtype=F64), random_inputs(1, 2, 400, 1)
    identity = lyapunov_spectrum(dynamics, state, x, exponents=3, warmup=100, seed=None)
    random = lyapunov_spectrum(dynamics, state, x, exponents=3, warmup=100, seed=11)
    torch.testing.assert_close(random.maximum, identity.maximum, rtol=0, atol=1e-8)
    torch.testing.assert_close(random.exponents, identity.exponents, rtol=0, atol=1e-2)
    torch.testing.assert_close(identity.bits() * math.log(2), identity.exponents)
    assert torch.equal(identity.maximum, identity.exponents[..., 0])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"exponents": 5}, "exceeds the state size"),
        ({"exponents": 0}, "exponents"),
        ({"reorthonormalise_every": 0}, "reorthonormalise_every"),
        ({"warmup": -1}, "warmup"),
        ({"warmup": 10}, "leaves none"),
        ({"inputs": torch.full((2, 10, 4), float("nan"), dtype=F64)}, "NaN"),
        ({"state": torch.full((2, 4), float("inf"), dtype=F64)}, "state"),
        ({"inputs": torch.zeros(3, 10, 4, dtype=F64)}, "batch axes"),
        ({"inputs": torch.zeros(10, 4, dtype=F64)}, "state must be"),
        ({"qr": "givens"}, "qr must be one of"),
    ],
)
def test_bad_arguments_are_refused_with_clear_errors(change, message):
    arguments = {"state": torch.zeros(2, 4, dtype=F64), "inputs": torch.zeros(2, 10, 4, dtype=F64)}
    arguments.update(change)
    state, inputs = arguments.pop("state"), arguments.pop("inputs")
    with pytest.raises(ValueError, match=message):
        lyapunov_spectrum(linear_dynamics(torch.eye(4, dtype=F64)), state, inputs, **arguments)


def test_diverging_trajectories_are_reported_not_averaged():
    exploding = linear_dynamics(1e30 * torch.eye(3))
    with pytest.raises(ValueError, match="diverged"):
        lyapunov_spectrum(exploding, torch.ones(2, 3), torch.zeros(2, 5, 3), exponents=1)
    state = torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])  # the second stays at 0
    found = lyapunov_spectrum(
        exploding, state, torch.zeros(2, 5, 3), exponents=1, seed=None, diverged="nan"
    )
    assert math.isnan(float(found.maximum[0])) and math.isclose(
        float(found.maximum[1]), math.log(1e30), rel_tol=1e-6
    )
    with pytest.raises(ValueError, match="diverged must be one of"):
        lyapunov_spectrum(exploding, state, torch.zeros(2, 5, 3), diverged="ignore")
    with pytest.raises(ValueError, match="jacobian"):
        StepDynamics.of_network(LeakyRateNetwork(1, 4, 1), None, jacobian="numeric")


class LinearNetwork:
    """A network with a step and, optionally, an analytic ``jacobian(weights, h)``."""

    def step(self, weights, h, x_t):
        return h @ weights.T + x_t


class LinearNetworkWithJacobian(LinearNetwork):
    def jacobian(self, weights, h):
        return weights.expand(*h.shape[:-1], *weights.shape)


def test_networks_give_their_analytic_jacobian_else_autograd_is_used():
    matrix = random_inputs(4, 4, seed=5) / 2
    state, x = torch.zeros(2, 4, dtype=F64), random_inputs(2, 50, 4)
    analytic = StepDynamics.of_network(LinearNetworkWithJacobian(), matrix)
    automatic = StepDynamics.of_network(LinearNetwork(), matrix)
    assert analytic.jacobian is not None and automatic.jacobian is None
    first = lyapunov_spectrum(analytic, state, x, exponents=4)
    second = lyapunov_spectrum(automatic, state, x, exponents=4)
    torch.testing.assert_close(first.exponents, second.exponents, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_cholesky_qr2_equals_householder_up_to_signs_and_falls_back_where_it_cannot(dtype):
    vectors, noise = random_inputs(4, 40, 12).to(dtype), random_inputs(40, seed=9).to(dtype)
    vectors[1, :, 5] = vectors[1, :, 4] + 1e-3 * noise  # Q not orthonormal (float32)
    vectors[2, :, 5] = vectors[2, :, 4] + 1e-4 * noise  # Cholesky fails (float32)
    q, triangle = cholesky_qr2(vectors)
    reference_q, reference = torch.linalg.qr(vectors)
    signs = torch.sign(reference.diagonal(dim1=-2, dim2=-1))
    fell_back = (1, 2) if dtype == torch.float32 else ()  # float64: all within its reach
    for row in range(4):
        if row in fell_back:
            assert torch.equal(q[row], reference_q[row])
            assert torch.equal(triangle[row], reference[row])
            continue
        assert bool((triangle[row].diagonal() > 0).all())  # CholeskyQR2's own factors
        torch.testing.assert_close(q[row], reference_q[row] * signs[row], rtol=0, atol=1e-4)
        torch.testing.assert_close(
            triangle[row], reference[row] * signs[row, :, None], rtol=1e-4, atol=1e-4
        )


def test_spectrum_by_cholesky_qr2_equals_the_householder_one():
    net = LeakyRateNetwork(2, 16, 1, ensemble_size=3, gain=[0.5, 1.0, 1.5], alpha=0.5)
    weights = net.init([0, 1, 2])
    dynamics = StepDynamics.of_network(net, weights)
    state, x = torch.zeros(3, 2, 16), random_inputs(3, 2, 200, 2).float()
    options = {"exponents": 8, "warmup": 20, "reorthonormalise_every": 2}
    householder = lyapunov_spectrum(dynamics, state, x, **options).exponents
    cholesky = lyapunov_spectrum(dynamics, state, x, qr="cholesky", **options).exponents
    torch.testing.assert_close(cholesky, householder, rtol=0, atol=1e-5)
