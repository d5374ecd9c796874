"""The contract every registered trial-based task meets (neurodyn.tasks.registry).

Parametrised over the registry when the tests are collected, so a newly registered task
is tested without any edit here; one neurogym environment goes through the adapter too.
"""

import importlib.util

import pytest
import torch

from neurodyn import rng, tasks

NEUROGYM = ["GoNogo-v0"] if importlib.util.find_spec("neurogym") else []


def _shapes_hold(task, batch, lead: tuple[int, ...]) -> None:
    B = batch.inputs.shape[len(lead)]
    T = batch.inputs.shape[len(lead) + 1]
    assert batch.inputs.shape == (*lead, B, T, task.input_size)
    assert batch.inputs.dtype.is_floating_point and bool(batch.inputs.isfinite().all())
    if task.loss == "mse":
        assert batch.targets.shape == (*lead, B, T, task.output_size)
        assert batch.mask.shape == batch.targets.shape
    else:
        assert task.loss == "cross_entropy"
        assert batch.targets.shape == (*lead, B, T) and batch.targets.dtype == torch.long
        assert bool(((batch.targets >= 0) & (batch.targets < task.output_size)).all())
        assert batch.mask.shape == batch.targets.shape
    assert bool(((batch.mask >= 0) & (batch.mask <= 1)).all())
    assert bool((batch.mask.flatten(len(lead) + 1).sum(-1) > 0).all()), "a trial counts no step"
    for name, value in batch.info.items():
        assert value.shape[: len(lead) + 1] == (*lead, B), name


def _equal(a, b) -> bool:
    return all(
        torch.equal(getattr(a, key), getattr(b, key)) for key in ("inputs", "targets", "mask")
    )


@pytest.mark.parametrize("name", tasks.names() + NEUROGYM)
def test_task_contract(name):
    task = tasks.get(name)
    assert task.loss in ("mse", "cross_entropy")
    assert 0 <= task.alpha < 1
    batch = task.sample(6, torch.Generator().manual_seed(0))
    _shapes_hold(task, batch, ())
    assert _equal(batch, task.sample(6, torch.Generator().manual_seed(0))), "not seeded"
    assert not _equal(batch, task.sample(6, torch.Generator().manual_seed(1)))
    # ensembles: member e's trials depend only on its own key
    keys = rng.member_keys([3, 4, 3], "task")
    members = task.sample_members(5, keys, counter=2)
    _shapes_hold(task, members, (3,))
    alone = task.sample_members(5, keys[1:2], counter=2)
    assert _equal(
        alone, type(members)(*(x[1:2] for x in (members.inputs, members.targets, members.mask)), {})
    )
    assert torch.equal(members.inputs[0], members.inputs[2])  # equal keys share trials
    # accuracy: one value in [0, 1] per member
    scores = task.accuracy(torch.zeros(*members.targets.shape[:3], task.output_size), members)
    assert scores["all"].shape == (3,) and bool(((scores["all"] >= 0) & (scores["all"] <= 1)).all())
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="batch"):
            task.sample(bad, torch.Generator())


def test_unknown_names_list_the_registered_tasks():
    with pytest.raises(KeyError, match="romo"):
        tasks.get("rommo")
    with pytest.raises(ValueError, match="registered tasks"):
        tasks.registry.require(["romo", "nope"])
    tasks.registry.require(["romo", "GoNogo-v0"])  # neurogym ids pass
    tasks.registry.require(["GoNogo-v0", "yang19.dms-v0"])  # alone too
    with pytest.raises(ValueError, match="must list"):
        tasks.registry.require([])
