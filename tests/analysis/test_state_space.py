"""State planes: trial conditions from targets, PCA planes that keep in-plane geometry,
slow-manifold dimensions of known manifolds of fixed points, and the drawing."""

import torch

from neurodyn import tasks
from neurodyn.analysis.lyapunov import StepDynamics
from neurodyn.analysis.slow_points import find_fixed_points
from neurodyn.analysis.state_space import (
    draw_state_plane,
    slow_dimension,
    state_planes,
    trial_conditions,
)
from neurodyn.plotting import figure

F64 = torch.float64


def test_conditions_are_the_decision_or_the_held_pattern():
    generator = torch.Generator().manual_seed(0)
    romo = tasks.get("romo").sample(64, generator)
    assert torch.equal(trial_conditions(romo), romo.info["larger"] + 1)  # channel 0: code 1
    decision = tasks.get("decision").sample(64, generator)
    assert torch.equal(trial_conditions(decision), decision.info["choice"] + 1)
    flipflop = tasks.get("flip-flop").sample(64, generator)
    bits = (flipflop.targets[:, -1] > 0).long()
    assert torch.equal(trial_conditions(flipflop), bits[:, 0] + 2 * bits[:, 1] + 4 * bits[:, 2])
    assert set(trial_conditions(flipflop).tolist()) == set(range(8))


def linear_fixed_points(diagonal: list[float], count: int = 64, seed: int = 0):
    """F(h) = A h with A = R diag(diagonal) R^T: its fixed points fill span of the columns
    of R with eigenvalue 1. Returns (R, the points found from random candidates)."""
    generator = torch.Generator().manual_seed(seed)
    size = len(diagonal)
    rotation, _ = torch.linalg.qr(torch.randn(size, size, generator=generator, dtype=F64))
    matrix = rotation @ torch.diag(torch.tensor(diagonal, dtype=F64)) @ rotation.T
    dynamics = StepDynamics(
        lambda h, x: h @ matrix.T, jacobian=lambda h, x: matrix.expand(*h.shape, size)
    )
    start = torch.randn(1, count, size, generator=generator, dtype=F64)
    found = find_fixed_points(dynamics, start, stop_q=1e-24, unique_tolerance=1e-6)
    return rotation, found


def test_the_slow_dimension_of_a_point_a_line_and_a_plane_of_fixed_points():
    for diagonal, expected in (
        ([0.5, 0.3, 0.2, 0.1], 0),  # the origin alone
        ([1.0, 0.5, 0.3, 0.2], 1),
        ([1.0, 1.0, 0.3, 0.2], 2),
    ):
        rotation, found = linear_fixed_points(diagonal)
        assert slow_dimension(found).tolist() == [expected], diagonal
        if expected:
            assert int(found.count[0]) > 10 and found.labels[0][0] == "stable"
            kernel = found.points[0, : int(found.count[0])] @ rotation[:, expected:]
            assert float(kernel.abs().max()) < 1e-6  # in the span of the marginal modes
    _, plane = linear_fixed_points([1.0, 1.0, 0.3, 0.2])
    assert slow_dimension(plane, variance=1.0).tolist() == [2]


def test_planes_keep_the_geometry_of_states_that_lie_in_a_plane():
    """Hidden states a @ B + c with B (2, N) orthonormal: the PCA plane is B's, so the
    projections keep all distances, in-plane points keep theirs, an in-plane direction
    projects to length 1 and an orthogonal one to 0."""
    generator = torch.Generator().manual_seed(1)
    size = 6
    basis = torch.linalg.qr(torch.randn(size, 3, generator=generator, dtype=F64))[0].T
    coordinates = torch.randn(2, 5, 7, 2, generator=generator, dtype=F64)  # (E, B, T, 2)
    hidden = coordinates @ basis[:2] + 3.0
    _, found = linear_fixed_points([1.0, 1.0, 0.3, 0.2, 0.1, 0.1], count=8)
    points = torch.cat([hidden[:, 0, :3], torch.full((2, 1, size), float("nan"))], 1)
    directions = torch.stack([basis[0], basis[2], basis[1], torch.full((size,), float("nan"))])
    found = type(found)(
        points=points,
        q=torch.zeros(2, 4, dtype=F64),
        mask=~points.isnan().any(-1),
        eigenvalues=torch.zeros(2, 4, size, dtype=torch.complex128),
        unstable_modes=torch.zeros(2, 4, dtype=torch.long),
        unstable_directions=directions.expand(2, -1, -1),
        candidate_q=torch.zeros(2, 4, dtype=F64),
        iterations=0,
        time="discrete",
    )
    planes = state_planes(hidden, found)
    for e in range(2):
        flat = planes.trajectories[e].reshape(-1, 2).double()
        expected = torch.cdist(*[coordinates[e].reshape(-1, 2)] * 2)  # float32 planes
        torch.testing.assert_close(torch.cdist(flat, flat), expected, atol=1e-5, rtol=0)
        torch.testing.assert_close(planes.points[e, :3].double(), flat[[0, 1, 2]])
        assert bool(planes.points[e, 3].isnan().all())
        lengths = planes.directions[e].norm(dim=-1)
        torch.testing.assert_close(lengths[:3], torch.tensor([1.0, 0.0, 1.0]), atol=1e-6, rtol=0)
    torch.testing.assert_close(planes.explained.sum(-1), torch.ones(2))


def test_a_plane_is_drawn_with_its_points_by_stability():
    fig, axes = figure(1, 1, size=(3, 3), squeeze=False)
    ax = axes[0][0]
    trajectories = torch.randn(4, 10, 2, generator=torch.Generator().manual_seed(2))
    points = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [3.0, 3.0], [float("nan")] * 2])
    draw_state_plane(
        ax,
        trajectories,
        torch.tensor([0, 1, 0, 1]),
        points,
        torch.tensor([0, 1, 5, 0, 0]),  # stable, saddle, unstable (N = 5), then a slow point
        torch.tensor([True, True, True, False, False]),
        torch.tensor([[float("nan")] * 2, [1.0, 0.0], *[[float("nan")] * 2] * 3]),
        size=5,
    )
    labelled = {line.get_label(): line.get_xydata().tolist() for line in ax.lines}
    assert labelled["stable"] == [[0.0, 0.0]] and labelled["saddle"] == [[1.0, 1.0]]
    assert labelled["unstable"] == [[2.0, 0.0]] and labelled["slow point"] == [[3.0, 3.0]]
    assert len(ax.lines) == 4 * 2 + 1 + 4  # trials and their ends, the saddle's line, points
