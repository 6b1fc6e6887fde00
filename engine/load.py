"""Load a content directory: read every file, validate it, build the immutable model.

Loading is staged like a compiler: files that do not parse or do not match their schema
stop the model from being built, because cross-file checks on a half-read story would
bury the real error under follow-on noise.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from engine.builder import Builder
from engine.catalog import diag
from engine.diagnostics import Diagnostic, Loc, Severity
from engine.forced import cycle_diagnostics
from engine.gcpause import without_gc
from engine.model import (
    Content,
)
from engine.schema import kind_of, validate
from engine.source import MAX_FILE_BYTES, SourceFile, read_source, too_large

MANIFEST = "game.yaml"
YAML_SUFFIXES = (".yaml", ".yml")


class ContentDirError(Exception):
    """The content directory itself cannot be used (missing, not a directory), or the
    system refuses to read a file in it (no permission, a dangling link, an I/O error).

    These are problems of the machine, not of the story, so they are not diagnostics: the
    CLI reports them as a usage error (exit status 2)."""


SEVERITY_LEVELS = ("error", "warning", "info", "off")


@dataclass(frozen=True)
class LoadResult:
    root: Path
    files: tuple[SourceFile, ...]
    diagnostics: tuple[Diagnostic, ...]
    content: Content | None
    # lint.severity of the manifest, read even when the story does not load, so that
    # overrides also apply to reading and schema problems.
    severity: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.content is not None and not any(
            d.severity is Severity.ERROR for d in self.diagnostics
        )

    def file(self, path: str) -> SourceFile | None:
        return next((f for f in self.files if f.path == path), None)


def _display(path: Path, base: Path) -> str:
    try:
        return os.path.relpath(path, base).replace(os.sep, "/")
    except ValueError:
        return str(path)


def _walk_error(exc: OSError) -> None:
    raise ContentDirError(f"cannot read directory `{exc.filename}`: {exc.strerror}")


def _yaml_files(directory: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(directory, onerror=_walk_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        out.extend(
            Path(dirpath) / f
            for f in filenames
            if f.endswith(YAML_SUFFIXES) and not f.startswith(".")
        )
    return sorted(out)


def _read(path: Path, shown: str) -> tuple[SourceFile | None, list[Diagnostic], bytes]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:  # refuse before reading: the file may be huge
            return None, [too_large(shown, size)], b""
        raw = path.read_bytes()
    except OSError as exc:
        raise ContentDirError(f"cannot read `{shown}`: {exc.strerror or exc}") from exc
    parsed, problems = read_source(raw, shown)
    return parsed, problems, raw


def project_root(content_dir: Path) -> Path:
    """The git work tree that holds the content directory, else the directory above it
    (a story's rules usually sit beside its content: `rules: [../rules]`)."""
    for d in (content_dir, *content_dir.parents):
        if (d / ".git").exists():
            return d
    return content_dir.parent


def inside_project(content_dir: Path, d: Path) -> bool:
    """Whether a `rules:` directory (resolved) may be read: inside the project, and never
    a file system's root, whatever the project is."""
    top = project_root(content_dir)
    return d != Path(d.anchor) and (d == top or top in d.parents)


@without_gc
def load(root: str | os.PathLike[str], display_base: str | os.PathLike[str] | None = None
         ) -> LoadResult:
    """Load the story in `root`. Paths in diagnostics are relative to `display_base`
    (default: the current directory)."""
    root_path = Path(root)
    if not root_path.exists():
        raise ContentDirError(f"content directory `{root}` does not exist")
    if not root_path.is_dir():
        raise ContentDirError(f"`{root}` is not a directory")
    base = Path(display_base) if display_base is not None else Path.cwd()
    root_path = root_path.resolve()
    problems: list[Diagnostic] = []
    files: list[SourceFile] = []
    kinds: dict[str, str] = {}
    digest = hashlib.sha256()

    manifest_path = root_path / MANIFEST
    manifest_file: SourceFile | None = None
    dirs = [root_path]
    late: list[Diagnostic] = []  # problems that do not stop the story from loading
    if manifest_path.is_file():
        shown = _display(manifest_path, base)
        manifest_file, found, raw = _read(manifest_path, shown)
        # An empty manifest is not a harmless empty file: the manifest is required.
        problems += [diag("S001", f"{MANIFEST} is empty; the manifest must be a mapping",
                          d.loc, "write format, version, title, start and currency")
                     if d.code == "Y006" else d for d in found]
        digest.update(raw)
        if manifest_file is not None:
            files.append(manifest_file)
            kinds[manifest_file.path] = "game"
            data = manifest_file.data
            extra = data.get("rules") if isinstance(data, dict) else None
            if isinstance(extra, list):
                for i, rel in enumerate(extra):
                    if not isinstance(rel, str):
                        continue
                    d = (root_path / rel).resolve()
                    if not inside_project(root_path, d):
                        late.append(diag(
                            "M004", f"rules directory `{rel}` lies outside the project;"
                            " it is not read", manifest_file.loc(("rules", i)),
                            "keep rules in the story's git repository, or beside the content"
                            " directory: `rules: [../rules]`"))
                    elif d.is_dir():
                        dirs.append(d)
                    else:
                        late.append(diag(
                            "R004", f"rules directory `{rel}` does not exist",
                            manifest_file.loc(("rules", i)),
                            "fix the path (relative to game.yaml) or remove it from `rules:`"))
    else:
        problems.append(diag(
            "R006", f"no {MANIFEST} in the content directory", Loc(_display(root_path, base)),
            f"create {MANIFEST} with format, version, title, start and currency"))

    # Every file once, in sorted path order whatever order the directories list them in:
    # the order decides which of two duplicate ids comes first and how equal-priority
    # rules are ordered, so it must not depend on the file system.
    paths = sorted({p for d in dirs for p in _yaml_files(d)} - {manifest_path})
    for path in paths:
        parsed, found, raw = _read(path, _display(path, base))
        problems += found
        digest.update(path.name.encode() + b"\0" + raw)
        if parsed is not None:
            files.append(parsed)
            kinds[parsed.path] = kind_of(parsed, is_manifest=False)

    for f in files:
        problems += validate(f, kinds[f.path])

    content = None
    if manifest_file is not None and not any(d.severity is Severity.ERROR for d in problems):
        builder = Builder(files, kinds, manifest_file)
        content = builder.build(digest.hexdigest())
        problems += builder.problems
        loops = cycle_diagnostics(content)
        if loops:
            # Refused like a file that does not read: every front end builds its game from
            # `content`, so none can play the loop, and no severity override lets it pass.
            problems += loops
            content = None
    problems += late
    return LoadResult(root_path, tuple(files), tuple(problems), content,
                      _severity(manifest_file))


def _severity(manifest: SourceFile | None) -> tuple[tuple[str, str], ...]:
    """lint.severity, read leniently from the raw manifest: entries of the wrong shape are
    the schema's to report, and are skipped here."""
    data = manifest.data if manifest is not None else None
    lint = data.get("lint") if isinstance(data, dict) else None
    table = lint.get("severity") if isinstance(lint, dict) else None
    if not isinstance(table, dict):
        return ()
    return tuple((k, v) for k, v in table.items() if isinstance(k, str) and v in SEVERITY_LEVELS)


_Builder = Builder  # the name bench/lint_bench.py times
