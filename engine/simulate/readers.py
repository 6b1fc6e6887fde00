"""What reads each part of the story state, and from where: so that the explored key keeps
a flag, item, stat or visit count only while something that can still run reads it.

A *reader* is a requirement (a choice's `requires`, an effect's or rule's `if`) or a rule
listening to a variable's events. It runs at a fragment (a choice's or a fragment's) or,
for a rule, wherever its event happens. Before the next restart the player can only enter
the fragments a move leads to (`reach`, over-approximated on the story graph), and a
`once` rule that fired never runs again; a restart resets the story part of the state
before anything reads it. So at fragment `here`, with `fired` once rules fired, a variable
whose every reader sits at a fragment outside `reach[here] ∪ {here}` or in a fired `once`
rule can never be read again: its value cannot change the future (see docs/simulate.md).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.model import Compare, Comparison, Content, Effect, Has, Requirement
from engine.requirements import compare
from engine.walk import requirement_nodes

Var = tuple[str, str]  # ("flag" | "item" | "stat" | "visits", id), or ("count", "")
COUNT: Var = ("count", "")  # how many fragments were visited (`visited_count`)


@dataclass(frozen=True)
class Reader:
    var: Var
    where: str | None  # the fragment it runs at; None: a rule, wherever its event happens
    once_rule: str | None = None  # a `once` rule: dead once it fired
    cmp: Comparison = ()  # for numbers: what it compares with


def _requirement_reads(req: Requirement | None) -> Iterable[tuple[Var, Comparison]]:
    for node in requirement_nodes(req):
        if isinstance(node, Has) and node.subject == "flag":
            yield ("flag", node.ref), ()
        elif isinstance(node, Compare) and node.subject in ("item", "stat") and node.ref:
            yield (node.subject, node.ref), node.cmp
        elif isinstance(node, Compare) and node.subject == "visited" and node.ref:
            yield ("visits", node.ref), node.cmp
        elif isinstance(node, Compare) and node.subject == "visited_count":
            yield COUNT, node.cmp
        if isinstance(node, Compare):  # the other side of a comparison between stats
            yield from ((("stat", v.stat), ()) for v in node.refs())


def _effect_reads(e: Effect) -> Iterable[tuple[Var, Comparison]]:
    """What an effect reads: its `if`, and the stats its operand is computed from
    (`add: {stat: loot}` reads loot wherever the effect can run)."""
    yield from _requirement_reads(e.cond)
    yield from ((("stat", v.stat), ()) for v in e.refs())


def readers(content: Content) -> list[Reader]:
    """Every reader of a story variable (paragraph conditions and interpolation change only
    text: they are not readers)."""
    out: list[Reader] = []
    for f in content.fragments.values():
        for c in (*f.choices, *((f.input.choice,) if f.input else ())):
            for var, cmp in _requirement_reads(c.requires):
                out.append(Reader(var, f.id, None, cmp))
            for e in c.effects:
                for var, cmp in _effect_reads(e):
                    out.append(Reader(var, f.id, None, cmp))
        for e in (*f.on_enter, *f.on_first_enter):
            for var, cmp in _effect_reads(e):
                out.append(Reader(var, f.id, None, cmp))
        if f.on_first_enter:  # whether it is a first visit
            out.append(Reader(("visits", f.id), f.id, None, (("gte", 1),)))
    for r in content.rules:
        once = r.id if r.once else None
        for var, cmp in _requirement_reads(r.cond):
            out.append(Reader(var, None, once, cmp))
        for e in r.then:
            for var, cmp in _effect_reads(e):
                out.append(Reader(var, None, once, cmp))
        filters = dict(r.filters)
        for kind, plural in (("flag", content.flags), ("item", content.items),
                             ("stat", content.stats)):
            if r.event == kind:
                heard = [filters[kind]] if kind in filters else list(plural)
                out.extend(Reader((kind, v), None, once) for v in heard)
    return out


@dataclass
class Liveness:
    """Which variables something can still read, at a fragment with some once rules
    fired."""

    reach: dict[str, frozenset[str]]
    static: dict[str, frozenset[Var]] = field(default_factory=dict)  # here -> vars
    by_once: dict[str, frozenset[Var]] = field(default_factory=dict)  # once rule -> vars
    count_static: dict[str, tuple[Comparison, ...]] = field(default_factory=dict)
    count_once: dict[str, tuple[Comparison, ...]] = field(default_factory=dict)
    once_rules: frozenset[str] = frozenset()
    _cache: dict[tuple[str, tuple[str, ...]], tuple[frozenset[Var], tuple[Comparison, ...]]] = (
        field(default_factory=dict))

    @classmethod
    def of(cls, content: Content, reach: dict[str, frozenset[str]]) -> Liveness:
        rs = readers(content)
        live = cls(reach)
        anywhere = {r.var for r in rs if r.where is None and r.once_rule is None}
        count_anywhere = tuple(r.cmp for r in rs
                               if r.var == COUNT and r.where is None and r.once_rule is None)
        at: dict[str, set[Var]] = {}
        count_at: dict[str, list[Comparison]] = {}
        by_once: dict[str, set[Var]] = {}
        count_once: dict[str, list[Comparison]] = {}
        for r in rs:
            if r.where is not None:
                at.setdefault(r.where, set()).add(r.var)
                if r.var == COUNT:
                    count_at.setdefault(r.where, []).append(r.cmp)
            elif r.once_rule is not None:
                by_once.setdefault(r.once_rule, set()).add(r.var)
                if r.var == COUNT:
                    count_once.setdefault(r.once_rule, []).append(r.cmp)
        for fid in content.fragments:
            near = reach[fid] | {fid}
            live.static[fid] = frozenset(anywhere.union(*(at.get(g, ()) for g in near)))
            live.count_static[fid] = count_anywhere + tuple(
                cmp for g in sorted(near) for cmp in count_at.get(g, ()))
        live.by_once = {k: frozenset(v) for k, v in by_once.items()}
        live.count_once = {k: tuple(v) for k, v in count_once.items()}
        live.once_rules = frozenset(by_once)
        return live

    def at(self, here: str, fired: Iterable[str]) -> tuple[frozenset[Var], tuple[Comparison, ...]]:
        """The variables something can still read, and the comparisons of `visited_count`
        still to be made, at `here` with `fired` once rules fired."""
        k = (here, tuple(fired))
        hit = self._cache.get(k)
        if hit is None:
            pending = self.once_rules.difference(fired)
            counts = {*self.count_static[here],
                      *(cmp for r in pending for cmp in self.count_once.get(r, ()))}
            hit = (self.static[here].union(*(self.by_once[r] for r in pending)),
                   tuple(sorted(counts)))
            self._cache[k] = hit
        return hit


@functools.lru_cache(maxsize=65_536)
def decided(low: int, high: int, comparisons: tuple[Comparison, ...]) -> bool:
    """Whether every comparison answers alike for every count from `low` to `high`."""
    for cmp in comparisons:
        top = max((int(n) + 1 for _, n in cmp), default=0)
        first = compare(low, cmp)
        for v in range(low + 1, min(high, top) + 1):
            if compare(v, cmp) != first:
                return False
    return True
