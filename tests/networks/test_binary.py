"""Binary steering network: fields, dynamics, initialisation and input checks."""

import math

import pytest
import torch

from neurodyn import rng
from neurodyn.networks import binary, synchronous
from neurodyn.networks.binary import BinarySteeringNetwork, SteeringState
from neurodyn.networks.spin_sweeps import acceptance_draws, sweep_order
from neurodyn.networks.synchronous import sign_keep_ties


def small_network(**overrides):
    options = dict(
        num_layers=3,
        ensemble_size=2,
        self_coupling=[0.5, 0.2],
        ferromagnetic_strength=[1.5, 0.7],
        feedback_skip_strength=0.4,
        readout_skip_strength=0.6,
    )
    options.update(overrides)
    return BinarySteeringNetwork(7, 9, 4, **options)


def random_state(network, batch, seed=0):
    gen = torch.Generator().manual_seed(seed)
    E, L, H, C = network.ensemble_size, network.num_layers, network.hidden_size, network.num_classes
    hidden = torch.randint(0, 2, (E, L, batch, H), generator=gen).float() * 2 - 1
    readout = torch.randint(0, 2, (E, batch, C), generator=gen).float() * 2 - 1
    return SteeringState(hidden, readout)


def loop_fields(network, weights, state, x, feedback, label):
    """The fields of the module docstring, one unit at a time."""
    E, L, B, H = state.hidden.shape
    C, N = network.num_classes, network.input_size
    hidden = torch.zeros(E, L, B, H, dtype=torch.float64)
    readout = torch.zeros(E, B, C, dtype=torch.float64)
    J = weights.couplings.double()
    for e in range(E):
        lam = float(network.ferromagnetic_strength[e])
        for b in range(B):
            s = state.hidden[e, :, b].double()
            code = [
                math.sqrt(C) / 2 if v > 0 else (-0.5 if v < 0 else 0.0)
                for v in state.readout[e, b].tolist()
            ]
            for layer in range(L):
                for i in range(H):
                    h = sum(J[e, layer, j, i] * s[layer, j] for j in range(H))
                    h += sum(weights.input_weights[e, layer, n, i] * x[b, n] for n in range(N))
                    if layer > 0:
                        h += lam * s[layer - 1, i]
                    if layer < L - 1:
                        h += lam * s[layer + 1, i]
                    h += feedback * sum(
                        weights.feedback_weights[e, layer, c, i] * code[c] for c in range(C)
                    )
                    hidden[e, layer, b, i] = h
            for c in range(C):
                f = sum(
                    weights.readout_weights[e, layer, j, c] * s[layer, j]
                    for layer in range(L)
                    for j in range(H)
                )
                readout[e, b, c] = f + network.label_strength * float(label[e, b, c])
    return hidden, readout


