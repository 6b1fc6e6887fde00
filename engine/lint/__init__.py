"""`lint(result)`: every diagnostic for a loaded story, severities applied, in stable order."""

from __future__ import annotations

from engine.catalog import lookup
from engine.diagnostics import Diagnostic, Severity
from engine.gcpause import without_gc
from engine.lint.registry import run_checks
from engine.load import LoadResult

__all__ = ["lint", "with_overrides", "worst"]


def _overrides(result: LoadResult) -> dict[str, str]:
    out = {}
    for key, level in result.severity:
        info = lookup(key)
        if info is not None:
            out[info.code] = level
    return out


@without_gc
def lint(result: LoadResult) -> list[Diagnostic]:
    """Every diagnostic, with the manifest's `lint.severity` applied to every code.

    One exception keeps invalid content from passing: while the story does not load, an
    error that stops it from loading stays an error whatever the override says.
    """
    found = list(result.diagnostics)
    if result.content is not None:
        found += run_checks(result.content, result)
    return with_overrides(result, found)


def with_overrides(result: LoadResult, found: list[Diagnostic]) -> list[Diagnostic]:
    """`found` with the manifest's severities applied, in stable order."""
    overrides = _overrides(result)
    blocked = result.content is None
    out: set[Diagnostic] = set()
    for d in found:
        level = overrides.get(d.code)
        if level is None or (blocked and d.severity is Severity.ERROR
                             and d in result.diagnostics):
            out.add(d)
        elif level != "off":
            out.add(d.with_severity(Severity(level)))
    return sorted(out, key=Diagnostic.sort_key)


def worst(diagnostics: list[Diagnostic]) -> Severity | None:
    return min((d.severity for d in diagnostics), key=lambda s: s.rank, default=None)
