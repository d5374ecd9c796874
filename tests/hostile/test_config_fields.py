"""Hostile config values (issue 17, class 4): every field of every experiment is checked.

The generated cases run over the experiment registry, so a new experiment gets them
without an edit here: for every field, a value of the wrong type is a TypeError and a
value outside what the field declares (NaN or infinity in a float, a number out of its
range, an empty or repeating tuple, an unknown choice or device) a ValueError, each
naming the field, when the config is built in Python. The hand-picked cases of the issue
go through the command line: exit code 2, one stderr line naming the field, and no run
folder (nothing at all) created.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re

import pytest
import torch

from neurodyn import config, experiments
from neurodyn.experiments.rate_gain import RateGainConfig
from neurodyn.experiments.steering_emnist import SteeringEMNISTConfig
from tests.hostile.conftest import one_line_error, snapshot

WRONG_TYPES = {int: (1.5, "x", True), float: ("x", True, None), str: (3, None), bool: (1, "yes")}
NOT_FINITE = (math.nan, math.inf, -math.inf)


def _outside(allowed: config.Constraints, kind: type) -> list:
    """Numbers just outside the declared range of a field of type ``kind``."""
    step = 1 if kind is int else 0.5
    values = [
        allowed.minimum - step if allowed.minimum is not None else None,
        allowed.above if allowed.above is not None else None,
        allowed.maximum + step if allowed.maximum is not None else None,
        allowed.below if allowed.below is not None else None,
    ]
    return [kind(v) for v in values if v is not None]


def _field_cases(field: str, kind, allowed: config.Constraints, default) -> list[tuple]:
    """(value, expected outcome) pairs for one field; the outcome is an exception type,
    or None where the value is allowed."""
    tuple_field = getattr(kind, "__origin__", None) is tuple
    inner = kind.__args__[0] if tuple_field else kind
    wrap = (lambda v: (v,)) if tuple_field else (lambda v: v)
    cases = [(wrap(value), TypeError) for value in WRONG_TYPES[inner]]
    if inner is float:
        cases += [(wrap(value), ValueError) for value in NOT_FINITE]
    if inner in (int, float):
        cases += [(wrap(value), ValueError) for value in _outside(allowed, inner)]
    if inner is str and allowed.choices is not None:
        cases.append((wrap("no-such-choice"), ValueError))
    if allowed.device:
        cases.append(("no-such-device", ValueError))
    if tuple_field:
        cases.append(([*default], TypeError))  # a list, not a tuple
        cases.append(((), None if allowed.allow_empty else ValueError))
        if allowed.unique:
            cases.append(((default[0], default[0]), ValueError))
    return cases


def _registry_cases() -> list:
    cases, seen = [], set()
    for name in experiments.names():
        experiment = experiments.get(name)
        if experiment.config in seen:  # the baselines of steering-emnist share its class
            continue
        seen.add(experiment.config)
        defaults = experiment.make_config()
        types = config.field_types(experiment.config)
        for field, allowed in config.constraints(experiment.config).items():
            for value, expected in _field_cases(
                field, types[field], allowed, getattr(defaults, field)
            ):
                shown = "empty" if value == () else repr(value)
                cases.append(
                    pytest.param(name, field, value, expected, id=f"{name}-{field}-{shown}")
                )
    return cases


@pytest.mark.parametrize("name, field, value, expected", _registry_cases())
def test_every_field_refuses_what_it_does_not_allow(name, field, value, expected):
    defaults = experiments.get(name).make_config()
    if expected is None:
        assert getattr(dataclasses.replace(defaults, **{field: value}), field) == value
        return
    with pytest.raises(expected, match=re.escape(f"config field '{field}'")) as caught:
        dataclasses.replace(defaults, **{field: value})
    assert type(caught.value) is expected and "\n" not in str(caught.value)


def test_the_issue_cases_in_python():
    with pytest.raises(ValueError, match="'seeds' must not repeat a value, got 17"):
        RateGainConfig(seeds=(17, 17))
    with pytest.raises(ValueError, match="'label_strength' must be a finite number > 0, got nan"):
        SteeringEMNISTConfig(label_strength=math.nan)
    with pytest.raises(TypeError, match="'seeds' must hold only integers >= 0, got 1.5"):
        SteeringEMNISTConfig(seeds=(1.5,))
    with pytest.raises(ValueError, match="'rules' must list at least one value"):
        RateGainConfig(rules=())
    with pytest.raises(ValueError, match="rules must list registered"):
        RateGainConfig(rules=("bptt", "no-such-rule"))
    assert SteeringEMNISTConfig(label_strength=7).label_strength == 7.0  # an int is a float
    assert isinstance(SteeringEMNISTConfig(label_strength=7).label_strength, float)


NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="cuda is available here")
NO_MPS = pytest.mark.skipif(torch.backends.mps.is_available(), reason="mps is available here")

COMMAND_LINE_CASES = [
    ("rate-gain", ["--seeds", "17,17"], "seeds"),
    ("rate-gain", ["--seeds", "1.5"], "seeds"),
    ("rate-gain", ["--seeds", "-1"], "seeds"),
    ("rate-gain", ["--rules", ""], "rules"),
    ("rate-gain", ["--tasks", ""], "tasks"),
    ("rate-gain", ["--rules", "bptt,no-such-rule"], "rules"),
    ("rate-gain", ["--gains", "0.5,nan"], "gains"),
    ("rate-gain", ["--learning-rates", "0"], "learning_rates"),
    ("rate-gain", ["--hidden-size", "0"], "hidden_size"),
    ("rate-gain", ["--clip-norm", "-1"], "clip_norm"),
    ("rate-gain", ["--iterations", "10", "--log-every", "100"], "iterations"),
    ("rate-gain-dale", ["--dale", "off,sideways"], "dale"),
    ("rate-gain-dale", ["--noise", "on,on"], "noise"),
    ("rate-gain-dale", ["--connection-probabilities", "0"], "connection_probabilities"),
    ("rate-gain-dale", ["--connection-probabilities", "1.5"], "connection_probabilities"),
    ("rate-gain-dale", ["--excitatory-fraction", "1"], "excitatory_fraction"),
    ("rate-gain-dale", ["--recurrent-noise", "-0.1"], "recurrent_noise"),
    ("rate-lyapunov", ["--flossing-form", "sideways"], "flossing_form"),
    ("rate-lyapunov", ["--lyapunov-trials", "1"], "lyapunov_trials"),
    ("rate-lyapunov", ["--hidden-size", "4", "--flossing-exponents", "5"], "flossing_exponents"),
    ("steering-emnist", ["--label-strength", "nan"], "label_strength"),
    ("steering-emnist", ["--label-strength", "inf"], "label_strength"),
    ("steering-emnist", ["--device", "foo"], "device"),
    pytest.param("steering-emnist", ["--device", "cuda"], "device", marks=NO_CUDA),
    pytest.param("free-energy-regimes", ["--device", "mps"], "device", marks=NO_MPS),
    ("steering-emnist", ["--models", "full,full"], "models"),
    ("steering-emnist", ["--models", ""], "models"),
    ("steering-emnist", ["--update-probability", "0"], "update_probability"),
    ("steering-emnist", ["--update-probability", "1.5"], "update_probability"),
    ("steering-emnist", ["--train-sweeps", "1"], "train_sweeps"),
    ("steering-emnist", ["--train-size", "70000"], "train_size"),
    ("steering-emnist", ["--dataset", "cifar"], "dataset"),
    ("steering-emnist", ["--feedback-removal", "slow"], "feedback_removal"),
    ("steering-emnist", ["--steered", "maybe"], "steered"),
    ("reservoir-emnist", ["--readout-learning-rate", "0"], "readout_learning_rate"),
    ("steering-depth", ["--num-layers", "1"], "num_layers"),
    ("steering-depth", ["--input-strengths", "2,2"], "input_strengths"),
    ("steering-capacity", ["--widths", "100"], "widths"),
    ("steering-capacity", ["--resolution", "1"], "resolution"),
    ("steering-phase-transition", ["--enumeration-sizes", "30"], "enumeration_sizes"),
    ("steering-phase-transition", ["--self-couplings", "0.5,0.2"], "self_couplings"),
    ("steering-phase-transition", ["--bp-damping", "1"], "bp_damping"),
    ("free-energy-capacity", ["--cue-noise", "-1"], "cue_noise"),
    ("free-energy-sequence", ["--precision", "inf"], "precision"),
    ("free-energy-replay", ["--replay-precisions", "1,1"], "replay_precisions"),
    ("free-energy-orthogonal", ["--seeds", "0,0"], "seeds"),
]


@pytest.mark.parametrize("name, flags, field", COMMAND_LINE_CASES)
def test_the_command_line_refuses_before_making_a_run_folder(
    neurodyn, tmp_path, name, flags, field
):
    before = snapshot(tmp_path)
    outcome = neurodyn("run", name, "--out", tmp_path / "run", "--no-progress", *flags)
    one_line_error(outcome, field)
    assert not (tmp_path / "run").exists() and snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "name, suffix, text, field",
    [
        ("rate-gain", ".json", json.dumps({"seeds": [17, 17]}), "seeds"),
        ("rate-gain", ".json", json.dumps({"hidden_size": True}), "hidden_size"),
        ("rate-gain", ".json", json.dumps({"rules": []}), "rules"),
        ("steering-emnist", ".toml", "label_strength = nan\n", "label_strength"),
        ("steering-emnist", ".toml", "seeds = 17\n", "seeds"),
        ("free-energy-regimes", ".toml", "precisions = [0.1, -inf]\n", "precisions"),
    ],
)
def test_a_config_file_is_refused_before_making_a_run_folder(
    neurodyn, tmp_path, name, suffix, text, field
):
    settings = tmp_path / f"settings{suffix}"
    settings.write_text(text)
    before = snapshot(tmp_path)
    outcome = neurodyn("run", name, "--out", tmp_path / "run", "--config", settings)
    one_line_error(outcome, field)
    assert not (tmp_path / "run").exists() and snapshot(tmp_path) == before
