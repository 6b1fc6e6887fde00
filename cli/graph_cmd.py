"""`diana graph`: print the story graph as Mermaid or Graphviz DOT, or render a PNG."""

from __future__ import annotations

import json
import shutil
import subprocess
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.content import load_clean
from engine import graph_export


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"


class Labels(StrEnum):
    id = "id"
    text = "text"
    both = "both"


def _coverage(path: Path) -> graph_export.Coverage:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise graph_export.CoverageError(f"cannot read {path}: {exc.strerror}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise graph_export.CoverageError(f"{path} is not JSON: {exc}") from exc
    return graph_export.parse_coverage(data)


def _png(dot_source: str, out: Path) -> int:
    exe = shutil.which("dot")
    if exe is None:
        typer.echo("error: --png needs Graphviz's `dot` on PATH (install Graphviz, e.g. "
                   "`apt install graphviz` or `brew install graphviz`), or write DOT with "
                   "`--format dot --out story.dot` and render it elsewhere", err=True)
        return 2
    try:
        done = subprocess.run([exe, "-Tpng", "-o", str(out)], input=dot_source.encode("utf-8"),
                              capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        typer.echo(f"error: running `dot` failed: {exc}", err=True)
        return 2
    if done.returncode != 0:
        typer.echo(f"error: `dot` failed: {done.stderr.decode('utf-8', 'replace').strip()}",
                   err=True)
        return 2
    typer.echo(f"wrote {out}", err=True)
    return 0


def run(directory: Path, fmt: GraphFormat, out: Path | None, png: Path | None,
        coverage: Path | None, labels: Labels) -> int:
    cov = None
    if coverage is not None:
        try:
            cov = _coverage(coverage)
        except graph_export.CoverageError as exc:
            typer.echo(f"error: {exc}", err=True)
            return 2
    content, status = load_clean(directory)
    if content is None:
        return status
    graph = graph_export.build(content, cov, labels.value)
    if png is not None:
        status = _png(graph_export.to_dot(graph), png)
        if status or out is None:
            return status
    text = graph_export.render(graph, fmt.value)
    if out is not None:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            typer.echo(f"error: cannot write {out}: {exc.strerror}", err=True)
            return 2
        typer.echo(f"wrote {out}", err=True)
    else:
        typer.echo(text, nl=False)
    return 0


def command(
    directory: Annotated[Path, typer.Argument(
        help="Content directory (with game.yaml).", metavar="DIR")] =
    Path("content"),
    format: Annotated[GraphFormat, typer.Option("--format", "-f", help="Output format.")] =
    GraphFormat.mermaid,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the text to FILE "
                                             "instead of standard output.", metavar="FILE")] =
    None,
    png: Annotated[Path | None, typer.Option(help="Render a PNG through Graphviz's `dot`.",
                                             metavar="FILE")] = None,
    coverage: Annotated[Path | None, typer.Option(
        help="JSON of hit counts ({\"fragments\": {id: n}, \"choices\": {\"frag.choice\": n}, "
             "\"rules\": {id: n}}); colours what was reached and what was not.",
        metavar="FILE")] = None,
    labels: Annotated[Labels, typer.Option(help="Name choice edges by id, button text or "
                                           "both.")] = Labels.id,
) -> None:
    """Draw the story: fragments, choices, locks, costs, random picks and rule jumps.

    Paste Mermaid into a Markdown file (GitHub renders it) or render DOT with Graphviz.
    """
    raise typer.Exit(run(directory, format, out, png, coverage, labels))
