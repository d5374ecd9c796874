"""Sweeps on this machine: the joined table and result equal the one-ensemble run's, a
failed chunk costs only itself, and a rerun computes only what is missing."""

from __future__ import annotations

import dataclasses
import json

import pytest

from neurodyn import sweeps
from neurodyn.config import to_dict
from neurodyn.experiments import rate_gain
from neurodyn.runs import RunFolder
from neurodyn.sweeps import executors
from neurodyn.sweeps.gather import write_table
from neurodyn.threads import available_cpus

CONFIG = rate_gain.RateGainConfig(
    **rate_gain.TINY_GRID | {"gains": (0.5, 1.0, 1.5), "seeds": (0, 1)},
    tasks=("romo", "decision"),
    rules=("bptt", "eprop"),
)


@pytest.fixture(scope="module")
def one_ensemble(tmp_path_factory):
    """The whole config as one ensemble: its result and its table as CSV text."""
    path = tmp_path_factory.mktemp("one") / "run"
    result = rate_gain.run(CONFIG, RunFolder(path, to_dict(CONFIG)), False)
    write_table(path / "table.csv", sweeps.run_table("rate-gain", RunFolder.open(path)))
    return result, (path / "table.csv").read_text()


def sweep(chunk_size: int = 3) -> sweeps.Sweep:
    return sweeps.Sweep("rate-gain", to_dict(CONFIG), chunk_size)


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 48])
def test_the_sweep_equals_the_one_ensemble_run(tmp_path, one_ensemble, chunk_size):
    failures, result = sweeps.run_sweep(tmp_path, sweep(chunk_size), sweeps.Local(), False)
    assert failures == {}
    assert result == one_ensemble[0]
    assert (tmp_path / "table.csv").read_text() == one_ensemble[1]
    assert (tmp_path / "result" / "figures" / "loss_curves.png").is_file()


@pytest.mark.skipif(available_cpus() < 2, reason="2 workers need 2 CPUs")
def test_a_process_pool_gives_the_same_table(tmp_path, one_ensemble):
    failures, result = sweeps.run_sweep(tmp_path, sweep(12), sweeps.Local(workers=2), False)
    assert failures == {} and result == one_ensemble[0]
    assert (tmp_path / "table.csv").read_text() == one_ensemble[1]
    markers = list((tmp_path / "chunks").glob("*/neurodyn-run.json"))
    share = sweeps.Local(workers=2).threads()  # each worker ran on its share of the CPUs
    assert markers and all(json.loads(m.read_text())["threads"] == [share] for m in markers)


def test_a_failed_chunk_costs_only_itself_and_a_rerun_runs_only_it(
    tmp_path, one_ensemble, monkeypatch
):
    train = rate_gain.train_stage

    def fails_at_gain_one(stages, name, config, *args, **kwargs):
        if 1.0 in config.gains:
            raise RuntimeError("out of memory (injected)")
        return train(stages, name, config, *args, **kwargs)

    monkeypatch.setattr(rate_gain, "train_stage", fails_at_gain_one)
    failures, result = sweeps.run_sweep(tmp_path, sweep(2), sweeps.Local(), False)
    folder = sweeps.SweepFolder(tmp_path)
    status = folder.status(sweep(2))
    assert result is None and len(failures) == 4  # (task, rule) x gain 1.0
    assert set(failures.values()) == {"RuntimeError: out of memory (injected)"}
    assert [status[k] for k in failures] == ["failed"] * 4
    assert list(status.values()).count("done") == 8
    assert "out of memory (injected)" in folder.failure(next(iter(failures)))
    kept = {k: folder.done(k).stat().st_mtime_ns for k, s in status.items() if s == "done"}

    monkeypatch.setattr(rate_gain, "train_stage", train)
    ran = []
    run_chunk = executors.run_chunk
    monkeypatch.setattr(
        executors, "run_chunk", lambda *a, **k: ran.append(a[2]) or run_chunk(*a, **k)
    )
    failures, result = sweeps.run_sweep(tmp_path, sweep(2), sweeps.Local(), False)
    assert failures == {} and len(ran) == 4 and all(c["gains"] == [1.0] for c in ran)
    assert {k: folder.done(k).stat().st_mtime_ns for k in kept} == kept
    assert not (tmp_path / "failed").exists() or not any((tmp_path / "failed").iterdir())
    assert result == one_ensemble[0]
    assert (tmp_path / "table.csv").read_text() == one_ensemble[1]


def test_a_rerun_of_a_finished_sweep_runs_nothing(tmp_path, monkeypatch):
    sweeps.run_sweep(tmp_path, sweep(6), sweeps.Local(), False)
    table = (tmp_path / "table.csv").read_text()

    def refuse(*args, **kwargs):
        raise AssertionError("a finished chunk ran again")

    monkeypatch.setattr(executors, "run_chunk", refuse)
    failures, result = sweeps.run_sweep(tmp_path, sweep(6), sweeps.Local(), False)
    assert failures == {} and result is not None
    assert (tmp_path / "table.csv").read_text() == table


def test_another_sweep_in_the_same_folder_is_refused(tmp_path):
    sweeps.run_sweep(tmp_path, sweep(48), sweeps.Local(), False)
    other = dataclasses.replace(sweep(48), chunk_size=5)
    with pytest.raises(FileExistsError, match="holds another sweep"):
        sweeps.run_sweep(tmp_path, other, sweeps.Local(), False)


def test_more_workers_than_cpus_are_refused():
    with pytest.raises(ValueError, match="--workers must lie in"):
        sweeps.Local(workers=10_000)
