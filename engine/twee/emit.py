"""The files of an imported story as YAML text, in the sample's layout, and the report of
what was not converted."""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from engine.scaffold import scalar
from engine.twee.convert import Conversion, Unconverted, summary
from engine.yaml_fmt import dump

# Requirements and effects read best on one line: `requires: {flag: lamp}`.
_FLOW_KEYS = ("requires", "if", "currency")


def _text(value: str) -> Any:
    if "\n" in value and not re.search(r"[ \t]\n|[ \t]$|^\s", value):
        return LiteralScalarString(value + "\n" if not value.endswith("\n") else value)
    return scalar(value)


def _node(value: Any, flow: bool = False) -> Any:
    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = _node(v, flow or k in _FLOW_KEYS)
        if flow:
            m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        s = CommentedSeq(_node(v, flow) for v in value)
        if flow:
            s.fa.set_flow_style()
        return s
    if isinstance(value, str):
        return scalar(value) if flow else _text(value)
    return value


def _effects_flow(fragments: dict[str, Any]) -> CommentedMap:
    out = _node({"fragments": fragments})
    for frag in out["fragments"].values():
        for key in ("on_enter",):
            if key in frag:
                for e in frag[key]:
                    e.fa.set_flow_style()
        for c in frag.get("choices", []):
            for e in c.get("effects", []):
                e.fa.set_flow_style()
    return out


def files(conv: Conversion) -> dict[str, str]:
    """Relative path -> text of every file of the new content directory."""
    out = {"game.yaml": dump(_node(conv.manifest))}
    for path, data in conv.story_files.items():
        out[path] = dump(_effects_flow(data["fragments"]))
    if conv.declarations:
        out["rules.yaml"] = dump(_node(conv.declarations))
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
