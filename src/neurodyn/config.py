"""Typed experiment configs: dataclasses <-> JSON/TOML <-> command-line flags, validated.

Every field of a config dataclass becomes a ``--field-name`` flag whose help shows the
field's type, default and description; fields are declared with :func:`option` so that
they carry that description and what values they allow (the experiment contract tests
require both for every field). Supported field types are ``int``, ``float``, ``str``,
``bool`` and tuples of these (comma-separated on the command line: ``--models
full,reservoir``; an empty value is the empty tuple; integers also as ranges, ``--seeds
0-4,7``).

A config class derives from :class:`Config`, whose ``__post_init__`` runs :func:`validate`:
however a config is built (flags, a file, or ``SomeConfig(...)`` in Python), every field
is checked against its type and its declaration before anything runs, and a bad value
is a ``TypeError`` (wrong type) or ``ValueError`` (wrong value) naming the field.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import sys
import typing
from collections import Counter
from pathlib import Path
from typing import Any

from neurodyn.checks import check_device

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_SCALARS = {int: int, float: float, str: str}
# How a message names a value of each type: one value, or the entries of a tuple.
_NOUNS = {int: "an integer", float: "a finite number", str: "a string", bool: "true or false"}
_PLURALS = {int: "integers", float: "finite numbers", str: "strings", bool: "booleans"}


@dataclasses.dataclass(frozen=True)
class Constraints:
    """What a field allows besides its type; see :func:`option` for the meaning of each."""

    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    below: float | None = None
    choices: tuple[str, ...] | None = None
    unique: bool = False
    allow_empty: bool = False
    device: bool = False
    unbounded: bool = False

    def declared(self, kind: Any) -> bool:
        """Whether a field of type ``kind`` says what it allows: a number a range (or
        ``unbounded``), a string its ``choices``, ``device`` or ``unbounded``."""
        inner = _element(kind)
        if inner is bool:
            return True
        bounds = (self.minimum, self.maximum, self.above, self.below)
        if inner in (int, float):
            return self.unbounded or any(b is not None for b in bounds)
        return self.unbounded or self.device or self.choices is not None

    def range_text(self) -> str:
        """`` >= 1``, `` > 0``, `` in [0, 1)`` or ``""``."""
        low = ("[", self.minimum) if self.minimum is not None else ("(", self.above)
        high = ("]", self.maximum) if self.maximum is not None else (")", self.below)
        if low[1] is not None and high[1] is not None:
            return f" in {low[0]}{low[1]:g}, {high[1]:g}{high[0]}"
        if low[1] is not None:
            return f" {'>=' if low[0] == '[' else '>'} {low[1]:g}"
        if high[1] is not None:
            return f" {'<=' if high[0] == ']' else '<'} {high[1]:g}"
        return ""

    def admits(self, number: float) -> bool:
        return (
            (self.minimum is None or number >= self.minimum)
            and (self.maximum is None or number <= self.maximum)
            and (self.above is None or number > self.above)
            and (self.below is None or number < self.below)
        )


def option(
    default: Any,
    help: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
    choices: typing.Iterable[str] | None = None,
    unique: bool = False,
    allow_empty: bool = False,
    device: bool = False,
    unbounded: bool = False,
) -> Any:
    """A config field with its ``default``, a one-line ``help`` for ``--help``, and what it
    allows (on a tuple field, every entry):

    * ``minimum`` / ``maximum``: inclusive bounds of a number, ``above`` / ``below``
      exclusive ones (``above=0``: positive); floats are always finite;
    * ``choices``: the allowed strings;
    * ``unique``: a tuple without repeats (seeds: repeated members are not independent);
    * ``allow_empty``: a tuple may be empty (by default it lists at least one value);
    * ``device``: a torch device this machine can use (:func:`neurodyn.checks.check_device`);
    * ``unbounded``: on purpose, any value of the field's type (a coupling of either
      sign, a path, names checked against a registry by the config's ``__post_init__``).
    """
    if (minimum is not None and above is not None) or (maximum is not None and below is not None):
        raise TypeError("give minimum or above, and maximum or below, not both")
    listed = None if choices is None else tuple(choices)
    given = Constraints(minimum, maximum, above, below, listed, device=device)
    if unbounded and given != Constraints():
        raise TypeError("an unbounded field takes no range, choices or device")
    constraints = dataclasses.replace(
        given, unique=unique, allow_empty=allow_empty, unbounded=unbounded
    )
    return dataclasses.field(default=default, metadata={"help": help, "constraints": constraints})


def _element(kind: Any) -> Any:
    return typing.get_args(kind)[0] if typing.get_origin(kind) is tuple else kind


def constraints(cls: type) -> dict[str, Constraints]:
    """The declared :class:`Constraints` of every field of ``cls`` (empty where undeclared)."""
    return {f.name: f.metadata.get("constraints", Constraints()) for f in dataclasses.fields(cls)}


def _wanted(kind: Any, rules: Constraints, entries: bool) -> str:
    """``an integer >= 1``, ``finite numbers in (0, 1]``, ``one of ['a', 'b']``..."""
    if kind is str and rules.choices is not None:
        return f"{'values from' if entries else 'one of'} {list(rules.choices)}"
    noun = (_PLURALS if entries else _NOUNS)[kind]
    return noun + (rules.range_text() if kind in (int, float) else "")


def _checked(name: str, kind: Any, rules: Constraints, value: Any, entries: bool) -> Any:
    """``value`` (the field's, or one entry of a tuple field's) if ``rules`` allow it, as a
    float in a float field; else a TypeError or ValueError naming the field."""
    if entries:
        sentence = f"config field {name!r} must hold only {_wanted(kind, rules, True)}, got"
    else:
        sentence = f"config field {name!r} must be {_wanted(kind, rules, False)}, got"
    allowed_types = (int, float) if kind is float else kind
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, allowed_types):
        raise TypeError(f"{sentence} {value!r} ({type(value).__name__})")
    if kind is float:
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float
            number = math.inf
        if not (math.isfinite(number) and rules.admits(number)):
            raise ValueError(f"{sentence} {value!r}")
        return number
    if kind is int and not rules.admits(value):
        raise ValueError(f"{sentence} {value!r}")
    if kind is str and rules.choices is not None and value not in rules.choices:
        raise ValueError(f"{sentence} {value!r}")
    if kind is str and rules.device:
        check_device(f"config field {name!r}", value)
    return value


def validate(config: Any) -> None:
    """Check every field of the dataclass ``config`` against its type and declaration (int
    values of float fields become floats): a TypeError (wrong type) or ValueError (wrong
    value) names the field, what it allows and what it got."""
    types = field_types(type(config))
    for name, rules in constraints(type(config)).items():
        kind, value = types[name], getattr(config, name)
        if _element(kind) not in _NOUNS:
            raise TypeError(f"config field {name!r} has unsupported type {kind}")
        if typing.get_origin(kind) is not tuple:
            checked = _checked(name, kind, rules, value, entries=False)
        else:
            inner = _element(kind)
            if not isinstance(value, tuple):
                raise TypeError(
                    f"config field {name!r} must be a tuple of {_PLURALS[inner]}, got {value!r} "
                    f"({type(value).__name__})"
                )
            checked = tuple(_checked(name, inner, rules, item, entries=True) for item in value)
            if not checked and not rules.allow_empty:
                raise ValueError(f"config field {name!r} must list at least one value, got ()")
            repeated = [item for item, count in Counter(checked).items() if count > 1]
            if rules.unique and repeated:
                raise ValueError(
                    f"config field {name!r} must not repeat a value, got {repeated[0]!r} "
                    f"more than once in {value!r}"
                )
        object.__setattr__(config, name, checked)


class Config:
    """Base of the experiment config dataclasses: they validate on construction. A
    subclass with cross-field checks calls ``super().__post_init__()`` first."""

    def __post_init__(self) -> None:
        validate(self)


def field_help(cls: type) -> dict[str, str]:
    """The description of every field of the config class ``cls`` ("" where it has none)."""
    return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(cls)}


def type_name(kind: Any) -> str:
    """``int``, ``float``, ``str``, ``bool`` or ``float,...`` for a tuple of floats."""
    if typing.get_origin(kind) is tuple:
        return f"{type_name(typing.get_args(kind)[0])},..."
    return getattr(kind, "__name__", str(kind))


def _parse_bool(text: str) -> bool:
    lowered = str(text).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _convert(kind: Any, value: Any) -> Any:
    if kind is bool:
        return value if isinstance(value, bool) else _parse_bool(value)
    if kind in _SCALARS:
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{value} is not an integer")
        if kind is int and isinstance(value, bool):
            raise ValueError("a boolean is not an integer")
        if kind is str and not isinstance(value, str):
            raise ValueError("not a string")
        return _SCALARS[kind](value)
    inner = _element(kind)
    if isinstance(value, str):
        items = value.split(",") if value.strip() else []
    else:
        items = list(value)
    items = [item.strip() if isinstance(item, str) else item for item in items]
    if inner is int:  # ranges: "0-4" is 0, 1, 2, 3, 4
        items = [v for item in items for v in _int_range(item)]
    return tuple(_convert(inner, item) for item in items)


def _int_range(item: Any) -> list:
    """``[item]``, or the integers from a to b for an item ``"a-b"`` (a <= b)."""
    if not (isinstance(item, str) and re.fullmatch(r"\d+-\d+", item)):
        return [item]
    first, last = (int(part) for part in item.split("-"))
    if last < first:
        raise ValueError(f"the range {item} is empty (write low-high)")
    return list(range(first, last + 1))


def _coerce(name: str, kind: Any, value: Any) -> Any:
    """Convert ``value`` (from JSON, TOML or a flag) to the field type ``kind``; a tuple
    field reads a comma-separated string (empty: the empty tuple) or a list."""
    if _element(kind) not in _NOUNS:
        raise TypeError(f"config field {name!r} has unsupported type {kind}")
    try:
        return _convert(kind, value)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"config field {name!r}: cannot read {value!r} as {type_name(kind)} ({error})"
        ) from None


def field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def to_dict(config: Any) -> dict:
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()
    }


def from_dict(cls: type, values: dict) -> Any:
    """Build ``cls`` from ``values``; unknown keys are an error naming the valid ones."""
    types = field_types(cls)
    unknown = sorted(set(values) - set(types))
    if unknown:
        raise ValueError(f"unknown config field(s) {unknown}; valid fields: {sorted(types)}")
    return cls(**{k: _coerce(k, types[k], v) for k, v in values.items()})


def load_file(cls: type, path: str | Path) -> Any:
    path = Path(path)
    text = path.read_text()
    values = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    return from_dict(cls, values)


def add_arguments(parser: argparse.ArgumentParser, defaults: Any) -> None:
    """One ``--field-name`` flag per field of the config ``defaults`` (default: keep it),
    its help the field's description and default, its metavar the field's type."""
    helps = field_help(type(defaults))
    group = parser.add_argument_group("config fields (also settable with --config FILE)")
    for name, kind in field_types(type(defaults)).items():
        default = getattr(defaults, name)
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        group.add_argument(
            f"--{name.replace('_', '-')}",
            dest=f"field_{name}",
            default=None,
            metavar=type_name(kind).upper(),
            help=f"{helps[name]} (default: {shown})".lstrip().replace("%", "%%"),
        )


def apply_arguments(config: Any, namespace: argparse.Namespace) -> Any:
    types = field_types(type(config))
    changes = {
        name: _coerce(name, kind, getattr(namespace, f"field_{name}"))
        for name, kind in types.items()
        if getattr(namespace, f"field_{name}", None) is not None
    }
    return dataclasses.replace(config, **changes)
