"""`diana lint --deep`: the usual checks, plus the value-aware ones (V001, V002) that
explore the story's states. Opt-in, since exploring takes longer than linting."""

from __future__ import annotations

from pathlib import Path

import typer

from cli import render
from cli.lint_cmd import Format, _source_line
from engine.diagnostics import Diagnostic, Severity
from engine.lint import lint
from engine.lint.deep import deep
from engine.load import ContentDirError, load


def _apply_overrides(result, found: list[Diagnostic]) -> list[Diagnostic]:
    from engine.catalog import lookup

    overrides = {}
    for key, level in result.severity:
        info = lookup(key)
        if info is not None:
            overrides[info.code] = level
    out = []
    for d in found:
        level = overrides.get(d.code)
        if level is None:
            out.append(d)
        elif level != "off":
            out.append(d.with_severity(Severity(level)))
    return out


def run(directory: Path, fmt: Format, max_states: int | None = None) -> int:
    try:
        result = load(directory)
    except ContentDirError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    diagnostics = lint(result)
    note = None
    if result.content is not None and not any(d.severity is Severity.ERROR
                                              for d in diagnostics):
        found = deep(result.content) if max_states is None else deep(result.content,
                                                                     max_states)
        diagnostics = sorted(diagnostics + _apply_overrides(result, found.diagnostics),
                             key=Diagnostic.sort_key)
        if not found.complete:
            note = (f"Deep checks: the exploration stopped at its bound ({found.states} "
                    "states); V001/V002 are claimed only after a complete exploration "
                    "(try `diana simulate`).")
    else:
        note = "Deep checks run once the story lints without errors."
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
