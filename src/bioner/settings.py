"""Typed settings tables: dataclasses filled from TOML tables or ``key=value`` overrides, every key checked.

A config file, a ``--set`` override and a saved model folder all become dataclasses
through :func:`assign`, so an unknown key, a value of the wrong type, a non-finite number
or an integer no run could use is the same one-line error everywhere, naming the key.
A typo that is silently ignored costs a whole training run.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from collections.abc import Mapping
from typing import Any

from bioner.errors import BionerError

INT_LIMIT = 2**63
"""Integers at or beyond this size fit no tensor, seed or counter: refused when a setting is read."""


def parse_value(text: str) -> Any:
    """A ``--set`` value: a TOML value when it parses as one (``3``, ``1e-5``, ``true``, ``["A"]``), else a string.

    ``none`` (or ``null``) clears an optional key; for a key that must hold a string it is the string ``"none"``.
    """
    if text.lower() in {"none", "null"}:
        return None
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def field_names(target: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(target)]


def assign(target: Any, name: str, value: Any, key: str, source: str) -> None:
    """Set field ``name`` of dataclass ``target`` to ``value`` coerced to its type; ``key`` names it in errors."""
    hints = typing.get_type_hints(type(target))
    if name not in hints or name not in field_names(target):
        section = key.partition(".")[0]
        raise BionerError(f"{source}: unknown config key {key!r}; [{section}] has: {', '.join(field_names(target))}")
    setattr(target, name, coerce(value, hints[name], key, source))


def fill(target: Any, values: Mapping[str, Any], prefix: str, source: str) -> None:
    """Every ``values`` item assigned to ``target`` (keys named ``prefix.key`` in errors)."""
    for name, value in values.items():
        assign(target, name, value, f"{prefix}.{name}", source)


def coerce(value: Any, hint: Any, key: str, source: str) -> Any:
    """``value`` as the field's type; ints widen to floats, nothing else is guessed."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if value is None:
        if type(None) in options:
            return None
        if str in options:
            return "none"
        raise BionerError(f"{source}: config key {key!r} cannot be empty")
    for option in options:
        if option is bool and isinstance(value, bool):
            return value
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            if not -INT_LIMIT < value < INT_LIMIT:
                raise BionerError(f"{source}: config key {key!r} is out of range, got {value}")
            return value
        if option is float and isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise BionerError(f"{source}: config key {key!r} must be a finite number, got {value!r}")
            return float(value)
        if option is str and isinstance(value, str):
            return value
        if typing.get_origin(option) is list and isinstance(value, list):
            item = typing.get_args(option)[0]
            try:
                return [coerce(v, item, key, source) for v in value]
            except BionerError:
                pass
    wanted = " or ".join(_type_name(o) for o in options if o is not type(None))
    raise BionerError(f"{source}: config key {key!r} must be {wanted}, got {value!r}")


def _type_name(hint: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    if typing.get_origin(hint) is list:
        return "a list of numbers" if typing.get_args(hint)[0] is float else "a list of strings"
    return names.get(hint, str(hint))


def as_table(target: Any) -> dict[str, Any]:
    """A dataclass as a TOML table: ``None`` values left out (TOML has no null), lists copied."""
    return {k: v for k, v in dataclasses.asdict(target).items() if v is not None}


def choice_problems(target: Any, prefix: str, choices: Mapping[str, tuple[str, ...]]) -> list[str]:
    """A line for each field whose value is not one of its choices."""
    problems = []
    for name, allowed in choices.items():
        value = getattr(target, name)
        if value not in allowed:
            problems.append(f"{prefix}.{name} must be one of {', '.join(allowed)}, got {value!r}")
    return problems
