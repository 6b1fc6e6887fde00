"""The manifest's own rules, and translation completeness."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from engine.catalog import BY_NAME, CHECKS, diag, lookup
from engine.diagnostics import Diagnostic
from engine.lint.registry import check
from engine.load import LoadResult
from engine.model import Content, Text
from engine.suggest import closest
from engine.walk import texts

SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)


def _manifest_loc(content: Content, result: LoadResult, *path: str | int, key: bool = False):
    file = result.file(content.manifest.loc.file)
    return file.loc(path, key=key) if file else content.manifest.loc


@check
def version(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    v = content.manifest.version
    if not SEMVER.match(v):
        yield diag("M001", f"version `{v}` is not semantic versioning",
                   _manifest_loc(content, result, "version"),
                   "write MAJOR.MINOR.PATCH, e.g. 1.2.0; bump it when you publish")


@check
def levels(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    prev = None
    for lv in content.manifest.levels:
        if prev is not None and (lv.level <= prev.level or lv.points <= prev.points):
            yield diag("M002", f"level {lv.level} (at {lv.points} points) does not come after"
                       f" level {prev.level} (at {prev.points} points)", lv.loc,
                       "list levels in order with increasing numbers and thresholds")
        prev = lv


@check
def severity_keys(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    for key in content.manifest.severity:
        if lookup(key) is None:
            yield diag("M003", f"lint.severity names unknown check `{key}`",
                       _manifest_loc(content, result, "lint", "severity", key, key=True),
                       "use a code such as G001 or a name such as unreachable-fragment",
                       suggestion=closest(key, [*CHECKS, *BY_NAME]))


@check
def migrations_of_live_fragments(content: Content, result: LoadResult
                                 ) -> Iterator[Diagnostic]:
    for old, new in content.manifest.migrate.items():
        if old in content.fragments:
            yield diag("M005", f"`migrate: {{{old}: {new}}}` moves saves away from `{old}`,"
                       " which this version still has",
                       _manifest_loc(content, result, "migrate", old, key=True),
                       "migrate: is for fragments that were removed or renamed; drop the"
                       " entry")


@check
def stat_ranges(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    for st in content.stats.values():
        if st.min is not None and st.max is not None and st.min > st.max:
            yield diag("S002", f"stat `{st.id}` has min {st.min:g} above max {st.max:g}",
                       st.loc, "swap them, or drop one")
        elif not (st.min is None or st.initial >= st.min) or not (
                st.max is None or st.initial <= st.max):
            yield diag("S002", f"stat `{st.id}` starts at {st.initial:g}, outside"
                       f" {_range(st.min, st.max)}", st.loc,
                       "give it an initial value within its min and max")


def _range(low: float | None, high: float | None) -> str:
    return f"[{'' if low is None else f'{low:g}'}, {'' if high is None else f'{high:g}'}]"


@check
def translations(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    """A file that translates any text must translate all of them; a file written in the
    default locale only is simply untranslated (players see the default)."""
    locales = content.manifest.locales
    if len(locales) < 2:
        return
    by_file: dict[str, list[tuple[str, Text]]] = defaultdict(list)
    for what, text in texts(content):
        by_file[text.loc.file].append((what, text))
    for entries in by_file.values():
        if not any(len(t.by_locale) > 1 or t.by_locale[0][0] != locales[0]
                   for _, t in entries):
            continue
        for what, text in entries:
            have = dict(text.by_locale)
            missing = [loc for loc in locales if loc not in have]
            if missing:
                yield diag("L001", f"{what} has no {', '.join(missing)} translation", text.loc,
                           "this file is translated, so every text in it needs every locale")
