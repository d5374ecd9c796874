"""The member-axes contract, for every experiment that declares them: its tiny config run
as a sweep in several chunks joins to the one-ensemble run, table and result."""

from __future__ import annotations

import typing

import pytest

from neurodyn import experiments, sweeps
from neurodyn.config import field_types, to_dict
from neurodyn.runs import RunFolder
from neurodyn.sweeps.gather import write_table
from neurodyn.sweeps.grid import members

SPLITTABLE = [name for name, e in experiments.EXPERIMENTS.items() if e.members is not None]


def test_the_experiments_that_sweep_internally_can_be_split():
    assert {"rate-gain"} <= set(SPLITTABLE)


@pytest.mark.parametrize("name", SPLITTABLE)
def test_member_axes_name_tuple_fields(name):
    experiment = experiments.get(name)
    types = field_types(experiment.config)
    for axis, field in experiment.members.axes.items():
        assert typing.get_origin(types[field]) is tuple, (axis, field)


@pytest.mark.parametrize("name", SPLITTABLE)
def test_a_chunked_sweep_joins_to_the_one_ensemble_run(tmp_path, name):
    experiment = experiments.get(name)
    config = to_dict(experiment.tiny())
    whole = sweeps.Sweep(name, config, 1)
    assert members(whole.grid()) >= 2, "the tiny config needs two members to split"
    path = tmp_path / "one"
    result = experiment.run(experiment.tiny(), RunFolder(path, config), False)
    write_table(path / "table.csv", sweeps.run_table(name, RunFolder.open(path)))
    failures, joined = sweeps.run_sweep(tmp_path / "sweep", whole, sweeps.Local(), False)
    assert failures == {} and len(whole.chunks()) >= 2
    assert joined == result
    assert (tmp_path / "sweep" / "table.csv").read_text() == (path / "table.csv").read_text()
    assert any((tmp_path / "sweep" / "result" / "figures").iterdir())
