"""Declared things nobody uses, and used things nothing provides."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator

from engine.catalog import diag
from engine.diagnostics import Diagnostic, Loc
from engine.lint.registry import check
from engine.load import LoadResult
from engine.model import All, AnyOf, Compare, Content, Has, Not, Requirement
from engine.suggest import closest
from engine.text import variables
from engine.walk import effects, requirement_roots, requirements, texts

_OPS: dict[str, Callable[[float, float], bool]] = {
    "gte": operator.ge, "gt": operator.gt, "lte": operator.le, "lt": operator.lt,
    "eq": operator.eq, "ne": operator.ne,
}


@check
def never_unlocked(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    unlocked = {e.target for _, e in effects(content) if e.kind == "unlock"}
    for a in content.achievements.values():
        if a.id not in unlocked:
            yield diag("U001", f"nothing unlocks achievement `{a.id}`", a.loc,
                       "add `unlock: " + a.id + "` to a rule or an effect")


@check
def flags(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    set_at: dict[str, Loc] = {}
    for _, e in effects(content):
        if e.kind == "set" and e.target:
            set_at.setdefault(e.target, e.target_loc)
    read_at: dict[str, Loc] = {}
    for _, r in requirements(content):
        if isinstance(r, Has) and r.subject == "flag":
            read_at.setdefault(r.ref, r.loc)
    listens_to_all = False
    for rule in content.rules:
        if rule.event == "flag":
            flag = dict(rule.filters).get("flag")
            if isinstance(flag, str):
                read_at.setdefault(flag, rule.loc)
            else:
                listens_to_all = True
    for fid, loc in sorted(read_at.items()):
        flag = content.flags.get(fid)
        if fid not in set_at and flag is not None and not flag.initial:
            yield diag("U002", f"flag `{fid}` is read but nothing sets it", loc,
                       f"add `set: {fid}` to an effect, or declare it `initial: true`")
    for fid, loc in sorted(set_at.items()):
        if fid not in read_at and fid in content.flags and not listens_to_all:
            yield diag("U003", f"flag `{fid}` is set but nothing reads it", loc,
                       f"read it with `{{flag: {fid}}}` or remove it")


def _needs_some(r: Compare) -> bool:
    """Does the comparison fail for a count of 0 (so it needs at least one item)?"""
    return not all(_OPS[op](0, n) for op, n in r.cmp)


def _item_needs(req: Requirement, negated: bool = False) -> Iterator[Compare]:
    """Item comparisons a player can only satisfy by holding the item: `{item: x}` needs
    it, `{not: {item: x}}` and `{item: {id: x, lte: 0}}` do not."""
    if isinstance(req, All | AnyOf):
        for r in req.items:
            yield from _item_needs(r, negated)
    elif isinstance(req, Not):
        yield from _item_needs(req.item, not negated)
    elif isinstance(req, Compare) and req.subject == "item" and _needs_some(req) != negated:
        yield req


@check
def items_never_given(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    given = {e.target for _, e in effects(content) if e.kind == "give"}
    reported: set[str] = set()
    for owner, root in requirement_roots(content):
        for r in _item_needs(root):
            if r.ref not in given and r.ref in content.items and r.ref not in reported:
                reported.add(r.ref)
                yield diag("U004", f"{owner} requires item `{r.ref}` but nothing gives it",
                           r.loc, f"add `give: {r.ref}` to an effect, or remove the requirement")


_WRITES = {"give": "item", "take": "item", "stat": "stat"}


def _reads(content: Content, unread: set[tuple[str, str]]) -> tuple[set[tuple[str, str]], set[str]]:
    """Which of `unread` ((kind, id) of stats and items) something reads, and the kinds a
    rule reads every change of (`when: {event: stat}` with no `stat:` filter)."""
    read: set[tuple[str, str]] = set()
    for _, r in requirements(content):
        if isinstance(r, Compare) and r.subject in ("stat", "item") and r.ref is not None:
            read.add((r.subject, r.ref))
    every: set[str] = set()
    for rule in content.rules:
        if rule.event in ("stat", "item"):
            ref = dict(rule.filters).get(rule.event)
            if isinstance(ref, str):
                read.add((rule.event, ref))
            else:
                every.add(rule.event)
    left = {(k, i) for k, i in unread if (k, i) not in read and k not in every}
    if left:  # only then look through every text, the costly part on a long story
        for _, text in texts(content):
            for _, template in text.by_locale:
                if "{stat." not in template and "{item." not in template:
                    continue
                for name in variables(template):
                    kind, _, ident = name.partition(".")
                    read.add((kind, ident))
                    left.discard((kind, ident))
            if not left:
                break
    return read, every


@check
def never_read(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    """A declared stat or item that effects change but nothing reads: the change shows
    nowhere in the story, which is most often a misspelt id on the reading side."""
    written: dict[tuple[str, str], Loc] = {}
    for _, e in effects(content):
        kind = _WRITES.get(e.kind)
        if kind is not None and e.target:
            written.setdefault((kind, e.target), e.target_loc)
    if not written:
        return
    read, every = _reads(content, set(written))
    for (kind, ident), loc in sorted(written.items(), key=lambda kv: (kv[1], kv[0])):
        declared = content.stats if kind == "stat" else content.items
        if ident in declared and (kind, ident) not in read and kind not in every:
            others = [i for i in declared if i != ident and (kind, i) in read]
            verb = "changed" if kind == "stat" else "given or taken"
            test = f"{{stat: {{id: {ident}, gte: 1}}}}" if kind == "stat" else f"{{item: {ident}}}"
            yield diag("U005", f"{kind} `{ident}` is {verb} but nothing reads it", loc,
                       f"read it with `{test}` or `{{{kind}.{ident}}}` in a text, or remove it",
                       suggestion=closest(ident, others))
