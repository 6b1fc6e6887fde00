"""Text interpolation: `{player}`, `{points}`, `{stat.courage}`, `{string.mood}`; `{{` and
`}}` are braces. A value is put in as it is and never read again for variables, so a text
a player typed (`{string.hero_name}`) cannot interpolate anything itself."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")

SIMPLE_VARIABLES = ("player", "points", "currency", "emoji", "level", "level_name")
PREFIXED_VARIABLES = ("stat", "item", "string")

# Worst-case widths used by the Telegram length check; a display name is at most 64
# characters and a balance of twelve digits is beyond any real story.
MAX_NAME = 64
MAX_NUMBER = 12


def variables(template: str) -> list[str]:
    if "{" not in template:  # most texts interpolate nothing
        return []
    return [m.group(1) for m in _TOKEN.finditer(template) if m.group(1) is not None]


def unknown_variable(name: str, stats: Iterable[str], items: Iterable[str],
                     strings: Iterable[str] = ()) -> str | None:
    """None when `name` can be interpolated, else a short reason."""
    if name in SIMPLE_VARIABLES:
        return None
    prefix, _, ident = name.partition(".")
    if prefix == "stat" and ident:
        return None if ident in set(stats) else f"no stat `{ident}` is declared"
    if prefix == "item" and ident:
        return None if ident in set(items) else f"no item `{ident}` is declared"
    if prefix == "string" and ident:
        return None if ident in set(strings) else f"no string variable `{ident}` is declared"
    return f"`{{{name}}}` is not an interpolation variable"


def interpolate(template: str, lookup: Callable[[str], str | None]) -> str:
    """Replace variables; an unknown one is left as written (lint reports it)."""

    def sub(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        value = lookup(m.group(1))
        return token if value is None else value

    return _TOKEN.sub(sub, template)


def worst_case_length(template: str, widths: Mapping[str, int]) -> int:
    """Length after interpolation when every variable takes its widest value."""
    if "{" not in template and "}" not in template:
        return len(template)
    return len(interpolate(template, lambda name: "x" * widths.get(name, MAX_NUMBER)))
