"""rate-multitask: reproducible, members equal lone runs, per-task table and clustering."""

import dataclasses

import pytest

pytest.importorskip("neurogym")
from neurodyn.config import to_dict  # noqa: E402
from neurodyn.experiments import get  # noqa: E402
from neurodyn.experiments.rate_multitask import RateMultitaskConfig  # noqa: E402
from neurodyn.runs import RunFolder  # noqa: E402


def _run(config, path):
    return get("rate-multitask").run(config, RunFolder(path, to_dict(config)), False)


def test_tiny_run_is_reproducible_and_members_equal_lone_runs(tmp_path):
    experiment = get("rate-multitask")
    tiny = experiment.tiny()
    first, again = _run(tiny, tmp_path / "a"), _run(tiny, tmp_path / "b")
    assert first == again and first["experiment"] == "rate-multitask"
    assert first["tasks"] == ["go", "dm1", "dms"]
    row = first["runs"]["multitask bptt"]["1"]
    assert set(row["accuracy"]) == {"all", "go", "dm1", "dms"} and 0 <= row["task_mean"] <= 1
    assert set(first["clusters"]["multitask bptt"]["1"]) == {"active", "clusters"}
    alone = _run(dataclasses.replace(tiny, gains=(1.0,)), tmp_path / "c")
    assert alone["runs"]["multitask bptt"]["1"] == row
    assert alone["clusters"]["multitask bptt"]["1"] == first["clusters"]["multitask bptt"]["1"]
    assert "dms" in experiment.summary(first)
    experiment.plot(RunFolder.open(tmp_path / "a"))
    assert (tmp_path / "a" / "figures" / "task_variance.png").exists()


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="registered tasks"):
        RateMultitaskConfig(tasks=("go",))
