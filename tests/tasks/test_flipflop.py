"""3-bit flip-flop (Sussillo & Barak 2013): pulse statistics, held targets, seeding,
accuracy, and a BPTT-trained leaky rate network that solves it."""

import time

import pytest
import torch

from neurodyn import rng, tasks
from neurodyn.networks.rate import LeakyRateNetwork
from neurodyn.rules import BPTT
from neurodyn.tasks.flipflop import FlipFlop
from neurodyn.training.rate import train_rate

# The settings of the module docstring: N = 64 tanh units, gain 1, Adam, batch 32.
TRAINING = {"iterations": 200, "learning_rate": 0.02, "clip_norm": 0.5, "batch_size": 32}


def trained_ensemble(seeds, rule=None):
    """FlipFlop() and one LeakyRateNetwork member per seed trained with ``TRAINING`` (BPTT
    unless ``rule``): (task, network, weights)."""
    task = FlipFlop()
    network = LeakyRateNetwork(
        3, 64, 3, ensemble_size=len(seeds), gain=1.0, alpha=task.alpha, activation="tanh"
    )
    weights, _ = train_rate(
        network, network.init(seeds), task, rule=rule or BPTT(), seeds=seeds, **TRAINING
    )
    return task, network, weights


def held_by_loop(inputs: torch.Tensor) -> torch.Tensor:
    """The targets step by step: each channel keeps the last pulse it saw."""
    targets = torch.zeros_like(inputs)
    for b in range(inputs.shape[0]):
        for c in range(inputs.shape[2]):
            state = 0.0
            for t in range(inputs.shape[1]):
                state = float(inputs[b, t, c]) or state
                targets[b, t, c] = state
    return targets


def test_registered_with_its_defaults():
    task = tasks.get("flip-flop")
    assert task == FlipFlop() and (task.steps, task.pulse_probability) == (60, 0.04)
    assert (task.input_size, task.output_size, task.loss, task.alpha) == (3, 3, "mse", 0.5)
    assert tasks.get("flip-flop", dt=1.0, tau=4.0).alpha == 0.75


@pytest.mark.parametrize("probability", [0.04, 0.2])
def test_pulses_are_sparse_independent_and_of_random_sign(probability):
    task = FlipFlop(steps=60, pulse_probability=probability)
    batch = task.sample(2000, torch.Generator().manual_seed(0))
    x = batch.inputs
    assert set(x.unique().tolist()) <= {-1.0, 0.0, 1.0}
    assert bool((x[:, 0] != 0).all()), "every channel starts with a pulse"
    pulses = x[:, 1:] != 0
    assert abs(float(pulses.float().mean()) - probability) < 0.002
    both = (pulses[..., 0] & pulses[..., 1]).float().mean()
    assert abs(float(both) - probability**2) < 0.001
    assert abs(float((x[x != 0] > 0).float().mean()) - 0.5) < 0.03
    members = task.sample_members(1000, rng.member_keys([0, 1], "task"), counter=3)
    member_rates = (members.inputs[:, :, 1:] != 0).float().mean((1, 2, 3))
    assert torch.allclose(member_rates, torch.full((2,), probability), atol=0.003)


def test_targets_hold_the_last_pulse_on_every_step():
    batch = FlipFlop(steps=80).sample(40, torch.Generator().manual_seed(1))
    assert torch.equal(batch.targets, held_by_loop(batch.inputs))
    assert torch.equal(batch.mask, torch.ones(40, 80, 3))
    keys = rng.member_keys([2, 5], "task")
    members = FlipFlop().sample_members(10, keys, counter=0)
    for e in range(2):
        assert torch.equal(members.targets[e], held_by_loop(members.inputs[e]))


def test_trials_are_determined_by_the_seed():
    task = FlipFlop()
    first = task.sample(16, rng.generator(7, "task"))
    assert torch.equal(first.inputs, task.sample(16, rng.generator(7, "task")).inputs)
    assert not torch.equal(first.inputs, task.sample(16, rng.generator(8, "task")).inputs)
    keys = rng.member_keys([7, 8], "task")
    streams = task.sample_member_streams(2, 3, keys, counter=4)
    assert torch.equal(streams, task.sample_member_streams(2, 3, keys, counter=4))
    assert streams.shape == (2, 2, 180, 3) and bool((streams[:, :, 60] != 0).all())


def test_accuracy_counts_signs_per_entry_and_per_trial():
    task = FlipFlop()
    batch = task.sample(50, torch.Generator().manual_seed(2))
    outputs = torch.stack([0.3 * batch.targets, -batch.targets, batch.targets.clone()])
    outputs[2, 0, 10, 1] *= -1  # one wrong entry in trial 0
    scores = task.accuracy(outputs, batch)
    entries = 50 * 60 * 3
    assert scores["all"].tolist() == pytest.approx([1.0, 0.0, 1 - 1 / entries])
    assert scores["trials"].tolist() == pytest.approx([1.0, 0.0, 49 / 50])
    assert task.accuracy(torch.zeros(1, 50, 60, 3), batch)["all"].tolist() == [0.0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 1}, "steps must be an integer >= 2"),
        ({"steps": 60.0}, "steps must be an integer"),
        ({"pulse_probability": 0.0}, r"pulse_probability must lie in \(0, 1\]"),
        ({"pulse_probability": 1.5}, r"pulse_probability must lie in \(0, 1\]"),
        ({"pulse_probability": "0.1"}, "pulse_probability must be a finite number"),
        ({"pulse_probability": True}, "pulse_probability must be a finite number"),
        ({"dt": 0.0}, "0 < dt <= tau"),
        ({"dt": 2.0}, "0 < dt <= tau"),
        ({"tau": float("nan")}, "tau must be a finite number"),
    ],
)
def test_bad_options_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FlipFlop(**kwargs)


def test_bptt_solves_the_task_for_most_seeds(record_property):
    """>= 99% of the entries right on 1000 fresh trials for at least 4 of 5 seeds."""
    start = time.perf_counter()
    task, network, weights = trained_ensemble([0, 1, 2, 3, 4])
    seconds = time.perf_counter() - start
    record_property("training_seconds", seconds)
    test = task.sample(1000, rng.generator(10_000, "evaluation"))
    with torch.no_grad():
        outputs, _ = network.run(weights, test.inputs)
    accuracy = task.accuracy(outputs, test)["all"]
    assert int((accuracy >= 0.99).sum()) >= 4, f"{accuracy.tolist()} after {seconds:.1f} s"
