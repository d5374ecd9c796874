"""The neurodyn command and typed configs."""

import dataclasses
import json

import pytest

from neurodyn import cli, config, experiments
from neurodyn.experiments import Experiment, register
from neurodyn.experiments.steering_emnist import SteeringEMNISTConfig

TINY = [
    "--dataset",
    "prototypes",
    "--input-bits",
    "20",
    "--train-size",
    "100",
    "--test-size",
    "50",
    "--hidden-size",
    "30",
    "--epochs",
    "2",
    "--no-progress",
]


def test_list_names_every_experiment(capsys):
    assert cli.main(["list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in experiments.names())


def test_run_help_lists_every_field_with_type_default_and_description(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "rate-gain", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "--hidden-size INT N, hidden units (default: 64)" in shown
    assert "--gains FLOAT,..." in shown and "(default: 0.2,0.5,1.0,1.5,2.0)" in shown
    for field, text in config.field_help(experiments.get("rate-gain").config).items():
        assert f"--{field.replace('_', '-')}" in shown and " ".join(text.split()) in shown


def test_plot_and_show_need_a_run_folder(tmp_path, capsys):
    assert cli.main(["plot", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_run_writes_a_complete_folder_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["run", "steering-emnist", "--out", str(out), *TINY, "--models", "full,random-features"]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "random-features" in printed and "thesis" in printed
    saved = json.loads((out / "config.json").read_text())
    assert saved["hidden_size"] == 30 and saved["models"] == ["full", "random-features"]
    for name in ("metrics.csv", "result.json", "checkpoint.safetensors", "figures/accuracy.png"):
        assert (out / name).exists(), name
    assert cli.main(args) == 2  # exists: refuses to overwrite
    assert "--resume" in capsys.readouterr().err
    assert cli.main([*args, "--resume"]) == 0  # already complete: reports the same result
    assert cli.main(["show", str(out)]) == 0


def test_baseline_presets_and_config_files(tmp_path):
    (tmp_path / "cfg.toml").write_text('hidden_size = 25\nmodels = ["reservoir"]\n')
    args = [
        "run",
        "reservoir-emnist",
        "--out",
        str(tmp_path / "r"),
        "--config",
        str(tmp_path / "cfg.toml"),
        *TINY,
    ]
    args.remove("30")
    args.remove("--hidden-size")
    assert cli.main(args) == 0
    saved = json.loads((tmp_path / "r" / "config.json").read_text())
    assert saved["hidden_size"] == 25 and saved["models"] == ["reservoir"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--hidden-size", "big"], "hidden_size"),
        (["--models", "full,magic"], "models"),
        (["--dataset", "cifar"], "dataset"),
        (["--epochs", "-1"], "epochs"),
    ],
)
def test_bad_settings_are_reported_clearly(tmp_path, capsys, extra, message):
    args = ["run", "steering-emnist", "--out", str(tmp_path / "bad"), *TINY, *extra]
    assert cli.main(args) == 2
    assert message in capsys.readouterr().err


def test_unknown_experiment_and_fields(capsys):
    assert cli.main(["run", "nope"]) == 2
    assert "steering-emnist" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown config field"):
        config.from_dict(SteeringEMNISTConfig, {"hiden_size": 3})


def test_config_round_trip_and_duplicate_registration():
    original = SteeringEMNISTConfig(models=("reservoir",), seeds=(1, 2), hidden_size=7)
    assert config.from_dict(SteeringEMNISTConfig, config.to_dict(original)) == original
    with pytest.raises(ValueError, match="already registered"):
        register(Experiment("steering-emnist", "", SteeringEMNISTConfig, None, None, None))


def test_reproduce_resumes_reruns_and_refuses_foreign_folders(tmp_path, capsys, monkeypatch):
    from neurodyn.registry import Registry

    one = Registry("experiment")
    tiny = experiments.get("steering-emnist")
    one.register("steering-emnist", dataclasses.replace(tiny, quick=tiny.tiny))
    monkeypatch.setattr(experiments, "EXPERIMENTS", one)
    root = tmp_path / "reproduce"
    args = ["reproduce", "--quick", "--out", str(root), "--no-progress"]
    assert cli.main([*args, "--resume"]) == 0  # nothing to resume yet: starts
    result = (root / "steering-emnist" / "result.json").read_text()
    assert cli.main([*args, "--resume"]) == 0  # finished: the same result
    assert cli.main(args) == 0  # again from the start, over its own run folder
    assert (root / "steering-emnist" / "result.json").read_text() == result
    (root / "steering-emnist" / "thesis.tex").write_text("mine")
    capsys.readouterr()
    assert cli.main(args) == 2
    assert "thesis.tex" in capsys.readouterr().err
    assert (root / "steering-emnist" / "thesis.tex").read_text() == "mine"
