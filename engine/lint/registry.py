"""The list of semantic checks. A check is a function (content, load result) -> diagnostics."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from engine.diagnostics import Diagnostic
from engine.load import LoadResult
from engine.model import Content

Check = Callable[[Content, LoadResult], Iterable[Diagnostic]]
CHECK_FUNCTIONS: list[Check] = []


def check(fn: Check) -> Check:
    CHECK_FUNCTIONS.append(fn)
    return fn


def run_checks(content: Content, result: LoadResult) -> list[Diagnostic]:
    # Importing the modules registers their checks.
    from engine.lint import graph, limits, manifest, refs, usage  # noqa: F401

    out: list[Diagnostic] = []
    for fn in CHECK_FUNCTIONS:
        out.extend(fn(content, result))
    return out
