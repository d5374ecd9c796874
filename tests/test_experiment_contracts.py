"""The contract every registered experiment meets (neurodyn.experiments).

Parametrised over the registry when the tests are collected, so a newly registered
experiment is tested without any edit here: it declares a tiny config, its config
round-trips through JSON and flags with a description for every field, validates on
construction and declares what every field allows, and on the tiny config `neurodyn run`
computes a complete run folder whose figures `neurodyn plot` redraws from the folder
alone, and `--resume` of the finished run changes nothing.
"""

import argparse
import json

import pytest

from neurodyn import cli, config, experiments


@pytest.mark.parametrize("name", experiments.names())
def test_config_round_trips_and_every_field_is_described(name):
    experiment = experiments.get(name)
    assert experiment.tiny is not None, f"register {name} with tiny=... (a seconds-long config)"
    candidates = [experiment.make_config(), experiment.tiny()]
    if experiment.quick is not None:
        candidates.append(experiment.quick())
    for candidate in candidates:
        as_json = json.loads(json.dumps(config.to_dict(candidate)))
        assert config.from_dict(experiment.config, as_json) == candidate
    undescribed = [k for k, text in config.field_help(experiment.config).items() if not text]
    assert not undescribed, f"declare these fields with option(default, help): {undescribed}"
    parser = argparse.ArgumentParser()
    config.add_arguments(parser, candidates[0])
    flags = []
    for field, value in config.to_dict(candidates[1]).items():
        shown = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        flags += [f"--{field.replace('_', '-')}", shown]
    assert config.apply_arguments(candidates[0], parser.parse_args(flags)) == candidates[1]
    assert experiment.description and callable(experiment.plot)


@pytest.mark.parametrize("name", experiments.names())
def test_every_config_field_declares_what_it_allows(name):
    """A config class validates on construction (it derives from config.Config) and each
    field declares its values with option(...): a number a range (minimum / maximum /
    above / below) or unbounded=True, a string its choices, device=True or unbounded=True."""
    experiment = experiments.get(name)
    assert issubclass(experiment.config, config.Config), f"derive {experiment.config} from Config"
    types = config.field_types(experiment.config)
    undeclared = [
        field
        for field, allowed in config.constraints(experiment.config).items()
        if not allowed.declared(types[field])
    ]
    assert not undeclared, f"declare what these fields allow with option(...): {undeclared}"


@pytest.mark.parametrize("name", experiments.names())
def test_tiny_run_plots_from_its_folder_and_resumes(name, tmp_path, capsys):
    experiment = experiments.get(name)
    settings = tmp_path / "tiny.json"
    settings.write_text(json.dumps(config.to_dict(experiment.tiny())))
    out = tmp_path / "run"
    args = ["run", name, "--out", str(out), "--config", str(settings), "--no-progress"]
    assert cli.main(args) == 0, capsys.readouterr().err
    result = json.loads((out / "result.json").read_text())
    assert result["experiment"] == name
    drawn = sorted(path.name for path in (out / "figures").iterdir())
    assert drawn and all(name.endswith(".png") for name in drawn)
    for path in (out / "figures").iterdir():
        path.unlink()
    assert cli.main(["plot", str(out)]) == 0  # from the run folder alone
    assert sorted(path.name for path in (out / "figures").iterdir()) == drawn
    assert cli.main([*args, "--resume"]) == 0
    assert json.loads((out / "result.json").read_text()) == result
    capsys.readouterr()
