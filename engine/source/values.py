"""A node's value and its place: plain scalars resolved by the YAML 1.2 core schema, and
the path of a node in the data."""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml.nodes import ScalarNode

from engine.numbers import MAX_DIGITS

Path_ = tuple[str | int, ...]

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")


# An integer literal of more digits than a number of the format can have (see
# engine.numbers): refused before `int()` meets it.
_LONG_INT = re.compile(
    rf"^(?:[-+]?[0-9]{{{MAX_DIGITS + 1},}}|0o[0-7]{{{MAX_DIGITS + 1},}}"
    rf"|0x[0-9a-fA-F]{{{MAX_DIGITS + 1},}})$")


class _HugeNumber(Exception):
    """A plain scalar is an integer literal too long to convert (see `_LONG_INT`)."""


def _scalar(node: ScalarNode) -> Any:
    if node.style is not None:  # quoted or block scalars are always strings
        return node.value
    return _plain(node.value)


def _plain(value: str) -> Any:
    """A plain scalar resolved by the YAML 1.2 core schema."""
    if _NULL.match(value):
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _LONG_INT.match(value):
        raise _HugeNumber(value)
    if _INT.match(value):
        return int(value)
    if _OCT.match(value):
        return int(value[2:], 8)
    if _HEX.match(value):
        return int(value[2:], 16)
    if _FLOAT.match(value) and any(ch.isdigit() for ch in value):
        return float(value)
    return value


