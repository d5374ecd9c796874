"""Registries: named tasks, rate-RNN rules and experiments, each filled by its own files.

A component joins by one line, ``register(name, item)``, next to its definition (or in
the user's own module); contract tests run over every registered item, so a new item is
tested as soon as it is registered. Registering a taken name is an error, and an unknown
name gets an error that lists the known ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Items of one ``kind`` ("task", "rate rule", "experiment") by name."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        """Add ``item`` under ``name`` and return it; a taken name is refused."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.kind} needs a non-empty name, got {name!r}")
        if name in self._items:
            raise ValueError(f"a {self.kind} named {name!r} is already registered")
        self._items[name] = item
        return item

    def unregister(self, name: str) -> None:
        """Remove ``name`` (tests that register temporary items clean up with it)."""
        self.get(name)
        del self._items[name]

    def get(self, name: str) -> T:
        if not isinstance(name, str):
            raise TypeError(f"a {self.kind} is looked up by its name, a string; got {name!r}")
        if name not in self._items:
            raise KeyError(f"no {self.kind} named {name!r}; known: {', '.join(self.names())}")
        return self._items[name]

    def require(self, names, what: str) -> None:
        """Raise a ValueError unless ``names`` is a non-empty list of registered names."""
        unknown = [name for name in names if name not in self._items]
        if unknown or not names:
            raise ValueError(
                f"{what} must list registered {self.kind}s ({', '.join(self.names())}), "
                f"got {list(names)}"
            )

    def names(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._items.items())

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)
