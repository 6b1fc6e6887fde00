"""`lint(result)`: every diagnostic for a loaded story, severities applied, in stable order."""

from __future__ import annotations

from engine.catalog import lookup
from engine.diagnostics import Diagnostic, Severity
from engine.lint.registry import run_checks
from engine.load import LoadResult

__all__ = ["lint", "worst"]


def _overrides(result: LoadResult) -> dict[str, str]:
    if result.content is None:
        return {}
    out = {}
    for key, level in result.content.manifest.severity.items():
        info = lookup(key)
        if info is not None:
            out[info.code] = level
    return out


def lint(result: LoadResult) -> list[Diagnostic]:
    found = list(result.diagnostics)
    if result.content is not None:
        found += run_checks(result.content, result)
    overrides = _overrides(result)
    out: set[Diagnostic] = set()
    for d in found:
        level = overrides.get(d.code)
        if level == "off":
            continue
        out.add(d.with_severity(Severity(level)) if level else d)
    return sorted(out, key=Diagnostic.sort_key)


def worst(diagnostics: list[Diagnostic]) -> Severity | None:
    return min((d.severity for d in diagnostics), key=lambda s: s.rank, default=None)