def test_fields_match_a_direct_loop():
    network = small_network()
    weights = network.init([3, 4])
    state = random_state(network, batch=3)
    x = torch.randint(0, 2, (3, 7)).float() * 2 - 1
    label = network.one_hot(torch.tensor([[0, 1, 3], [2, 2, 0]]))
    drive = network.input_drive(weights, network.prepare_inputs(x))
    hidden = network.hidden_fields(weights, state, drive, feedback=0.8)
    readout = network.readout_fields(weights, state.hidden, label)
    expected_hidden, expected_readout = loop_fields(network, weights, state, x, 0.8, label)
    torch.testing.assert_close(hidden.double(), expected_hidden, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(readout.double(), expected_readout, atol=1e-3, rtol=1e-6)


def test_initialisation_statistics_and_tied_feedback():
    network = BinarySteeringNetwork(50, 400, 10, self_coupling=0.5, feedback_strength=0.9)
    weights = network.init(1)
    J = weights.couplings[0, 0]
    assert torch.all(J.diagonal() == 0.5)
    off = J[~torch.eye(400, dtype=torch.bool)]
    assert abs(off.var().item() * 400 - 1.0) < 0.02
    assert abs(weights.input_weights.var().item() * 50 / 25 - 1.0) < 0.05
    # W_back = 0.9 W0 / sqrt(C) and W_out = W0^T / sqrt(H), stored transposed: one draw W0.
    ratio = weights.feedback_weights[0, 0].T / weights.readout_weights[0, 0]
    torch.testing.assert_close(ratio, torch.full_like(ratio, 0.9 * math.sqrt(400 / 10)))


def test_members_draw_from_their_own_seed():
    single = BinarySteeringNetwork(5, 6, 3).init(11)
    pair = BinarySteeringNetwork(5, 6, 3, ensemble_size=2).init([7, 11])
    for name, tensor in single.tensors().items():
        assert torch.equal(tensor[0], getattr(pair, name)[1]), name


def test_ties_keep_the_current_value_and_the_first_readout_stays_zero():
    network = BinarySteeringNetwork(4, 5, 3)
    weights = network.init(0)
    relaxed = network.relax(weights, torch.ones(2, 4), sweeps=1)
    assert torch.all(relaxed.state.readout == 0)  # field W_out 0 is exactly 0
    assert torch.all(relaxed.state.hidden.abs() == 1)
    zero_inputs = network.relax(
        weights.replace(input_weights=weights.input_weights * 0), torch.ones(2, 4), sweeps=1
    )
    assert torch.all(zero_inputs.state.hidden == 0)


def test_label_code_of_the_authors():
    network = BinarySteeringNetwork(4, 5, 10)
    code = network.label_code(torch.tensor([1.0, -1.0, 0.0]))
    torch.testing.assert_close(code, torch.tensor([math.sqrt(10) / 2, -0.5, 0.0]))


@pytest.mark.parametrize("batch", [8, synchronous.INCREMENTAL_MAX_BATCH + 16])
def test_incremental_relaxation_equals_dense(monkeypatch, batch):
    """Training batches add the union of flipped rows; larger ones each sample's own rows."""
    dense_net = BinarySteeringNetwork(20, 64, 5, ensemble_size=2, self_coupling=[0.3, 0.6])
    weights = dense_net.init([1, 2])
    x = torch.randint(0, 2, (batch, 20)).float() * 2 - 1
    label = dense_net.one_hot(torch.randint(0, 5, (2, batch)))
    dense = dense_net.relax(weights, x, sweeps=6, feedback=1.0, label=label)
    monkeypatch.setattr(binary, "INCREMENTAL_MIN_HIDDEN", 1)
    routes = []
    for name in ("advance_recurrent", "advance_recurrent_sparse"):
        route = getattr(synchronous, name)
        spy = lambda *args, route=route, name=name: routes.append(name) or route(*args)  # noqa: E731
        monkeypatch.setattr(synchronous, name, spy)
    fast_net = BinarySteeringNetwork(20, 64, 5, ensemble_size=2, self_coupling=[0.3, 0.6])
    fast = fast_net.relax(weights, x, sweeps=6, feedback=1.0, label=label)
    sparse = batch > synchronous.INCREMENTAL_MAX_BATCH
    assert set(routes) == {"advance_recurrent_sparse" if sparse else "advance_recurrent"}
    assert fast.recurrent is not None
    assert torch.equal(fast.state.hidden, dense.state.hidden)
    assert torch.equal(fast.sweeps, dense.sweeps)
    exact = fast_net.recurrent_input(weights, fast.state.hidden)
    torch.testing.assert_close(fast.recurrent, exact, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("update_probability", [1.0, 0.6])
def test_asynchronous_sweep_matches_a_sequential_loop(update_probability):
    network = BinarySteeringNetwork(
        6,
        8,
        3,
        num_layers=2,
        ferromagnetic_strength=0.8,
        update_probability=update_probability,
        dynamics="asynchronous",
    )
    weights = network.init(5)
    x = torch.randint(0, 2, (3, 6), generator=torch.Generator().manual_seed(1)).float() * 2 - 1
    start = random_state(network, batch=3, seed=2)
    start = SteeringState(start.hidden * (torch.arange(8) % 3 != 0), start.readout)  # some 0s
    result = network.relax(
        weights, x, sweeps=1, state=start, feedback=0.7, generators=rng.generators([9], "dynamics")
    )
    # Replay each sample's order and acceptance draws, one unit at a time, with dense fields.
    seeds = torch.randint(0, 2**62, (3,), generator=rng.generator(9, "dynamics")).tolist()
    hidden = start.hidden.clone()
    drive = network.input_drive(weights, network.prepare_inputs(x))
    for b, seed in enumerate(seeds):
        draws = acceptance_draws(seed, 0, 16)
        for k, unit in enumerate(sweep_order(seed, 0, 16).tolist()):
            layer, i = divmod(unit, 8)
            state = SteeringState(hidden, start.readout)
            h = float(network.hidden_fields(weights, state, drive, 0.7)[0, layer, b, i])
            if h != 0 and draws[k] < update_probability:
                hidden[0, layer, b, i] = math.copysign(1.0, h)
    assert torch.equal(result.state.hidden, hidden)
    readout = sign_keep_ties(network.readout_fields(weights, hidden), start.readout)
    assert torch.equal(result.state.readout, readout)


def test_asynchronous_member_in_an_ensemble_equals_its_lone_run():
    options = dict(
        num_layers=2, ferromagnetic_strength=0.5, update_probability=0.8, dynamics="asynchronous"
    )
    ensemble = BinarySteeringNetwork(
        6, 10, 3, ensemble_size=3, self_coupling=[0.3, 0.6, 0.9], **options
    )
    lone = BinarySteeringNetwork(6, 10, 3, self_coupling=0.6, **options)
    x = torch.randint(0, 2, (4, 6), generator=torch.Generator().manual_seed(3)).float() * 2 - 1
    label = torch.tensor([0, 2, 1, 1])
    runs = []
    for network, seeds in ((ensemble, [4, 5, 6]), (lone, [5])):
        weights = network.init(seeds)
        target = network.one_hot(network.prepare_labels(label, 4))
        runs.append(
            network.relax(
                weights,
                x,
                sweeps=4,
                feedback=[0.0, 1.0, 1.0, 0.5],
                label=target,
                generators=rng.generators(seeds, "dynamics"),
            )
        )
    together, alone = runs
    assert torch.equal(together.state.hidden[1], alone.state.hidden[0])
    assert torch.equal(together.state.readout[1], alone.state.readout[0])
    assert torch.equal(together.sweeps[1], alone.sweeps[0])


def test_asynchronous_dynamics_reach_fixed_points_with_strong_self_coupling():
    network = BinarySteeringNetwork(10, 50, 3, self_coupling=1.5, dynamics="asynchronous")
    weights = network.init(0)
    x = torch.randint(0, 2, (4, 10)).float() * 2 - 1
    result = network.relax(
        weights, x, sweeps=50, stop_when_stable=True, generators=rng.generators([0], "dynamics")
    )
    assert bool(result.converged.all())
    assert float(network.unstable_fraction(weights, result.state, x).max()) == 0.0


def test_update_probability_updates_about_that_fraction():
    network = BinarySteeringNetwork(10, 200, 3, update_probability=0.3)
    weights = network.init(0)
    x = torch.randint(0, 2, (64, 10)).float() * 2 - 1
    with pytest.raises(ValueError, match="generators"):
        network.relax(weights, x, sweeps=1)
    first = network.relax(weights, x, sweeps=1, generators=rng.generators([0], "dynamics"))
    assert abs(float((first.state.hidden != 0).float().mean()) - 0.3) < 0.02


def test_fixed_budget_reports_sweeps_until_stable():
    network = BinarySteeringNetwork(10, 30, 3, self_coupling=3.0)
    weights = network.init(0)
    x = torch.randint(0, 2, (5, 10)).float() * 2 - 1
    result = network.relax(weights, x, sweeps=10)
    assert bool(result.converged.all())
    assert int(result.sweeps.max()) < 10
    assert int(network.relax(weights, x, sweeps=1).sweeps.max()) == 1


@pytest.mark.parametrize(
    "inputs, message",
    [
        (torch.full((3, 7), float("nan")), "NaN"),
        (torch.ones(3, 8), "shape"),
        (torch.ones(3, 7, 2), "shape"),
        (torch.ones(0, 7), "empty"),
    ],
)
def test_bad_inputs_are_rejected(inputs, message):
    network = BinarySteeringNetwork(7, 9, 4)
    with pytest.raises(ValueError, match=message):
        network.relax(network.init(0), inputs, sweeps=1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"hidden_size": 0}, "hidden_size"),
        ({"input_size": -3}, "input_size"),
        ({"num_classes": 1}, "num_classes"),
        ({"self_coupling": [0.1, 0.2, 0.3]}, "3 values"),
        ({"input_strength": -1.0}, ">= 0"),
        ({"update_probability": 0.0}, "update_probability"),
        ({"dynamics": "chaotic"}, "dynamics"),
    ],
)
def test_impossible_configurations_are_rejected(kwargs, message):
    options = {"input_size": 7, "hidden_size": 9, "num_classes": 4, "ensemble_size": 2}
    options.update(kwargs)
    with pytest.raises(ValueError, match=message):
        BinarySteeringNetwork(**options)


def test_bad_labels_and_weights_are_rejected():
    network = BinarySteeringNetwork(7, 9, 4)
    with pytest.raises(ValueError, match=r"\[0, 3\]"):
        network.prepare_labels(torch.tensor([0, 4]), 2)
    with pytest.raises(ValueError, match="integer"):
        network.prepare_labels(torch.tensor([0.0, 1.0]), 2)
    other = BinarySteeringNetwork(7, 10, 4).init(0)
    with pytest.raises(ValueError, match="couplings"):
        network.check_weights(other)
