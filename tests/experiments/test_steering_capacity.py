"""The capacity experiment resumes a killed search at its last round with the same numbers."""

import pytest

from neurodyn.config import to_dict
from neurodyn.experiments import steering_capacity
from neurodyn.experiments._stages import Stages
from neurodyn.runs import RunFolder

CONFIG = steering_capacity.SteeringCapacityConfig(
    widths=(16, 24),
    depths=(2,),
    seeds=(0, 1),
    epochs=4,
    batch_size=4,
    load_ceiling=2.0,
    resolution=0.2,
)


def test_a_killed_search_resumes_at_its_last_round(tmp_path, monkeypatch):
    whole = steering_capacity.run(CONFIG, RunFolder(tmp_path / "whole", to_dict(CONFIG)), False)
    save, saves = Stages.save, []

    def save_then_die(self, name, **kwargs):
        save(self, name, **kwargs)
        saves.append(name)
        if len(saves) == 3:  # mid-way through the searches
            raise KeyboardInterrupt

    monkeypatch.setattr(Stages, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        steering_capacity.run(CONFIG, RunFolder(tmp_path / "killed", to_dict(CONFIG)), False)
    monkeypatch.setattr(Stages, "save", save)
    folder = RunFolder(tmp_path / "killed", to_dict(CONFIG), resume=True)
    resumed = steering_capacity.run(CONFIG, folder, False)
    assert resumed["searches"] == whole["searches"]
    assert resumed["slopes"] == whole["slopes"]
    assert len(whole["searches"][0]["rounds"]) >= 2
