"""The task registry: ``get("romo")`` builds a task by name.

Native tasks register a factory (their class) under a short name next to their
definition; any other name of the form ``SomeEnv-v0`` is looked up in neurogym through
the adapter (:class:`~neurodyn.tasks.neurogym.NeurogymTask`, optional extra
``neurodyn[neurogym]``). Keyword options go to the factory (``get("romo", dt=0.25)``) or
become the neurogym environment's keyword arguments. Every registered task passes the
contract tests of ``tests/tasks/test_task_contract.py``: trials of the documented shapes,
masks in [0, 1], determinism from the seed, members independent of each other, bad
arguments refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from neurodyn.registry import Registry

TASKS: Registry[Callable[..., Any]] = Registry("task")
register, names = TASKS.register, TASKS.names
NEUROGYM_ID = re.compile(r"^[A-Za-z0-9_.]+-v\d+$")


def get(name: str, **options: Any):
    """The task registered as ``name`` built with ``options``, or the neurogym environment
    ``name`` (an id such as ``"GoNogo-v0"``) with ``options`` as its keyword arguments."""
    if not isinstance(name, str) or name in TASKS:  # TASKS.get refuses names not strings
        return TASKS.get(name)(**options)
    if NEUROGYM_ID.match(name):
        from neurodyn.tasks.neurogym import NeurogymTask

        return NeurogymTask(name, env_kwargs=options)
    raise KeyError(
        f"no task named {name!r}; registered: {', '.join(names())}; or a neurogym id such "
        "as 'PerceptualDecisionMaking-v0'"
    )


def require(names, what: str = "tasks") -> None:
    """Raise a ValueError unless ``names`` is a non-empty list of registered names and
    neurogym ids."""
    others = [name for name in names if not NEUROGYM_ID.match(name)]
    if others or not names:
        TASKS.require(others or names, what)
