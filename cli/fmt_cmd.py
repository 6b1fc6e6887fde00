"""`diana fmt`: rewrite content YAML in the canonical layout, or check that it is."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Annotated

import typer

from engine.diagnostics import Loc
from engine.load import inside_project
from engine.source import MAX_FILE_BYTES, read_source, too_large
from engine.yaml_fmt import FormatError, format_text, write_atomic

SUFFIXES = (".yaml", ".yml")
DIFF_LINES = 40


def _yaml_below(directory: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        out += [Path(dirpath) / f for f in filenames
                if f.endswith(SUFFIXES) and not f.startswith(".")]
    return sorted(out)


def _rule_dirs(directory: Path) -> list[Path]:
    """The extra directories a manifest lists under `rules:` (as `diana lint` reads them)."""
    manifest = directory / "game.yaml"
    try:
        parsed, _ = read_source(manifest.read_bytes(), str(manifest))
    except OSError:
        return []
    data = parsed.data if parsed is not None else None
    extra = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(extra, list):
        return []
    root = directory.resolve()
    return [directory / d for d in extra if isinstance(d, str) and (directory / d).is_dir()
            and inside_project(root, (root / d).resolve())]


def collect(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The files to format for the given files and directories, and the paths that do not
    exist."""
    files: list[Path] = []
    missing: list[str] = []
    for p in paths:
        if p.is_dir():
            for d in (p, *_rule_dirs(p)):
                files += _yaml_below(d)
        elif p.is_file():
            files.append(p)
        else:
            missing.append(str(p))
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, missing


def _shown(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel.replace(os.sep, "/")


def _read(path: Path, shown: str) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            big = too_large(shown, size)
            raise FormatError(big.loc, big.message)
        raw = path.read_bytes()
    except OSError as exc:
        raise FormatError(Loc(shown), f"cannot read file: {exc.strerror}") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        _, problems = read_source(raw, shown)
        bad = problems[0] if problems else None
        if bad is not None:
            raise FormatError(bad.loc, bad.message) from exc
        raise FormatError(Loc(shown), "the file is not UTF-8") from exc


def _diff(before: str, after: str, shown: str) -> list[str]:
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(),
                                      f"{shown} (now)", f"{shown} (formatted)", n=1,
                                      lineterm=""))
    if len(lines) > DIFF_LINES:
        lines = [*lines[:DIFF_LINES], f"… {len(lines) - DIFF_LINES} more diff lines"]
    return lines


def run(paths: list[Path], check: bool, diff: bool = True) -> int:
    files, missing = collect(paths or [Path("content")])
    for m in missing:
        typer.echo(f"error: `{m}` does not exist", err=True)
    if missing:
        return 2
    changed = failed = 0
    for path in files:
        shown = _shown(path)
        try:
            before = _read(path, shown)
            after = format_text(before, shown)
        except FormatError as exc:
            typer.echo(f"{exc.loc}: error: {exc.message}; file left unchanged", err=True)
            failed += 1
            continue
        if after == before:
            continue
        changed += 1
        if check:
            typer.echo(f"would reformat {shown}")
            if diff:
                for line in _diff(before, after, shown):
                    typer.echo(f"  {line}")
            continue
        try:
            write_atomic(path, after)
        except OSError as exc:
            typer.echo(f"{shown}: error: cannot write: {exc.strerror}", err=True)
            failed += 1
            changed -= 1
            continue
        typer.echo(f"reformatted {shown}")
    typer.echo(_summary(len(files), changed, failed, check))
    return 1 if failed or (check and changed) else 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _summary(total: int, changed: int, failed: int, check: bool) -> str:
    clean = total - changed - failed
    if not changed and not failed:
        return f"{_plural(total, 'file')} already formatted."
    parts = [f"{_plural(changed, 'file')} {'would be ' if check else ''}reformatted",
             f"{clean} already formatted"]
    if failed:
        parts.append(f"{failed} could not be formatted")
    return ", ".join(parts) + "."


def command(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Content directories and/or YAML files. A directory with game.yaml also "
             "covers the rules directories it lists. Default: content.",
        show_default=False)] = None,
    check: Annotated[bool, typer.Option("--check", help="Change nothing; exit 1 and show "
                                        "what would change if a file is not formatted.")] =
    False,
    diff: Annotated[bool, typer.Option("--diff/--no-diff", help="With --check, show each "
                                       "change as a diff.")] = True,
) -> None:
    """Lay out content YAML canonically, keeping comments, key order, quotes and wording.

    Exit status: 0 all good, 1 a file needs formatting (--check) or cannot be formatted,
    2 a path does not exist.
    """
    raise typer.Exit(run(list(paths or []), check, diff))
