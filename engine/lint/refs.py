"""References: every id used must be declared; text variables must exist."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from engine.catalog import diag
from engine.diagnostics import Diagnostic, Loc
from engine.lint.registry import check
from engine.load import LoadResult
from engine.model import Compare, Content, Has, Rule
from engine.suggest import closest
from engine.text import SIMPLE_VARIABLES, unknown_variable, variables
from engine.walk import effects, requirements, texts

BUILTIN_EVENTS = (
    "start", "enter", "choice", "ending", "award", "spend", "unlock", "level_up", "item",
    "flag", "stat",
)


_DECLARED_IN = {"achievement": "achievements", "item": "items", "flag": "flags",
                "stat": "stats", "event": "events"}


def _unknown(what: str, name: str, known: Iterable[str], loc: Loc, code: str = "R004"
             ) -> Diagnostic:
    hint = None
    if what in _DECLARED_IN:
        hint = f"declare it under `{_DECLARED_IN[what]}:` in a rules file"
    elif what == "role":
        hint = "declare it in the manifest's `roles:`"
    return diag(code, f"unknown {what} `{name}`", loc, hint, suggestion=closest(name, known))


def _namespaces(content: Content) -> dict[str, Iterable[str]]:
    return {
        "fragment": content.fragments,
        "ending": [f.id for f in content.fragments.values() if f.ending],
        "achievement": content.achievements,
        "item": content.items,
        "flag": content.flags,
        "stat": content.stats,
        "role": content.manifest.roles,
        "event": content.events,
    }


@check
def unknown_start(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    start = content.manifest.start
    if start not in content.fragments:
        manifest = result.file(content.manifest.loc.file)
        loc = manifest.loc(("start",)) if manifest else content.manifest.loc
        yield diag("R003", f"start fragment `{start}` does not exist", loc,
                   suggestion=closest(start, content.fragments))


@check
def unknown_migration_targets(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    manifest = result.file(content.manifest.loc.file)
    for old, new in content.manifest.migrate.items():
        if new not in content.fragments:
            loc = manifest.loc(("migrate", old)) if manifest else content.manifest.loc
            yield diag("R008", f"`migrate: {{{old}: {new}}}` sends saves to `{new}`, which is"
                       " not a fragment", loc,
                       "map the old id to a fragment of this version, or drop the entry"
                       " (such saves restart)", suggestion=closest(new, content.fragments))


@check
def unknown_gotos(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    for f in content.fragments.values():
        for c in f.choices:
            for t in c.targets:
                if t.to not in content.fragments:
                    yield _unknown("goto target", t.to, content.fragments, t.loc, "R002")
    for _, e in effects(content):
        if e.kind == "goto" and e.target not in content.fragments:
            yield _unknown("goto target", str(e.target), content.fragments, e.target_loc, "R002")


_EFFECT_NAMESPACE = {
    "set": "flag", "clear": "flag", "give": "item", "take": "item", "stat": "stat",
    "unlock": "achievement", "emit": "event",
}


@check
def unknown_references(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    spaces = _namespaces(content)
    for _, e in effects(content):
        space = _EFFECT_NAMESPACE.get(e.kind)
        if space and e.target not in spaces[space]:
            yield _unknown(space, str(e.target), spaces[space], e.target_loc)
    for _, r in requirements(content):
        if isinstance(r, Has | Compare) and r.ref is not None:
            space = {"visited": "fragment"}.get(r.subject, r.subject)
            if r.ref not in spaces[space]:
                yield _unknown(space, r.ref, spaces[space], r.loc)
    levels = {lv.level for lv in content.manifest.levels}
    for _, r in requirements(content):
        if isinstance(r, Compare) and r.subject == "level":
            for _op, value in r.cmp:
                if levels and value not in levels:
                    yield diag("R004", f"unknown level `{value}`", r.loc,
                               f"declared levels: {', '.join(map(str, sorted(levels)))}")
    events = [*BUILTIN_EVENTS, *content.events]
    for rule in content.rules:
        if rule.event not in events:
            yield _unknown("event", rule.event, events, rule.when_loc("event"))
        for field, value in rule.filters:
            space = {"fragment": "fragment", "achievement": "achievement", "item": "item",
                     "flag": "flag", "stat": "stat"}.get(field)
            if space and isinstance(value, str) and value not in spaces[space]:
                yield _unknown(space, value, spaces[space], rule.when_loc(field))
        yield from _unknown_choice_filter(content, rule)


def _unknown_choice_filter(content: Content, rule: Rule) -> Iterator[Diagnostic]:
    """A `choice:` filter on a choice event names a choice of the filtered fragment, or of
    any fragment when the rule filters none; otherwise the rule can never fire."""
    filters = dict(rule.filters)
    choice = filters.get("choice")
    if rule.event != "choice" or not isinstance(choice, str):
        return
    fragment = content.fragments.get(filters.get("fragment"))  # type: ignore[arg-type]
    if fragment is not None:
        known = sorted({c.id for c in fragment.choices})
        if choice not in known:
            yield diag("R004", f"fragment `{fragment.id}` has no choice `{choice}`",
                       rule.when_loc("choice"), f"its choices: {', '.join(known) or 'none'}",
                       suggestion=closest(choice, known))
    elif "fragment" not in filters:
        known = sorted({c.id for f in content.fragments.values() for c in f.choices})
        if choice not in known:
            yield _unknown("choice", choice, known, rule.when_loc("choice"))


@check
def unknown_interpolations(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    for what, text in texts(content):
        for _, template in text.by_locale:
            if "{" not in template:  # most texts interpolate nothing
                continue
            for name in variables(template):
                reason = unknown_variable(name, content.stats, content.items)
                if reason:
                    yield diag("R005", f"{what}: {reason}", text.loc,
                               "variables: player, points, currency, emoji, level, level_name,"
                               " stat.ID, item.ID; write {{ and }} for braces",
                               suggestion=_closest_variable(name, content))


def _closest_variable(name: str, content: Content) -> str | None:
    """`{stat.corage}` -> `{stat.courage}`, `{pionts}` -> `{points}`."""
    prefix, _, ident = name.partition(".")
    if prefix in ("stat", "item") and ident:
        near = closest(ident, content.stats if prefix == "stat" else content.items)
        return f"{{{prefix}.{near}}}" if near else None
    known = [*SIMPLE_VARIABLES, *(f"stat.{s}" for s in content.stats),
             *(f"item.{i}" for i in content.items)]
    near = closest(name, known)
    return f"{{{near}}}" if near else None


@check
def unknown_locales(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    declared = content.manifest.locales
    for what, text in texts(content):
        for locale, _ in text.by_locale:
            if locale not in declared:
                yield diag("R007", f"{what} is given in locale `{locale}`, which the manifest"
                           " does not declare", text.loc,
                           f"declared locales: {', '.join(declared)}",
                           suggestion=closest(locale, declared))
