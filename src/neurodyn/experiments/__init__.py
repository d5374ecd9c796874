"""Experiments: one module per reproduced figure or table, looked up by name.

The contract (design principle 5): an experiment has a typed config dataclass whose
fields are declared with :func:`neurodyn.config.option`, and three functions:

* ``run(config, folder, progress) -> result``: computes, writes ``result.json`` (and
  ``arrays.safetensors`` or ``metrics.csv`` where a figure needs more) into the run
  folder as stages finish, and returns the result; it never plots;
* ``summary(result) -> str``: the text printed next to the papers' numbers;
* ``plot(folder)``: draws every figure from the run folder's files alone, so that
  ``neurodyn plot RUN_DIR`` redraws a finished or half-finished run without recomputing.

Each registers itself with ``register(Experiment(...))`` at the bottom of its module,
naming a ``tiny`` config (seconds; the contract tests run every experiment on it) and
optionally a ``quick`` one (``neurodyn reproduce --quick``). Adding an experiment is one
new module plus its line in :func:`_load_all`. An experiment whose ensemble is a product
of member axes declares them with :class:`MemberAxes`, and ``neurodyn sweep`` can then
split it into chunks run as separate jobs (:mod:`neurodyn.sweeps`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from neurodyn.registry import Registry
from neurodyn.runs import RunFolder


@dataclass(frozen=True)
class MemberAxes:
    """How ``neurodyn sweep`` splits an experiment's ensemble into chunks and joins them.

    ``axes`` maps each member axis (``"gain"``), outermost first, to the tuple config field
    that lists its values (``"gains"``): the members are the product of these fields, and
    a config whose axis fields hold a sub-product runs those members alone with the numbers
    they have in the whole ensemble (every member's draws are counter-seeded by its own
    seed). ``rows(config, folder)`` returns the tidy rows of a finished run folder: per
    member and step, its axis values (keys = axis names), the step and the metrics.
    ``gather(config, parts, folder)`` writes into ``folder`` the result files that
    ``run(config, folder)`` would have written, from the finished run folders ``parts``
    of chunks that together hold every member of ``config``; it returns the result.
    """

    axes: dict[str, str]
    rows: Callable[[Any, RunFolder], list[dict]]
    gather: Callable[[Any, list[RunFolder], RunFolder], dict]


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    config: type
    run: Callable[[Any, RunFolder, bool], dict]
    summary: Callable[[dict], str]
    plot: Callable[[RunFolder], None]
    tiny: Callable[[], Any] | None = None
    quick: Callable[[], Any] | None = None
    members: MemberAxes | None = None
    defaults: dict[str, Any] = field(default_factory=dict)

    def make_config(self) -> Any:
        """The experiment's default config (the config class defaults plus ``defaults``)."""
        return replace(self.config(), **self.defaults)


EXPERIMENTS: Registry[Experiment] = Registry("experiment")
names = EXPERIMENTS.names


def register(experiment: Experiment) -> Experiment:
    return EXPERIMENTS.register(experiment.name, experiment)


def get(name: str) -> Experiment:
    return EXPERIMENTS.get(name)


def _load_all() -> None:
    from neurodyn.experiments import (  # noqa: F401  (each module registers itself)
        free_energy_capacity,
        free_energy_orthogonal,
        free_energy_regimes,
        free_energy_replay,
        free_energy_sequence,
        rate_eprop_dms,
        rate_fixed_points,
        rate_gain,
        rate_gain_dale,
        rate_lyapunov,
        rate_multitask,
        rate_neurogym,
        steering_capacity,
        steering_capacity_protocols,
        steering_depth,
        steering_emnist,
        steering_equilibration,
        steering_harder,
        steering_phase_transition,
        steering_symmetric,
    )


_load_all()
