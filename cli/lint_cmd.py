"""`diana lint`: load a story, run every check, print the diagnostics."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cli import render
from engine.catalog import lookup
from engine.diagnostics import Diagnostic, Severity
from engine.gcpause import without_gc
from engine.lint import lint, with_overrides
from engine.load import ContentDirError, LoadResult, load

if TYPE_CHECKING:
    from engine.lint.deep import DeepResult

DOCS = Path(__file__).resolve().parent.parent / "docs" / "checks"


class Format(StrEnum):
    full = "full"
    concise = "concise"
    json = "json"
    github = "github"


def _source_line(result: LoadResult):
    def get(path: str, line: int) -> str:
        f = result.file(path)
        return f.line(line) if f else ""

    return get


def explain(code: str) -> None:
    info = lookup(code)
    if info is None:
        typer.echo(f"error: unknown check `{code}`; `diana lint --list` shows them all", err=True)
        raise typer.Exit(2)
    doc = DOCS / f"{info.code}.md"
    if doc.is_file():
        typer.echo(doc.read_text(encoding="utf-8").rstrip())
    else:
        typer.echo(f"{info.code} {info.name} ({info.severity.value})\n\n{info.summary}")


def run(directory: Path, fmt: Format, deep: bool = False, max_states: int | None = None
        ) -> int:
    # Plain lint keeps the collector paused until the story is freed (when `_run` returns):
    # resumed earlier, its first pass would walk the millions of objects a large story
    # loads into, all still alive (about 0.5 s of a 10,000-fragment `diana lint`). The
    # deep checks' exploration allocates far more, so it runs with the collector on.
    if max_states is not None and not deep:
        typer.echo("error: --max-states bounds the exploration of --deep; add --deep", err=True)
        return 2
    if max_states is not None and max_states < 1:
        typer.echo("error: --max-states must be at least 1", err=True)
        return 2
    return (_run if deep else without_gc(_run))(directory, fmt, deep, max_states)


def _run(directory: Path, fmt: Format, deep: bool, max_states: int | None) -> int:
    try:
        result = load(directory)
    except ContentDirError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    diagnostics = lint(result)
    note = None
    if result.content is None and any(d.code.startswith(("Y", "S")) for d in diagnostics):
        note = "Story checks run once the files above read and match the schema."
    elif result.content is None and any(d.code == "G007" for d in diagnostics):
        note = "Story checks run once the story loads: the moves above must settle first."
    explored: DeepResult | None = None
    if deep:
        diagnostics, note, explored = _deep(result, diagnostics, max_states)
    if fmt is Format.json:
        if deep:  # an object, so that the exploration has a field of its own
            typer.echo(render.as_json_with(diagnostics, "deep", explored.to_json()
                                           if explored is not None else None))
        else:
            typer.echo(render.as_json(diagnostics))
    elif fmt is Format.github:
        for d in diagnostics:
            typer.echo(render.github(d))
        if explored is not None and explored.note:
            typer.echo(render.github_notice("lint --deep", explored.note))
    else:
        source = _source_line(result)
        for d in diagnostics:
            typer.echo(render.full(d, source) if fmt is Format.full else render.concise(d))
            if fmt is Format.full:
                typer.echo("")
        typer.echo(render.summary(diagnostics))
        if note:
            typer.echo(note)
    return 1 if any(d.severity is Severity.ERROR for d in diagnostics) else 0


def _deep(result: LoadResult, diagnostics: list[Diagnostic], max_states: int | None
          ) -> tuple[list[Diagnostic], str | None, DeepResult | None]:
    """Add the value-aware checks (V001, V002), which explore the story's states: opt-in,
    since exploring takes longer than linting."""
    if result.content is None or any(d.severity is Severity.ERROR for d in diagnostics):
        return diagnostics, "Deep checks run once the story lints without errors.", None
    from engine.lint.deep import DEEP_MAX_STATES, deep  # imports the simulator

    found = deep(result.content, max_states or DEEP_MAX_STATES)
    return with_overrides(result, diagnostics + found.diagnostics), found.note, found
