"""Diagnostics are values: a code, a message and a location, rendered by the front ends."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True, order=True)
class Loc:
    """A 1-based position in a content file; the file is relative to the content root."""

    file: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    name: str
    severity: Severity
    message: str
    loc: Loc
    hint: str | None = None
    # other places the problem is made of (each rule of a cycle), after the primary `loc`
    related: tuple[Loc, ...] = ()
    # the declared id an unknown one is probably a typo of; the message says it too
    suggestion: str | None = None

    def with_severity(self, severity: Severity) -> Diagnostic:
        return replace(self, severity=severity)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.loc.file, self.loc.line, self.loc.col, self.code, self.message)

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.loc.file,
            "line": self.loc.line,
            "col": self.loc.col,
            "hint": self.hint,
            "related": [{"file": r.file, "line": r.line, "col": r.col} for r in self.related],
            "suggestion": self.suggestion,
        }
