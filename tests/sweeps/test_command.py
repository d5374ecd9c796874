"""``neurodyn sweep``, ``show`` and ``plot`` of a sweep folder, and their clear errors."""

from __future__ import annotations

import csv
import json

import pytest

from tests.hostile.conftest import neurodyn, one_line_error  # noqa: F401  (a fixture)

TINY = [
    "--tasks", "romo", "--rules", "bptt", "--learning-rates", "3e-3", "--hidden-size", "16",
    "--iterations", "20", "--log-every", "10", "--test-trials", "20", "--no-progress",
]  # fmt: skip


def test_a_sweep_from_the_command_line(neurodyn, tmp_path):  # noqa: F811
    out = tmp_path / "sweep"
    done = neurodyn("sweep", "rate-gain", "--grid", "gain=0.5,1", "--seeds", "0-2", *TINY,
                    "--chunk-size", "2", "--out", out)  # fmt: skip
    assert done.code == 0, done.err
    assert "4 chunks of up to 2 members" in done.out and "gain  0.5: lr 0.003" in done.out
    rows = list(csv.DictReader((out / "table.csv").read_text().splitlines()))
    assert len(rows) == 2 * 3 * 2  # gains x seeds x logged windows
    assert {(r["gain"], r["seed"]) for r in rows} == {(g, s) for g in ("0.5", "1.0") for s in "012"}
    shown = neurodyn("show", out)
    assert shown.code == 0 and "4 done, 0 failed, 0 missing" in shown.out
    assert "table: " in shown.out and "(12 rows)" in shown.out and "gain    1" in shown.out
    assert neurodyn("plot", out).code == 0
    assert json.loads((out / "executor.json").read_text()) == {"kind": "local", "workers": 1}
    again = neurodyn("sweep", "--resume", out, "--no-progress")  # on the stored executor
    assert again.code == 0 and "on Local(workers=1)" in again.out
    assert (out / "table.csv").read_text().count("\n") == 13


def test_a_sweep_file_sets_grid_config_and_executor(neurodyn, tmp_path):  # noqa: F811
    file = tmp_path / "sweep.toml"
    file.write_text(
        'chunks = 2\n[grid]\ngain = [0.5, 1.0]\nseed = "0-1"\n'
        '[config]\nhidden_size = 8\niterations = 40\n[executor]\nkind = "local"\nworkers = 1\n'
    )
    out = tmp_path / "sweep"
    done = neurodyn("sweep", "rate-gain", "--sweep", file, *TINY, "--out", out)
    assert done.code == 0, done.err
    assert "2 chunks of up to 2 members" in done.out
    row = next(csv.DictReader((out / "table.csv").read_text().splitlines()))
    assert row["hidden_size"] == "16" and row["iterations"] == "20"  # the flags win


@pytest.mark.parametrize(
    "args, names",
    [
        (["--grid", "temperature=1,2"], ["no member axis 'temperature'", "gain"]),
        (["--grid", "gain"], ["--grid takes NAME=VALUE"]),
        (["--grid", "gain=-1"], ["'gains'", ">= 0"]),
        (["--seeds", "3-1"], ["'seeds'", "range 3-1 is empty"]),
        (["--chunk-size", "2", "--chunks", "2"], ["--chunk-size or --chunks, not both"]),
        (["--chunk-size", "0"], ["chunk size must be an integer >= 1"]),
        (["--executor", "slurm"], ["--chunk-size or --chunks"]),
        (["--partition", "gpu"], ["['partition'] do not apply to the local executor"]),
        (["--workers", "100000"], ["--workers must lie in"]),
        (
            ["--executor", "slurm", "--chunks", "2", "--cpus-per-task", "0"],
            ["--cpus-per-task", ">= 1"],
        ),
        (["--executor", "slurm", "--chunks", "2", "--time", "-5"], ["--time must be", ">= 1"]),
        (["--executor", "slurm", "--chunks", "2", "--mem-gb", "0"], ["--mem-gb must be"]),
        (["--executor", "slurm", "--chunks", "2", "--workers", "2"], ["['workers'] do not apply"]),
    ],
)
def test_bad_sweeps_get_one_line(neurodyn, tmp_path, args, names):  # noqa: F811
    out = tmp_path / "sweep"
    one_line_error(neurodyn("sweep", "rate-gain", *TINY, *args, "--out", out), *names)
    assert not out.exists()


def test_sweep_errors_about_experiments_and_folders(neurodyn, tmp_path):  # noqa: F811
    one_line_error(neurodyn("sweep"), "needs an experiment name")
    one_line_error(neurodyn("sweep", "nonsense"), "nonsense")
    one_line_error(
        neurodyn("sweep", "free-energy-orthogonal"), "declares no member axes", "rate-gain"
    )
    one_line_error(neurodyn("sweep", "--resume", tmp_path), "holds no sweep")
    (tmp_path / "mine.txt").write_text("keep me")
    one_line_error(neurodyn("sweep", "rate-gain", *TINY, "--out", tmp_path), "not empty")
    out = tmp_path / "sweep"
    assert neurodyn("sweep", "rate-gain", *TINY, "--seeds", "0-1", "--out", out).code == 0
    one_line_error(
        neurodyn("sweep", "rate-gain", *TINY, "--seeds", "0-2", "--out", out), "another sweep"
    )
