"""`diana new …`: scaffold content into the story files, keeping their comments."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from engine.diagnostics import Severity
from engine.lint import lint
from engine.load import ContentDirError, load
from engine.scaffold import ScaffoldError, plan_fragment
from engine.yaml_fmt import write_atomic

app = typer.Typer(help="Scaffold new content (a fragment, wired to a choice).",
                  no_args_is_help=True)


class Ending(StrEnum):
    good = "good"
    bad = "bad"
    neutral = "neutral"
    secret = "secret"


def _errors(directory: Path) -> int:
    return sum(1 for d in lint(load(directory)) if d.severity is Severity.ERROR)


def _shown(path: Path) -> str:
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel.replace(os.sep, "/")


def run(fid: str, directory: Path, file: Path | None, from_fragment: str | None,
        choice: str | None, ending: str | None) -> int:
    try:
        result = load(directory)
    except ContentDirError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    root = Path(directory)
    try:
        plan = plan_fragment(result, root, fid, from_fragment=from_fragment,
                             choice_text=choice, file=file, ending=ending)
    except ScaffoldError as exc:
        typer.echo(f"error: {exc}; nothing written", err=True)
        return exc.status
    except OSError as exc:
        typer.echo(f"error: {exc}; nothing written", err=True)
        return 1
    errors_before = _errors(directory)
    originals = {p: p.read_bytes() if p.exists() else None for p in plan.writes}
    try:
        for path, text in plan.writes.items():
            write_atomic(path, text)
    except OSError as exc:
        _restore(originals)
        typer.echo(f"error: cannot write: {exc}; nothing written", err=True)
        return 1
    if _errors(directory) > errors_before:  # never leave the story worse than we found it
        _restore(originals)
        typer.echo("error: the scaffolded content would not lint cleanly; nothing written "
                   "(please report this)", err=True)
        return 1
    where = _shown(plan.fragment_file)
    typer.echo(f"added fragment `{fid}` to {where}")
    if plan.choice_id:
        typer.echo(f"added choice `{plan.choice_id}` to `{from_fragment}` → `{fid}`")
    typer.echo("Replace the TODO texts, then run `diana lint`.")
    return 0


def _restore(originals: dict[Path, bytes | None]) -> None:
    for path, raw in originals.items():
        if raw is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(raw)


@app.command("fragment")
def fragment(
    fid: Annotated[str, typer.Argument(metavar="ID", help="Id of the new fragment.")],
    directory: Annotated[Path, typer.Option("--dir", "-d", help="Content directory "
                                            "(with game.yaml).")] = Path("content"),
    file: Annotated[Path | None, typer.Option(
        help="Story file to add it to (created if missing). Default: the file of --from, "
             "else the last story file.", metavar="FILE")] = None,
    from_fragment: Annotated[str | None, typer.Option(
        "--from", help="Add a choice to this fragment that leads to the new one.",
        metavar="FRAGMENT")] = None,
    choice: Annotated[str | None, typer.Option(
        help="Button text of that choice (its id is made from it). Default: from ID.",
        metavar="TEXT")] = None,
    ending: Annotated[Ending | None, typer.Option(help="Make it an ending of this kind.")] =
    None,
) -> None:
    """Add a fragment with TODO text in every locale, optionally wired from another one.

    A fragment that is not an ending gets a placeholder choice back to --from (or to the
    start), so the story still lints. Exit status: 0 done, 1 content problem (the id
    exists, --from is unknown, …), 2 bad arguments.
    """
    raise typer.Exit(run(fid, directory, file, from_fragment, choice,
                         ending.value if ending else None))
