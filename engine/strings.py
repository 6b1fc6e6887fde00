"""String variables in play: their value at a state, and what storing a text does.

A state keeps them under `strings` (id -> text), reset at a restart like stats. Saves made
before a story declared a variable lack it: every read falls back to the declared initial
value, and engine.migrate fills them in when it moves a save to new content.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.model import Content, StringVar

State = Mapping[str, Any]


def initial_strings(content: Content) -> dict[str, str]:
    return {v.id: v.initial for v in content.strings.values()}


def string_value(content: Content, state: State, ref: str | None) -> str:
    var = content.strings.get(ref or "")
    if var is None:
        return ""
    value = (state.get("strings") or {}).get(var.id)
    return value if isinstance(value, str) and var.allows(value) else var.initial


def stored(var: StringVar, text: str) -> str | None:
    """What storing `text` in `var` keeps: free text cut to its maximum length; None for a
    value an enum does not allow (lint refuses such a value in content, R009, so this is
    only reached when that error was silenced: nothing is stored rather than a value the
    rest of the story cannot expect)."""
    if var.values is not None:
        return text if text in var.values else None
    if var.max_length is not None and len(text) > var.max_length:
        return text[: var.max_length]
    return text


def settled_strings(content: Content, state: State) -> dict[str, str]:
    """The state's string variables under `content`: every declared one, each with a value
    it allows (else its initial value); variables the story no longer declares dropped."""
    have = state.get("strings") or {}
    out = {}
    for var in content.strings.values():
        value = have.get(var.id)
        out[var.id] = value if isinstance(value, str) and var.allows(value) else var.initial
    return out


def changed_string(content: Content, state: State, target: str, text: str) -> str | None:
    """The value a `string` effect leaves in `target`, or None when it changes nothing."""
    var = content.strings[target]
    new = stored(var, text)
    if new is None or new == string_value(content, state, target):
        return None
    return new
