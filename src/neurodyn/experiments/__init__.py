"""Experiments: one module per reproduced figure or table, looked up by name.

Each experiment has a typed config dataclass, ``run(config, folder, progress) -> result``
and ``summary(result) -> str``; ``quick()`` returns the scaled-down config that
``neurodyn reproduce --quick`` uses. Registering a name twice is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from neurodyn.runs import RunFolder


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    config: type
    run: Callable[[Any, RunFolder, bool], dict]
    summary: Callable[[dict], str]
    quick: Callable[[], Any] | None = None
    defaults: dict[str, Any] = field(default_factory=dict)

    def make_config(self) -> Any:
        """The experiment's default config (the config class defaults plus ``defaults``)."""
        return replace(self.config(), **self.defaults)


REGISTRY: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    if experiment.name in REGISTRY:
        raise ValueError(f"an experiment named {experiment.name!r} is already registered")
    REGISTRY[experiment.name] = experiment
    return experiment


def get(name: str) -> Experiment:
    if name not in REGISTRY:
        raise KeyError(f"no experiment named {name!r}; known: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def _load_all() -> None:
    from neurodyn.experiments import (  # noqa: F401
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
