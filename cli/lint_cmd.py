"""`diana lint`: load a story, run every check, print the diagnostics."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from cli import render
from engine.catalog import lookup
from engine.diagnostics import Diagnostic, Severity
from engine.gcpause import without_gc
from engine.lint import lint, with_overrides
from engine.load import ContentDirError, LoadResult, load

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


def run(directory: Path, fmt: Format, deep: bool = False) -> int:
    # Plain lint keeps the collector paused until the story is freed (when `_run` returns):
    # resumed earlier, its first pass would walk the millions of objects a large story
    # loads into, all still alive (about 0.5 s of a 10,000-fragment `diana lint`). The
    # deep checks' exploration allocates far more, so it runs with the collector on.
    return (_run if deep else without_gc(_run))(directory, fmt, deep)


def _run(directory: Path, fmt: Format, deep: bool) -> int:
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
    if deep:
        diagnostics, note = _deep(result, diagnostics)
    if fmt is Format.json:
        typer.echo(render.as_json(diagnostics))
    elif fmt is Format.github:
        for d in diagnostics:
            typer.echo(render.github(d))
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


def _deep(result: LoadResult, diagnostics: list[Diagnostic]) -> tuple[list[Diagnostic], str]:
    """Add the value-aware checks (V001, V002), which explore the story's states: opt-in,
    since exploring takes longer than linting."""
    if result.content is None or any(d.severity is Severity.ERROR for d in diagnostics):
        return diagnostics, "Deep checks run once the story lints without errors."
    from engine.lint.deep import deep  # imports the simulator; plain lint does not need it

    found = deep(result.content)
    note = ("" if found.complete else
            f"Deep checks: the exploration stopped at its bound ({found.states} states);"
            " V001/V002 are claimed only after a complete exploration (try `diana simulate`).")
    return with_overrides(result, diagnostics + found.diagnostics), note
