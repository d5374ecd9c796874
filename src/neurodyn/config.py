"""Typed experiment configs: dataclasses <-> JSON/TOML <-> command-line flags.

Every field of a config dataclass becomes a ``--field-name`` flag whose help shows the
field's type, default and description; fields are declared with :func:`option` so that
they carry that description (the experiment contract tests require one for every field).
Supported field types are ``int``, ``float``, ``str``, ``bool`` and tuples of these
(comma-separated on the command line: ``--models full,reservoir``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import typing
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_SCALARS = {int: int, float: float, str: str}


def option(default: Any, help: str) -> Any:
    """A config field with its ``default`` and a one-line ``help`` for ``--help``."""
    return dataclasses.field(default=default, metadata={"help": help})


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


def _coerce(name: str, kind: Any, value: Any) -> Any:
    """Convert ``value`` (from JSON, TOML or a flag) to the field type ``kind``."""
    try:
        if kind is bool:
            return value if isinstance(value, bool) else _parse_bool(value)
        if kind in _SCALARS:
            if kind is int and isinstance(value, float) and not value.is_integer():
                raise ValueError(f"{value} is not an integer")
            if kind is int and isinstance(value, bool):
                raise ValueError("a boolean is not an integer")
            return _SCALARS[kind](value)
        if typing.get_origin(kind) is tuple:
            inner = typing.get_args(kind)[0]
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(
                _coerce(name, inner, item.strip() if isinstance(item, str) else item)
                for item in items
            )
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"config field {name!r}: cannot read {value!r} as {kind} ({error})"
        ) from None
    raise TypeError(f"config field {name!r} has unsupported type {kind}")


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
