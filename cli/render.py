"""Diagnostics to text: ruff-style human output, JSON, GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Callable

from engine.diagnostics import Diagnostic, Severity

SourceLine = Callable[[str, int], str]


def headline(d: Diagnostic) -> str:
    return f"{d.loc}: {d.code} {d.name} [{d.severity.value}] {d.message}"


def _also(d: Diagnostic) -> str:
    return "also at " + ", ".join(str(r) for r in d.related)


def concise(d: Diagnostic) -> str:
    """One line per diagnostic: location, code, name, severity, message, the related
    locations and the hint."""
    return (headline(d) + (f" ({_also(d)})" if d.related else "")
            + (f" (hint: {d.hint})" if d.hint else ""))


# A snippet shows at most this many characters of its source line, around the column: a
# file may hold a line of megabytes, which a terminal or a CI log should not receive whole.
SNIPPET = 200
ELLIPSIS = "…"


def snippet(line: str, col: int) -> tuple[str, int]:
    """The part of `line` a snippet shows, with an ellipsis on each cut side, and the
    1-based column of `col` in it."""
    if len(line) <= SNIPPET:
        return line, col
    start = max(0, min(col - 1 - SNIPPET // 2, len(line) - SNIPPET))
    end = start + SNIPPET
    shown, at = line[start:end], col - start
    if start > 0:
        shown, at = ELLIPSIS + shown, at + 1
    if end < len(line):
        shown += ELLIPSIS
    return shown, at


def full(d: Diagnostic, source_line: SourceLine) -> str:
    head = headline(d)
    line = source_line(d.loc.file, d.loc.line)
    if not line and not d.hint and not d.related:
        return head
    out = [head]
    if line:
        num = str(d.loc.line)
        pad = " " * len(num)
        shown, col = snippet(line, max(d.loc.col, 1))
        caret = " " * (col - 1) + "^"
        out += [f"{pad} |", f"{num} | {shown}", f"{pad} | {caret} {d.name}"]
        notes = [f"{pad} = {_also(d)}"] if d.related else []
        if d.hint:
            notes.append(f"{pad} = hint: {d.hint}")
        if notes:
            out += [f"{pad} |", *notes]
    else:
        if d.related:
            out.append(f"  = {_also(d)}")
        if d.hint:
            out.append(f"  = hint: {d.hint}")
    return "\n".join(out)


def summary(diagnostics: list[Diagnostic]) -> str:
    counts = {s: sum(1 for d in diagnostics if d.severity is s) for s in Severity}
    if not diagnostics:
        return "All checks passed."
    parts = []
    for s, word in ((Severity.ERROR, "error"), (Severity.WARNING, "warning"),
                    (Severity.INFO, "note")):
        n = counts[s]
        if n:
            parts.append(f"{n} {word}{'s' if n != 1 else ''}")
    return "Found " + ", ".join(parts) + "."


def as_json(diagnostics: list[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diagnostics], indent=2, ensure_ascii=False)


def as_json_with(diagnostics: list[Diagnostic], key: str, value: object) -> str:
    """`{"diagnostics": [...], key: value}`: the diagnostics and one more field."""
    return json.dumps({"diagnostics": [d.to_json() for d in diagnostics], key: value},
                      indent=2, ensure_ascii=False)


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github(d: Diagnostic) -> str:
    level = {"error": "error", "warning": "warning", "info": "notice"}[d.severity.value]
    message = (d.message + (f" ({_also(d)})" if d.related else "")
               + (f" (hint: {d.hint})" if d.hint else ""))
    return (f"::{level} file={d.loc.file},line={d.loc.line},col={d.loc.col},"
            f"title={d.code} {d.name}::{_escape(message)}")


def github_notice(title: str, message: str) -> str:
    """A workflow notice that belongs to no file."""
    return f"::notice title={title}::{_escape(message)}"
