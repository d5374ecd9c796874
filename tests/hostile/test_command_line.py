"""Hostile command lines (issue 17, class 5): bad flags, devices, config files, and run
folders whose result.json was tampered with, through ``neurodyn run / show / plot``.

Every case asserts its exact outcome: exit code 2 with one stderr line that names the
field or file (no traceback), or for the escaping cases exit code 0 with no raw control
character printed; and the whole tree under tmp_path (the working directory) is the same
before and after, so a refused command wrote nothing anywhere.
"""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from neurodyn import experiments
from neurodyn.config import to_dict
from tests.hostile.conftest import one_line_error, snapshot

RUN = ("run", "steering-emnist", "--config", "tiny.json", "--out", "run", "--no-progress")


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """tmp_path as the working directory, with the tiny config and a user's files."""
    monkeypatch.chdir(tmp_path)
    tiny = to_dict(experiments.get("steering-emnist").tiny())
    (tmp_path / "tiny.json").write_text(json.dumps(tiny))
    (tmp_path / "notes.txt").write_text("the user's own file\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "table.csv").write_text("a,b\n1,2\n")
    return tmp_path


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished tiny steering-emnist run folder (copied by the tests that tamper)."""
    from neurodyn import cli

    root = tmp_path_factory.mktemp("finished")
    tiny = root / "tiny.json"
    tiny.write_text(json.dumps(to_dict(experiments.get("steering-emnist").tiny())))
    args = ["run", "steering-emnist", "--config", str(tiny), "--out", str(root / "run")]
    assert cli.main([*args, "--no-progress"]) == 0
    return root / "run"


def refused(neurodyn, root, *args, names=()):
    """``neurodyn(*args)`` exits 2 with one line naming ``names`` and changes no file."""
    before = snapshot(root)
    outcome = neurodyn(*args)
    one_line_error(outcome, *names)
    assert snapshot(root) == before
    return outcome


# ---------------------------------------------------------------- flags and devices
FLAGS = {
    "unknown flag": (["--bogus", "3"], ["--bogus"]),
    "flag without value": (["--epochs"], ["--epochs"]),
    "int field given text": (["--hidden-size", "big"], ["hidden_size"]),
    "int field given a fraction": (["--epochs", "1.5"], ["epochs"]),
    "negative size": (["--hidden-size", "-3"], ["hidden_size"]),
    "zero epochs": (["--epochs", "0"], ["epochs"]),
    "not a number": (["--feedback-strength", "nan"], ["feedback_strength"]),
    "infinite": (["--readout-strength", "inf"], ["readout_strength"]),
    "bool field given text": (["--tied-feedback", "maybe"], ["tied_feedback"]),
    "repeated seeds": (["--seeds", "1,1"], ["seeds"]),
    "no seeds": (["--seeds", ""], ["seeds"]),
    "unknown model": (["--models", "full,magic"], ["models"]),
    "unknown dataset": (["--dataset", "cifar"], ["dataset"]),
    "unknown dynamics": (["--dynamics", "chaotic"], ["dynamics"]),
    "probability above one": (["--update-probability", "1.5"], ["update_probability"]),
    "unknown device": (["--device", "foo"], ["device"]),
    "device index out of range": (["--device", "cuda:99"], ["device"]),
    "empty device": (["--device", ""], ["device"]),
    "missing data folder": (["--dataset", "entangled-mnist", "--data-dir", "nodata"], ["nodata"]),
}


@pytest.mark.parametrize("case", FLAGS)
def test_bad_flags_are_one_line_and_write_nothing(case, workspace, neurodyn):
    extra, names = FLAGS[case]
    refused(neurodyn, workspace, *RUN, *extra, names=names)
    assert not (workspace / "run").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_on_a_machine_without_it(workspace, neurodyn):
    refused(neurodyn, workspace, *RUN, "--device", "cuda", names=["device", "cuda"])


COMMANDS = {
    "no command": ([], ["command"]),
    "unknown command": (["frobnicate"], ["frobnicate"]),
    "run without a name": (["run"], ["name"]),
    "unknown experiment": (["run", "steering-emnistt"], ["steering-emnistt"]),
    "show without a folder": (["show"], ["folder"]),
    "plot of a missing folder": (["plot", "nowhere"], ["nowhere"]),
    "show of a missing folder": (["show", "nowhere"], ["nowhere"]),
    "show of a file": (["show", "notes.txt"], ["notes.txt"]),
    "show of a folder that is no run": (["show", "."], ["config.json"]),
}


@pytest.mark.parametrize("case", COMMANDS)
def test_bad_commands_are_one_line(case, workspace, neurodyn):
    args, names = COMMANDS[case]
    refused(neurodyn, workspace, *args, names=names)


# ---------------------------------------------------------------- config files
CONFIG_FILES = {
    "a folder": (None, "settings.json", ["settings.json"]),
    "a missing file": ("", "absent.json", ["absent.json"]),
    "bad JSON": ('{"epochs": 2,', "bad.json", ["bad.json", "JSON"]),
    "bad TOML": ("epochs = = 2\n", "bad.toml", ["bad.toml", "TOML"]),
    "a JSON list": ("[1, 2]", "list.json", ["list.json", "list"]),
    "a JSON string": ('"epochs"', "text.json", ["text.json", "str"]),
    "a JSON number": ("3", "number.json", ["number.json", "int"]),
    "a JSON null": ("null", "null.json", ["null.json"]),
    "not UTF-8": (b"\xff\xfe\x00garbage", "binary.json", ["binary.json"]),
    "an unknown field": ('{"hiden_size": 3}', "typo.json", ["typo.json", "hiden_size"]),
    "a TOML section": ("[run]\nepochs = 2\n", "section.toml", ["section.toml", "run"]),
    "a table as a value": ("hidden_size = {a = 1}\n", "table.toml", ["table.toml", "hidden_size"]),
    "a string for a number": ('{"epochs": "two"}', "words.json", ["words.json", "epochs"]),
    "a negative size": ('{"hidden_size": -1}', "negative.json", ["negative.json", "hidden_size"]),
    "NaN in JSON": ('{"label_strength": NaN}', "nan.json", ["nan.json", "label_strength"]),
    "a list for a number": ('{"epochs": [2]}', "listed.json", ["listed.json", "epochs"]),
    "a number for a list": ('{"seeds": 5}', "seeds.json", ["seeds.json", "seeds"]),
}


@pytest.mark.parametrize("case", CONFIG_FILES)
def test_bad_config_files_are_one_line_naming_the_file(case, workspace, neurodyn):
    content, name, names = CONFIG_FILES[case]
    if content is None:
        (workspace / name).mkdir()
    elif isinstance(content, bytes):
        (workspace / name).write_bytes(content)
    elif content:
        (workspace / name).write_text(content)
    args = ("run", "steering-emnist", "--config", name, "--out", "run", "--no-progress")
    refused(neurodyn, workspace, *args, names=names)
    assert not (workspace / "run").exists()


def test_a_preset_keeps_its_defaults_under_a_config_file(workspace, neurodyn):
    """--config sets the fields it names; the preset's own defaults (models) stay."""
    tiny = json.loads((workspace / "tiny.json").read_text())
    del tiny["models"]
    (workspace / "preset.json").write_text(json.dumps(tiny))
    args = ("run", "reservoir-emnist", "--config", "preset.json", "--out", "run")
    assert neurodyn(*args, "--no-progress").code == 0
    assert json.loads((workspace / "run" / "config.json").read_text())["models"] == ["reservoir"]


# ---------------------------------------------------------------- tampered result files
RESULTS = {
    "not JSON": (b"{not json", ["result.json"]),
    "not UTF-8": (b"\xff\xfe\xfd", ["result.json"]),
    "a list": (b"[]", ["result.json", "list"]),
    "no experiment": (b'{"members": []}', ["result.json", "experiment"]),
    "experiment not a name": (b'{"experiment": 3}', ["result.json", "experiment"]),
    "unknown experiment": (b'{"experiment": "nope"}', ["result.json", "nope"]),
    "escape codes in the experiment": (b'{"experiment": "\\u001b[31mred"}', ["result.json"]),
    "missing keys": (b'{"experiment": "steering-emnist"}', ["result.json", "KeyError"]),
    "wrong types": (b'{"experiment": "steering-emnist", "members": 3}', ["result.json"]),
}


@pytest.mark.parametrize("command", ["show", "plot"])
@pytest.mark.parametrize("case", RESULTS)
def test_tampered_results_are_refused_in_one_line(case, command, workspace, neurodyn, finished):
    content, names = RESULTS[case]
    shutil.copytree(finished, workspace / "run")
    (workspace / "run" / "result.json").write_bytes(content)
    outcome = refused(neurodyn, workspace, command, "run", names=names)
    assert "\x1b" not in outcome.err


@pytest.mark.parametrize("name", ["config.json", "neurodyn-run.json"])
def test_show_refuses_a_corrupt_folder_file(name, workspace, neurodyn, finished):
    shutil.copytree(finished, workspace / "run")
    (workspace / "run" / name).write_text("[1, 2")
    refused(neurodyn, workspace, "show", "run", names=[name])


def test_show_escapes_control_characters_in_names(workspace, neurodyn, finished):
    shutil.copytree(finished, workspace / "run")
    result = json.loads((workspace / "run" / "result.json").read_text())
    result["members"][0]["name"] = "\x1b]0;pwned\x07\x1b[2J\nfull"
    (workspace / "run" / "result.json").write_text(json.dumps(result))
    before = snapshot(workspace)
    outcome = neurodyn("show", "run")
    assert outcome.code == 0 and snapshot(workspace) == before
    assert not any(c in outcome.out for c in "\x1b\x07") and "\\x1b]0;pwned" in outcome.out
    assert len(outcome.out.splitlines()) == 1 + len(result["members"])


def test_show_of_a_run_without_a_result_says_so(workspace, neurodyn, finished):
    shutil.copytree(finished, workspace / "run")
    (workspace / "run" / "result.json").unlink()
    refused(neurodyn, workspace, "show", "run", names=["no result"])
    refused(neurodyn, workspace, "plot", "run", names=["no result"])


def test_plot_refuses_corrupt_arrays(workspace, neurodyn):
    tiny = to_dict(experiments.get("free-energy-orthogonal").tiny())
    (workspace / "orthogonal.json").write_text(json.dumps(tiny))
    args = ("run", "free-energy-orthogonal", "--config", "orthogonal.json", "--out", "run")
    assert neurodyn(*args, "--no-progress").code == 0
    (workspace / "run" / "arrays.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{")
    refused(neurodyn, workspace, "plot", "run", names=["arrays.safetensors"])
    (workspace / "run" / "arrays.safetensors").unlink()
    refused(neurodyn, workspace, "plot", "run", names=["arrays.safetensors"])
