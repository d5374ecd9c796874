"""Run folders: atomic files, checkpoints, and resume equivalence."""

import csv
import dataclasses
import json

import pytest
import torch
from safetensors.torch import save as save_safetensors

from neurodyn.config import to_dict
from neurodyn.experiments import steering_emnist
from neurodyn.runs import STATE_KEY, RunFolder, atomic_write

CONFIG = steering_emnist.SteeringEMNISTConfig(
    dataset="prototypes",
    input_bits=30,
    train_size=200,
    test_size=100,
    hidden_size=40,
    models=("full", "reservoir"),
    seeds=(1, 2),
    epochs=3,
)


def accuracies(folder):
    with (folder / "metrics.csv").open() as handle:
        return [
            (r["epoch"], r["member"], r["train_accuracy"], r["test_accuracy"])
            for r in csv.DictReader(handle)
        ]


def test_resume_after_a_kill_ends_with_the_uninterrupted_numbers(tmp_path, monkeypatch):
    whole = RunFolder(tmp_path / "whole", to_dict(CONFIG))
    steering_emnist.run(CONFIG, whole, progress=False)

    killed = RunFolder(tmp_path / "killed", to_dict(CONFIG))
    save = RunFolder.save_checkpoint

    def save_then_die(self, tensors, state):
        save(self, tensors, state)
        if state["epoch"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(RunFolder, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        steering_emnist.run(CONFIG, killed, progress=False)
    monkeypatch.setattr(RunFolder, "save_checkpoint", save)
    assert killed.load_checkpoint()[1]["epoch"] == 2  # killed before metrics.csv caught up

    resumed = RunFolder(tmp_path / "killed", to_dict(CONFIG), resume=True)
    result = steering_emnist.run(CONFIG, resumed, progress=False)
    assert accuracies(resumed.path) == accuracies(whole.path)
    assert result["members"] == whole.read_result()["members"]
    final, _ = resumed.load_checkpoint()
    reference, _ = whole.load_checkpoint()
    for name, tensor in reference.items():
        assert torch.equal(tensor, final[name]), name
    steering_emnist.plot(resumed)  # from the resumed folder's files alone
    assert (tmp_path / "killed" / "figures" / "accuracy.png").stat().st_size > 1000


def test_existing_folders_are_not_overwritten_silently(tmp_path):
    RunFolder(tmp_path / "run", to_dict(CONFIG)).write_result({"experiment": "steering-emnist"})
    with pytest.raises(FileExistsError, match="--resume"):
        RunFolder(tmp_path / "run", to_dict(CONFIG))
    other = to_dict(dataclasses.replace(CONFIG, hidden_size=41))
    with pytest.raises(ValueError, match="hidden_size"):
        RunFolder(tmp_path / "run", other, resume=True)
    RunFolder(tmp_path / "run", other, overwrite=True)


def test_checkpoints_are_safetensors_bound_to_their_config(tmp_path):
    folder = RunFolder(tmp_path / "run", {"a": 1})
    assert folder.load_checkpoint() is None
    folder.save_checkpoint({"w": torch.arange(3.0)}, {"epoch": 4})
    tensors, state = folder.load_checkpoint()
    assert state == {"epoch": 4} and torch.equal(tensors["w"], torch.arange(3.0))
    assert (tmp_path / "run" / "checkpoint.safetensors").read_bytes()[8:9] == b"{"
    # a checkpoint written under another config is refused
    RunFolder(tmp_path / "other", {"a": 2}).write_result({})
    (tmp_path / "other" / "checkpoint.safetensors").write_bytes(
        (tmp_path / "run" / "checkpoint.safetensors").read_bytes()
    )
    with pytest.raises(ValueError, match="another config"):
        RunFolder(tmp_path / "other", {"a": 2}, resume=True).load_checkpoint()
    (tmp_path / "run" / "checkpoint.safetensors").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        folder.load_checkpoint()


def test_checkpoint_state_larger_than_a_safetensors_header(tmp_path):
    # a sweep's joined state (thousands of members' loss curves) passes the 100 MB cap of
    # safetensors' header; the state lives in a tensor instead
    folder = RunFolder(tmp_path / "run", {"a": 1})
    state = {"losses": [0.5] * 1000, "log": "x" * 110_000_000}
    folder.save_checkpoint({"w": torch.ones(2)}, state)
    tensors, loaded = folder.load_checkpoint()
    assert set(tensors) == {"w"} and loaded == state
    with pytest.raises(ValueError, match="reserved"):
        folder.save_checkpoint({STATE_KEY: torch.ones(1)}, {})


def test_checkpoints_with_the_state_in_the_header_still_load(tmp_path):
    folder = RunFolder(tmp_path / "run", {"a": 1})
    folder.write_result({})
    metadata = {"config_hash": folder.hash, "state": json.dumps({"epoch": 3})}
    (tmp_path / "run" / "checkpoint.safetensors").write_bytes(
        save_safetensors({"w": torch.arange(2.0)}, metadata=metadata)
    )
    tensors, state = folder.load_checkpoint()
    assert state == {"epoch": 3} and torch.equal(tensors["w"], torch.arange(2.0))


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "file.txt"
    atomic_write(target, "old")

    def disk_full(fd):
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", disk_full)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_a_finished_run_can_be_extended_to_more_epochs(tmp_path):
    short = dataclasses.replace(CONFIG, epochs=2)
    steering_emnist.run(short, RunFolder(tmp_path / "run", to_dict(short)), progress=False)
    longer = RunFolder(tmp_path / "run", to_dict(CONFIG), resume=True)
    steering_emnist.run(CONFIG, longer, progress=False)
    whole = RunFolder(tmp_path / "whole", to_dict(CONFIG))
    steering_emnist.run(CONFIG, whole, progress=False)
    assert accuracies(longer.path) == accuracies(whole.path)


def test_a_folder_is_written_at_its_first_file_only(tmp_path):
    folder = RunFolder(tmp_path / "new" / "run", {"x": 1}, experiment="rate-gain")
    assert not (tmp_path / "new").exists() and folder.load_checkpoint() is None
    folder.write_result({"experiment": "rate-gain"})
    files = sorted(p.name for p in (tmp_path / "new" / "run").iterdir())
    assert files == ["config.json", "neurodyn-run.json", "result.json"]
    marker = json.loads((tmp_path / "new" / "run" / "neurodyn-run.json").read_text())
    assert marker["experiment"] == "rate-gain"
    assert RunFolder.open(tmp_path / "new" / "run").experiment == "rate-gain"


def test_overwrite_deletes_the_old_run_at_the_first_write_only(tmp_path):
    old = RunFolder(tmp_path / "run", {"x": 1})
    old.save_checkpoint({"w": torch.ones(2)}, {"epoch": 3})
    old.write_arrays({"a": torch.zeros(1)})
    new = RunFolder(tmp_path / "run", {"x": 2}, overwrite=True)
    assert new.load_checkpoint() is None  # the old run is invisible, not yet deleted
    with pytest.raises(FileNotFoundError):
        new.read_arrays()
    assert (tmp_path / "run" / "arrays.safetensors").exists()
    new.write_metrics([{"step": 1}])
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert files == ["config.json", "metrics.csv", "neurodyn-run.json"]
    assert json.loads((tmp_path / "run" / "config.json").read_text()) == {"x": 2}


def test_resume_extends_but_never_shrinks(tmp_path):
    RunFolder(tmp_path / "run", {"epochs": 4, "x": 1}).write_result({})
    with pytest.raises(ValueError, match="epochs"):
        RunFolder(tmp_path / "run", {"epochs": 3, "x": 1}, resume=True)
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        RunFolder(tmp_path / "elsewhere", {"epochs": 4, "x": 1}, resume=True)
    longer = RunFolder(tmp_path / "run", {"epochs": 6, "x": 1}, resume=True)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["epochs"] == 4
    longer.write_result({})  # config.json follows at the first write
    assert json.loads((tmp_path / "run" / "config.json").read_text())["epochs"] == 6


def test_a_run_resumes_across_a_field_added_after_it_started(tmp_path):
    """A field the stored config lacks is ignored at its default (comparison, checkpoint
    hash, config.json), and refused at any other value."""
    old = RunFolder(tmp_path / "run", {"epochs": 4, "x": 1})
    old.save_checkpoint({"w": torch.ones(2)}, {"step": 3})
    defaults = {"epochs": 10, "x": 0, "added": 0.5}
    new = {"epochs": 4, "x": 1, "added": 0.5}
    resumed = RunFolder(tmp_path / "run", new, resume=True, defaults=defaults)
    tensors, state = resumed.load_checkpoint()
    assert state == {"step": 3} and torch.equal(tensors["w"], torch.ones(2))
    resumed.write_result({})
    assert json.loads((tmp_path / "run" / "config.json").read_text()) == {"epochs": 4, "x": 1}
    with pytest.raises(ValueError, match=r"config differs in \['added'\]"):
        RunFolder(tmp_path / "run", new | {"added": 0.7}, resume=True, defaults=defaults)
    with pytest.raises(ValueError, match=r"config differs in \['added'\]"):
        RunFolder(tmp_path / "run", new, resume=True)  # no defaults: a change like any other
