"""Experiments run end to end at a tiny size, write their figure and resume."""

import json

import pytest

from neurodyn import cli

# The rate-RNN experiments' common grid: two gains, one learning rate and seed, N = 16.
RATE_TINY = [
    "--gains",
    "0.5,1.0",
    "--learning-rates",
    "0.003",
    "--seeds",
    "0",
    "--iterations",
    "20",
    "--log-every",
    "10",
    "--test-trials",
    "20",
    "--hidden-size",
    "16",
]
TINY = {
    "rate-gain": [
        "--tasks",
        "romo,decision",
        "--rules",
        "bptt,eprop",
        *RATE_TINY,
    ],
    "steering-phase-transition": [
        "--sizes",
        "30,60",
        "--self-couplings",
        "0.2,0.6,1.0",
        "--networks",
        "3",
        "--max-sweeps",
        "30",
        "--bp-sizes",
        "30",
        "--bp-max-iterations",
        "50",
        "--enumeration-sizes",
        "6",
        "--enumeration-networks",
        "20",
    ],
    "steering-depth": [
        "--dataset",
        "prototypes",
        "--input-bits",
        "20",
        "--train-size",
        "100",
        "--test-size",
        "50",
        "--hidden-size",
        "20",
        "--epochs",
        "2",
        "--ferromagnetic-strengths",
        "0,3",
        "--phase-self-couplings",
        "0,0.5",
        "--phase-ferromagnetic-strengths",
        "3",
        "--input-strengths",
        "2",
        "--seeds",
        "0",
    ],
    "steering-capacity": [
        "--widths",
        "16,24",
        "--depths",
        "1,2",
        "--seeds",
        "0,1",
        "--epochs",
        "4",
        "--batch-size",
        "4",
        "--load-ceiling",
        "2",
        "--resolution",
        "0.2",
    ],
    "rate-lyapunov": [
        *RATE_TINY,
        "--lyapunov-trajectories",
        "2",
        "--lyapunov-trials",
        "2",
        "--flossing-iterations",
        "3",
        "--flossing-batch-size",
        "2",
    ],
    "free-energy-capacity": [
        "--pattern-counts",
        "5,20",
        "--repeats",
        "2",
        "--size",
        "30",
        "--epochs",
        "30",
        "--retention-steps",
        "20",
    ],
    "free-energy-orthogonal": ["--seeds", "0,1", "--epochs", "40"],
    "free-energy-sequence": ["--seeds", "0", "--iterations", "150", "--free-steps", "20"],
    "free-energy-replay": [
        "--seeds",
        "0",
        "--epochs",
        "40",
        "--replay-steps",
        "200",
        "--trials",
        "4",
    ],
    "free-energy-regimes": [
        "--case-seeds",
        "0",
        "--epochs",
        "40",
        "--trials",
        "4",
        "--eval-steps",
        "10",
        "--evidence-levels",
        "5,11",
        "--precisions",
        "0.05,0.2",
        "--baseline-norms",
        "5,20",
    ],
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_experiment_runs_and_resumes(name, tmp_path, capsys):
    out = tmp_path / name
    args = ["run", name, "--out", str(out), "--no-progress", *TINY[name]]
    assert cli.main(args) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["experiment"] == name
    assert any(path.suffix == ".png" for path in (out / "figures").iterdir())
    assert cli.main([*args, "--resume"]) == 0
    assert json.loads((out / "result.json").read_text()) == result
    capsys.readouterr()
