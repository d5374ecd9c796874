"""rate-neurogym: neurogym ids with loss weights, reproducible, members equal lone runs."""

import dataclasses

import pytest

pytest.importorskip("neurogym")
from neurodyn.config import to_dict  # noqa: E402
from neurodyn.experiments import get  # noqa: E402
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
    ("options", "message"),
    [
        ({"tasks": ("Bandit-v0",)}, "reinforcement-learning"),
        ({"tasks": ("romo",)}, "takes neurogym ids"),
        ({"period_weights": ("fixation:0",)}, "config field 'period_weights'"),
        ({"period_weights": ("go=2",)}, "no period 'go'"),
    ],
)
def test_bad_configs_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        RateNeurogymConfig(**options)
