"""The files of an imported story as YAML text, in the canonical layout `diana fmt` keeps
(mappings indented by 2, list items by 4 with the dash at 2, requirements and effects on
one line), and the report of what was not converted.

The writer is a small one for the few shapes an import makes, rather than ruamel's
round-trip dumper, which took nine tenths of the time of a 2,000-passage import.
"""

from __future__ import annotations

import json
import re
from typing import Any

from engine.scaffold import scalar
from engine.twee.convert import Conversion, Unconverted, summary

# Keys whose value is written on one line: `requires: {flag: lamp}`.
_FLOW_KEYS = ("requires", "if", "currency")
# Lists whose items are each written on one line: `- {stat: {id: gold, add: 1}}`.
_FLOW_ITEMS = ("on_enter", "effects")


def _str(value: str) -> str:
    if type(scalar(value)) is str:  # plain: every YAML reader reads it back as it is
        return value
    # JSON's string syntax is YAML's double-quoted one; escape what YAML readers may take
    # for line breaks
    return json.dumps(value, ensure_ascii=False).replace("\u2028", "\\u2028").replace(
        "\u2029", "\\u2029")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return _str(str(value))


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_str(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def _literal(value: str) -> bool:
    """Whether `value` reads back unchanged from a `|` block (plus a final newline)."""
    return "\n" in value and not re.search(r"[ \t]\n|[ \t]$|^\s|\n\s*\n\s*$", value)


def _block_value(key: str, value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict) and value and key not in _FLOW_KEYS:
        return [f"{pad}{_str(key)}:", *_mapping(value, indent + 2)]
    if isinstance(value, list) and value and key not in _FLOW_KEYS:
        return [f"{pad}{_str(key)}:", *_sequence(value, indent + 2, key in _FLOW_ITEMS)]
    if isinstance(value, str) and _literal(value):
        body = [f"{pad}  {line}" if line else "" for line in value.split("\n")]
        return [f"{pad}{_str(key)}: |", *body]
    return [f"{pad}{_str(key)}: {_flow(value)}"]


def _mapping(value: dict[str, Any], indent: int) -> list[str]:
    out: list[str] = []
    for k, v in value.items():
        out += _block_value(k, v, indent)
    return out


def _sequence(items: list[Any], indent: int, flow_items: bool) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    for item in items:
        if isinstance(item, dict) and item and not flow_items:
            inner = _mapping(item, indent + 2)
            out.append(f"{pad}- {inner[0].lstrip()}")
            out += inner[1:]
        elif isinstance(item, str) and _literal(item):
            out.append(f"{pad}- |")
            out += [f"{pad}  {line}" if line else "" for line in item.split("\n")]
        else:
            out.append(f"{pad}- {_flow(item)}")
    return out


def document(data: dict[str, Any]) -> str:
    return "\n".join(_mapping(data, 0)) + "\n"


def files(conv: Conversion) -> dict[str, str]:
    """Relative path -> text of every file of the new content directory."""
    out = {"game.yaml": document(conv.manifest)}
    for path, data in conv.story_files.items():
        out[path] = document(data)
    if conv.declarations:
        out["rules.yaml"] = document(conv.declarations)
    return out


def _where(u: Unconverted) -> tuple[str, int, str, str]:
    return (u.file, u.line, u.passage, u.construct)


def report_lines(conv: Conversion) -> list[str]:
    """One line per construct not converted (the same construct on one line counted
    once, `3 <<textbox>>`), then a summary by construct."""
    grouped: dict[tuple[str, int, str, str], list[Unconverted]] = {}
    for u in conv.unconverted:
        grouped.setdefault(_where(u), []).append(u)
    lines = []
    for (file, line, passage, construct), us in sorted(grouped.items()):
        count = f"{len(us)} " if len(us) > 1 else ""
        detail = us[0].detail.strip()
        detail = f" `{detail[:60]}{'…' if len(detail) > 60 else ''}`" if detail else ""
        lines.append(f"not converted: {count}{construct}{detail} in passage \"{passage}\","
                     f" line {line} ({file}:{line}): {us[0].reason}")
    counts = summary(conv.unconverted)
    total = sum(counts.values())
    if total:
        parts = ", ".join(f"{n} {c}" for c, n in counts.items())
        lines.append(f"Not converted: {total} construct{'s' if total != 1 else ''} ({parts}).")
    else:
        lines.append("Not converted: nothing; every construct was converted.")
    return lines
