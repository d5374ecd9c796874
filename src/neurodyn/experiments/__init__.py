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
new module plus its line in :func:`_load_all`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from neurodyn.registry import Registry
from neurodyn.runs import RunFolder


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
        rate_gain,
        rate_lyapunov,
        steering_capacity,
        steering_depth,
        steering_emnist,
        steering_phase_transition,
    )


_load_all()
