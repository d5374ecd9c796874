"""rate-fixed-points: x* is each task's memory-period input; a member with diverged weights
gets NaN measures while the others keep theirs."""

import math
from dataclasses import replace

import torch

from neurodyn import experiments, tasks
from neurodyn.config import to_dict
from neurodyn.experiments._stages import Stages
from neurodyn.experiments.rate_fixed_points import MEASURES, hold_input, search_stage
from neurodyn.runs import RunFolder


def test_the_hold_input_is_the_input_of_each_tasks_memory_period():
    decision = tasks.get("decision")
    trial = decision.trials(torch.tensor([1]), torch.tensor([0.0]))  # no evidence, no noise
    start, end = decision.periods()["stimulus"]
    assert bool((trial.inputs[0, start:end] == hold_input("decision", decision)).all())
    match = tasks.get("match-sample")
    trial = match.trials(torch.tensor([0]), torch.tensor([1]))
    start, end = match.periods()["delay"]
    assert end > start and bool(
        (trial.inputs[0, start:end] == hold_input("match-sample", match)).all()
    )
    romo = tasks.get("romo").sample(16, torch.Generator().manual_seed(0))
    between = romo.inputs[..., 0] == 0  # the fixation and the delay: no stimulus
    assert bool(between.any()) and hold_input("romo", tasks.get("romo")).tolist() == [0.0]
    flipflop = tasks.get("flip-flop")
    assert hold_input("flip-flop", flipflop).tolist() == [0.0] * 3  # no pulse
    assert hold_input("GoNogo-v0", tasks.get("GoNogo-v0")).abs().sum() == 0  # any other: zero


def test_a_member_with_diverged_weights_gets_nan_measures(tmp_path):
    experiment = experiments.get("rate-fixed-points")
    config = replace(experiment.tiny(), tasks=("romo",), rules=("bptt",), candidates=16)
    folder = RunFolder(tmp_path / "run", to_dict(config))
    experiment.run(config, folder, False)
    stages = Stages(folder)
    clean = stages.values("romo bptt fixed points")
    assert all(not math.isnan(value) for key in MEASURES for value in clean[key])
    broken = stages.tensor("romo bptt", "recurrent").clone()
    broken[1, 0, 0] = float("inf")
    stages.tensors["romo bptt.recurrent"] = broken
    del stages.state["stages"]["romo bptt fixed points"]
    values = search_stage(stages, "romo bptt", config, "romo", tasks.get("romo"))
    for key in MEASURES:
        assert math.isnan(values[key][1]) and values[key][0] == clean[key][0], key
    assert stages.tensor("romo bptt fixed points", "points").shape[1] == 16  # padded to K
