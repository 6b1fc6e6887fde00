"""Loading a story for the commands that need it free of errors (graph, simulate, stats)."""

from __future__ import annotations

from pathlib import Path

import typer

from cli import render
from engine.diagnostics import Severity
from engine.game import Game, compile_game
from engine.lint import lint
from engine.load import ContentDirError, load
from engine.model import Content


def load_clean(directory: Path) -> tuple[Content | None, int]:
    """The story in `directory` when it lints without errors; else print why on stderr and
    return the exit status (1: content errors, 2: no such directory)."""
    try:
        result = load(directory)
    except ContentDirError as exc:
        typer.echo(f"error: {exc}", err=True)
        return None, 2
    diagnostics = lint(result)
    if result.content is None or any(d.severity is Severity.ERROR for d in diagnostics):
        typer.echo(render.summary(diagnostics), err=True)
        typer.echo(f"The story has errors; run `diana lint {directory}` to see them.",
                   err=True)
        return None, 1
    return result.content, 0


def load_game(directory: Path) -> tuple[Game | None, int]:
    """`load_clean`, compiled for play."""
    content, status = load_clean(directory)
    return (compile_game(content) if content is not None else None), status
