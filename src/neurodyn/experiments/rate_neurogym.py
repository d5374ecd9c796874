"""Any neurogym environment trained with any rate rule over gains and seeds (issue 23).

The ``rate-gain`` machinery (:mod:`neurodyn.experiments.rate_gain`: one ensemble per
(environment, rule) holding every (gain, learning rate, seed), Adam, the learning rate
selected per gain by the lab code's criterion, loss curves mean +- sd over seeds) on
neurogym environments through the adapter (:class:`~neurodyn.tasks.neurogym.NeurogymTask`)
with loss weights per trial period: the response periods weigh ``decision_weight``
(default 5, Yang et al. 2019; 1 gives the plain mean over all steps), ``period_weights``
("name=weight" entries) any period, 0 leaving its steps out. Accuracy is the decision
accuracy neurogym scores: the environment's own ``performance`` of each fresh trial under
the network's actions (chance: 1 / number of choices). Reinforcement-learning environments
(bandits, two-step, wagering, economic choice, any without a ground truth) are refused.

The network's time constant ``tau`` (ms) sets its leak per environment (spec
``rate-rnn-eprop-lyapunov.md`` 2.3, Liu, Zhang & Liu):

    h_t = alpha h_{t-1} + (1 - alpha) (W_h f(h_{t-1}) + W_x x_t),    alpha = 1 - dt / tau,

dt the environment's step. The default (0) is tau = dt, alpha = 0, the paper's setting:
memory over a delay then comes from the recurrence alone. Yang & Wang (2020) use tau =
100 ms at dt = 20 ms (alpha = 0.8); tau = 500 ms gives alpha = 0.8 at neurogym's usual dt
= 100 ms and 0.98 at PulseDecisionMaking's 10 ms, the setting that takes
PerceptualDecisionMakingDelayResponse and PulseDecisionMaking off their plateau
(docs/rate-rnn.md). ``env_options`` ("key=value", the value JSON) are passed to every
environment's constructor (``dim_ring=4``: DelayMatchCategory's default ring of 2 units
shows cos(theta) only, so the category, the sign of sin(theta), is not in its input).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

from neurodyn.config import from_dict, option
from neurodyn.experiments import Experiment, MemberAxes, register
from neurodyn.experiments.rate_gain import (
    AXES,
    TINY_GRID,
    RateGainConfig,
    gather,
    member_rows,
    run,
)
from neurodyn.experiments.rate_gain import plot as plot_losses
from neurodyn.experiments.rate_gain import summary as gain_summary
from neurodyn.plotting import figure
from neurodyn.runs import RunFolder
from neurodyn.tasks.neurogym import NeurogymTask
from neurodyn.tasks.registry import NEUROGYM_ID

TWO_CHOICE = (
    "PerceptualDecisionMaking-v0",
    "GoNogo-v0",
    "DelayMatchSample-v0",
    "ContextDecisionMaking-v0",
)


@dataclass(frozen=True)
class RateNeurogymConfig(RateGainConfig):
    """The ``rate-gain`` fields with neurogym ids as tasks, then the loss weights; the
    experiment's defaults (``defaults=`` below) are a smaller grid than rate-gain's."""

    tasks: tuple[str, ...] = option(
        TWO_CHOICE, "neurogym environment ids", unbounded=True, unique=True
    )
    decision_weight: float = option(
        5.0, "loss weight of the response periods' steps (others 1)", minimum=0.0
    )
    period_weights: tuple[str, ...] = option(
        (),
        "period=weight entries overriding a period's loss weight (0: not counted)",
        unbounded=True,  # checked against each environment's periods
        allow_empty=True,
    )
    tau: float = option(
        0.0,
        "network time constant in ms, alpha = 1 - dt / tau per environment (0: tau = dt, "
        "alpha = 0)",
        minimum=0.0,
    )
    env_options: tuple[str, ...] = option(
        (),
        "key=value entries (value JSON) passed to every environment's constructor",
        unbounded=True,  # checked by building each environment
        allow_empty=True,
    )
    experiment: ClassVar[str] = "rate-neurogym"

    def __post_init__(self) -> None:
        super().__post_init__()
        ids = [name for name in self.tasks if not NEUROGYM_ID.match(name)]
        if ids:
            raise ValueError(f"config field 'tasks' takes neurogym ids, got {ids}")
        for name in self.tasks:  # a clear error now for refused envs and unknown periods
            self.task(name)

    def weights(self) -> dict[str, float]:
        """``period_weights`` as {period: weight}."""
        return _entries("period_weights", self.period_weights, float, "period=weight")

    def environment_options(self) -> dict:
        """``env_options`` as {keyword: value}, each value parsed as JSON."""
        example = " with a JSON value (dim_ring=4)"
        return _entries("env_options", self.env_options, json.loads, "key=value", example)

    def task(self, name: str) -> NeurogymTask:
        """The environment ``name`` built with ``env_options``, with this config's loss
        weights and time constant ``tau`` (0: the environment's dt)."""
        try:
            return NeurogymTask(
                name,
                env_kwargs=self.environment_options(),
                tau=self.tau or None,
                decision_weight=self.decision_weight,
                period_weights=self.weights(),
            )
        except TypeError as error:  # neurogym's constructor refusing a keyword
            raise ValueError(
                f"config field 'env_options': {name} does not take {self.env_options}: {error}"
            ) from error


def _entries(field: str, entries, convert, form: str, example: str = "") -> dict:
    """``entries`` "name=value" as {name: convert(value)}; a clear error for a bad one."""
    parsed = {}
    for entry in entries:
        name, sep, value = entry.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            parsed[name.strip()] = convert(value)
        except ValueError:
            raise ValueError(
                f"config field '{field}' takes {form} entries{example}, got {entry!r}"
            ) from None
    return parsed


def summary(result: dict) -> str:
    """``rate-gain``'s summary, then every environment's chance level."""
    lines = [gain_summary(result), "chance (1 / answers a trial can have):"]
    config = from_dict(RateNeurogymConfig, result["config"])
    for name in config.tasks:
        choices = config.task(name).choices
        level = f"chance {1 / choices:.3f}" if choices > 1 else "a timed response, no chance level"
        lines.append(f"  {name}: {choices} answer(s), {level}")
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """The loss curves of ``rate-gain`` and the decision accuracy against the gain, a
    panel per environment and a line per rule (at the selected learning rates, mean over
    seeds)."""
    plot_losses(folder)
    runs = folder.read_result()["runs"]
    envs = list(dict.fromkeys(name.split(" ")[0] for name in runs))
    fig, axes = figure(1, len(envs), size=(3.6 * len(envs), 3.2), squeeze=False)
    for ax, env in zip(axes[0], envs, strict=True):
        for name, per_gain in runs.items():
            if name.split(" ")[0] == env:
                gains = [float(gain) for gain in per_gain]
                accuracy = [row["accuracy"]["all"] for row in per_gain.values()]
                ax.plot(gains, accuracy, marker="o", label=name.split(" ")[1])
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("initial gain")
        ax.set_ylabel("decision accuracy (neurogym)")
        ax.set_title(env, fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    folder.save_figure(fig, "accuracy.png")


register(
    Experiment(
        "rate-neurogym",
        "Any neurogym environment under BPTT, e-prop or RFLO over gains and seeds (issue 23)",
        RateNeurogymConfig,
        run,
        summary,
        plot=plot,
        tiny=lambda: RateNeurogymConfig(tasks=("GoNogo-v0",), rules=("bptt",), **TINY_GRID),
        quick=lambda: RateNeurogymConfig(
            tasks=("PerceptualDecisionMaking-v0", "DelayMatchSample-v0"),
            rules=("bptt", "eprop"),
            gains=(0.5, 1.0, 1.5),
            learning_rates=(3e-3,),
            seeds=(0, 1),
            iterations=300,
            test_trials=200,
        ),
        members=MemberAxes(AXES, member_rows, gather),
        defaults={
            "gains": (0.5, 1.0, 1.5),
            "learning_rates": (1e-3, 3e-3),
            "seeds": (0, 1, 2),
            "iterations": 1000,
        },
    )
)
