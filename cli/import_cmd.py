"""`diana import twee FILE… -o DIR`: a Twine story (Twee 3) as a new Diana project."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from engine.diagnostics import Severity
from engine.lint import lint
from engine.load import load
from engine.twee import TweeError, import_twee, report_lines

app = typer.Typer(help="Bring a story written elsewhere into Diana's format.",
                  no_args_is_help=True)

REPORT = "import-report.txt"


class _Refused(Exception):
    pass


def _read(files: list[Path]) -> list[tuple[str, str]]:
    sources = []
    for f in files:
        try:
            raw = f.read_bytes()
        except OSError as exc:
            raise _Refused(f"cannot read `{f}`: {exc.strerror or exc}") from exc
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _Refused(f"`{f}` is not UTF-8 text (byte {exc.start})") from exc
        sources.append((f.name, text))
    return sources


def _write(out: Path, texts: dict[str, str], force: bool) -> None:
    """Write every file, or nothing: into a new directory beside `out`, renamed into place
    when `out` does not exist yet; file by file over an existing one (`--force`)."""
    if out.exists() and not out.is_dir():
        raise _Refused(f"`{out}` exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise _Refused(f"`{out}` is not empty; pass --force to write into it")
    if out.is_dir():
        for rel, text in texts.items():
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for rel, text in texts.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _n(count: int, what: str) -> str:
    return f"{count:,} {what}{'' if count == 1 else 's'}"


def run(files: list[Path], out: Path, force: bool) -> int:
    try:
        texts, conv = import_twee(_read(files))
        lines = report_lines(conv)
        notes = [str(n) for n in conv.notes]
        texts[REPORT] = "\n".join(notes + lines) + "\n"
        _write(out, texts, force)
    except (_Refused, TweeError) as exc:
        typer.echo(f"error: {exc}; nothing written", err=True)
        return 2
    except OSError as exc:
        typer.echo(f"error: cannot write `{out}`: {exc.strerror or exc}", err=True)
        return 2
    for note in notes:
        typer.echo(f"note: {note}")
    for line in lines:
        typer.echo(line)
    found = lint(load(out))
    errors = sum(1 for d in found if d.severity is Severity.ERROR)
    warnings = sum(1 for d in found if d.severity is Severity.WARNING)
    counts = ", ".join(_n(n, what) for n, what in (
        (conv.fragments, "fragment"), (len(conv.endings), "ending"), (conv.choices, "choice"),
        (len(conv.declarations.get("stats", {})), "stat"),
        (len(conv.declarations.get("flags", {})), "flag")))
    typer.echo(f"Wrote {out} from {'Harlowe' if conv.harlowe else 'SugarCube'}: {counts};"
               f" this report is in {out / REPORT}.")
    typer.echo(f"`diana lint {out}`: {_n(errors, 'error')}, {_n(warnings, 'warning')}.")
    return 0


@app.command("twee")
def twee(
    files: Annotated[list[Path], typer.Argument(
        metavar="FILE…", help="Twee 3 files (.twee, .tw) of one story, as Twine 2 or"
                              " Tweego export them.")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR",
                                      help="The new content directory.")],
    force: Annotated[bool, typer.Option(
        "--force", help="Write into DIR even when it is not empty (files of the same name"
                        " are replaced).")] = False,
) -> None:
    """Convert a Twine story (Twee 3: SugarCube 2, Harlowe 3 basics) into a new project.

    Passages become fragments, links choices, `set` on numbers and booleans effects on
    declared stats and flags (initial values from StoryInit), `if` requirements and
    conditional text. Every construct not converted is listed with its passage and line.
    Exit status: 0 written, 2 nothing written (unreadable input, DIR not empty).
    """
    raise typer.Exit(run(files, out, force))
