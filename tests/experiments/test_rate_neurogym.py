"""rate-neurogym: neurogym ids with loss weights, reproducible, members equal lone runs."""

import dataclasses

import pytest

pytest.importorskip("neurogym")
from neurodyn.config import to_dict  # noqa: E402
from neurodyn.experiments import get  # noqa: E402
from neurodyn.experiments.rate_gain import ensemble  # noqa: E402
from neurodyn.experiments.rate_neurogym import RateNeurogymConfig  # noqa: E402
from neurodyn.runs import RunFolder  # noqa: E402


def _run(config, path):
    return get("rate-neurogym").run(config, RunFolder(path, to_dict(config)), False)


def test_tiny_run_is_reproducible_and_members_equal_lone_runs(tmp_path):
    tiny = get("rate-neurogym").tiny()
    first, again = _run(tiny, tmp_path / "a"), _run(tiny, tmp_path / "b")
    assert first == again and first["experiment"] == "rate-neurogym"
    assert set(first["runs"]["GoNogo-v0 bptt"]) == {"0.5", "1"}
    alone = _run(dataclasses.replace(tiny, gains=(1.0,)), tmp_path / "c")
    assert alone["runs"]["GoNogo-v0 bptt"]["1"] == first["runs"]["GoNogo-v0 bptt"]["1"]


def test_weights_reach_the_task():
    config = RateNeurogymConfig(
        tasks=("PerceptualDecisionMaking-v0",), decision_weight=2.0, period_weights=("fixation=0",)
    )
    task = config.task("PerceptualDecisionMaking-v0")
    assert task.weights == {"decision": 2.0, "fixation": 0.0}


@pytest.mark.parametrize(
    ("name", "tau", "alpha"),
    [
        ("PerceptualDecisionMaking-v0", 0.0, 0.0),  # default: tau = dt, no leak
        ("PerceptualDecisionMaking-v0", 500.0, 0.8),  # dt = 100 ms
        ("PulseDecisionMaking-v0", 500.0, 0.98),  # dt = 10 ms
    ],
)
def test_tau_reaches_the_task_and_the_network(name, tau, alpha):
    """alpha = 1 - dt / tau per environment, and the trained ensemble steps with it."""
    config = RateNeurogymConfig(tasks=(name,), tau=tau)
    task = config.task(name)
    assert task.alpha == pytest.approx(alpha)
    network, _ = ensemble(config, task)
    assert network.alpha == pytest.approx(alpha)


def test_env_options_reach_the_environment():
    """dim_ring=4: DelayMatchCategory's stimulus on a ring of 4 units (fixation + 4 inputs),
    where its default of 2 shows cos(theta) only and so not the category."""
    config = RateNeurogymConfig(tasks=("DelayMatchCategory-v0",), env_options=("dim_ring=4",))
    task = config.task("DelayMatchCategory-v0")
    assert task.input_size == 5 and task.environment.theta.shape == (4,)
    assert (
        RateNeurogymConfig(tasks=("DelayMatchCategory-v0",))
        .task("DelayMatchCategory-v0")
        .input_size
        == 3
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tasks": ("Bandit-v0",)}, "reinforcement-learning"),
        ({"tasks": ("romo",)}, "takes neurogym ids"),
        ({"period_weights": ("fixation:0",)}, "config field 'period_weights'"),
        ({"period_weights": ("go=2",)}, "no period 'go'"),
        ({"tau": 50.0}, "PerceptualDecisionMaking-v0: need 0 < dt <= tau"),
        ({"tau": -1.0}, "tau"),
        ({"env_options": ("dim_ring",)}, "config field 'env_options'"),
        ({"env_options": ("dim_ring=four",)}, "config field 'env_options'"),
        ({"env_options": ("colour=1",)}, "does not take"),
    ],
)
def test_bad_configs_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        RateNeurogymConfig(**options)
