"""The explored state: which parts of a player's state can change the future, and how
finely (`Abstraction`); the story graph it reasons with; and, for reports, the variables a
key keeps by name.

The argument that equal keys mean equal futures is in docs/simulate.md ("What 'proven'
means"); each coarsening below says which reads it answers alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from engine.model import Compare, Comparison, Content, Has
from engine.simulate.readers import Liveness, Var, decided
from engine.state import State
from engine.walk import effects, requirement_nodes


def cap_of(cmp: Iterable[tuple[str, float]]) -> int:
    """The smallest K such that every value >= K compares the same against `cmp`."""
    return max((math.floor(n) + 1 for _, n in cmp), default=1)


def transition_requirements(content: Content):
    """Requirement nodes that can change what happens next: choices' `requires`, rules'
    and effects' `if`. (Paragraph conditions only change text.)"""
    for f in content.fragments.values():
        for c in f.choices:
            yield from requirement_nodes(c.requires)
    for r in content.rules:
        yield from requirement_nodes(r.cond)
    for _, e in effects(content):
        yield from requirement_nodes(e.cond)


def successors(content: Content) -> dict[str, set[str]]:
    """The story graph: for each fragment, the fragments one action from it can enter.
    Moves are choices' targets and `goto` effects; a rule's `goto` can fire after any
    event, so its target is a move from everywhere. Requirements are ignored: it
    over-approximates, which is the safe side for every use."""
    everywhere = {e.target for o, e in effects(content)
                  if e.kind == "goto" and o.rule is not None and e.target}
    everywhere.update(content.menus)  # a menu opens from any page
    succ: dict[str, set[str]] = {}
    for f in content.fragments.values():
        out = set(everywhere)
        for c in (*f.choices, *((f.input.choice,) if f.input else ())):
            out.update(t.to for t in c.targets)
            out.update(e.target for e in c.effects if e.kind == "goto" and e.target)
        out.update(e.target for e in (*f.on_enter, *f.on_first_enter)
                   if e.kind == "goto" and e.target)
        succ[f.id] = {t for t in out if t in content.fragments}
    return succ


def _reach(content: Content) -> dict[str, frozenset[str]]:
    """For each fragment, the fragments a move from it can lead to, in any number of moves
    (not itself unless a cycle leads back): what it leaves out can never be entered again
    before a restart."""
    succ = successors(content)
    reach: dict[str, frozenset[str]] = {}
    for fid in content.fragments:
        seen: set[str] = set()
        todo = list(succ[fid])
        while todo:
            g = todo.pop()
            if g not in seen:
                seen.add(g)
                todo.extend(succ[g])
        reach[fid] = frozenset(seen)
    return reach


def _read_story_variables(content: Content) -> tuple[set[str], set[str], set[str]]:
    """The flags, items and stats something can read: a requirement that decides a move (a
    choice's `requires`, a rule's or effect's `if`) or a rule listening to their events.
    Paragraph conditions and interpolation change only text."""
    flags: set[str] = set()
    items: set[str] = set()
    stats: set[str] = set()
    for node in transition_requirements(content):
        if isinstance(node, Has) and node.subject == "flag":
            flags.add(node.ref)
        elif isinstance(node, Compare) and node.subject == "item" and node.ref:
            items.add(node.ref)
        elif isinstance(node, Compare) and node.subject == "stat" and node.ref:
            stats.add(node.ref)
        if isinstance(node, Compare):  # the other side of a comparison between stats
            stats.update(v.stat for v in node.refs())
    for r in content.rules:
        filters = dict(r.filters)
        if r.event == "flag":
            flags.update([filters["flag"]] if "flag" in filters else content.flags)
        elif r.event == "item":
            items.update([filters["item"]] if "item" in filters else content.items)
        elif r.event == "stat":
            stats.update([filters["stat"]] if "stat" in filters else content.stats)
    # a stat read from another (`add: {stat: loot}`) passes on the need: loot decides too
    feeds = [(e.target, {v.stat for v in e.refs()}) for _, e in effects(content)
             if e.kind == "stat" and e.refs()]
    grew = True
    while grew:
        grew = False
        for target, sources in feeds:
            if target in stats and not sources <= stats:
                stats |= sources
                grew = True
    return flags, items, stats


def _rising_caps(content: Content) -> dict[tuple[str, str], int]:
    """Items and stats that can only go up, with the value from which every comparison of
    the story answers alike: (kind, id) -> cap.

    An item qualifies when nothing takes it: a `give` adds the same whatever the count (and
    raises the same event), so counts at or above the cap stay there and compare alike.
    A stat qualifies when every change is an `add` of a non-negative amount or a `set`, and
    no rule listens to its events: a rule could tell an add that moved the value from one
    stopped by the stat's `max` (no event), which the cap does not keep. (Totals stay far
    below the engine's bound of 10^18, where a `give` would add less.)"""
    consts: dict[tuple[str, str], list[tuple[str, float]]] = {}
    falls: set[tuple[str, str]] = set()
    for node in transition_requirements(content):
        if isinstance(node, Compare) and node.dynamic:
            # compared with another stat: both sides matter exactly
            falls.update(("stat", sid) for sid in (node.ref, *(v.stat for v in node.refs())))
        elif isinstance(node, Compare) and node.subject in ("item", "stat") and node.ref:
            consts.setdefault((node.subject, node.ref), []).extend(node.cmp)
    read_stats = _read_story_variables(content)[2]
    for _, e in effects(content):
        # an operand read from another stat, a product or a clamp may lower the value, and
        # when that value is read, the stats it is computed from decide exactly how much
        if e.target in read_stats:
            falls.update(("stat", v.stat) for v in e.refs())
        if e.kind == "stat" and e.target and (e.op in ("mul", "clamp") or e.source):
            falls.add(("stat", e.target))
        if e.kind == "take" and e.target:
            falls.add(("item", e.target))
        # (no op is a `set`: its result does not depend on the value before)
        elif e.kind == "stat" and e.target and (
                (e.op == "sub" and e.amount > 0) or (e.op == "add" and e.amount < 0)):
            falls.add(("stat", e.target))
    for r in content.rules:
        if r.event == "stat":
            filters = dict(r.filters)
            heard = [filters["stat"]] if "stat" in filters else list(content.stats)
            falls.update(("stat", sid) for sid in heard)
    caps: dict[tuple[str, str], int] = {}
    for sid in content.stats:
        if ("stat", sid) not in falls:
            caps[("stat", sid)] = cap_of(consts.get(("stat", sid), []))
    for iid in content.items:
        if ("item", iid) not in falls:
            caps[("item", iid)] = cap_of(consts.get(("item", iid), []))
    return caps


# Coarsenings that can be switched off, to measure what each buys (bench/simulate_bench.py):
# `live` drops flags, items, stats and visit counts nothing can still read, `count` drops
# the number of fragments visited once no `visited_count` comparison can change its answer.
REDUCTIONS = ("live", "count")


@dataclass(frozen=True)
class Abstraction:
    """Which parts of a state can change the future, and how finely.

    Exact: two states with equal keys have the same future under every action sequence
    (same outcomes, same hits), for every seed. Left out: the ledger, `unlocks`, turn and
    playthrough counters (the playthrough only when `playthrough_limit` is set, since it
    bounds the future), the player's name, locale and seed, the draw counter (the search
    tries every outcome of every draw), the content version and the day (one undated day
    throughout, so the points awarded today are the points earned); flags, items, stats
    and visit counts nothing can still read (`readers.Liveness`), strings nothing reads; at
    an ending, the story part of the state (a restart resets it before anything reads it).
    Coarsened: visit counts and once-choices taken (see `visits_key`, `taken_key`),
    `earned` (beyond the top level threshold and the daily cap nothing changes), points
    (only when no cost or spend exists: beyond the largest points constant), achievements,
    endings, fired rules (sets: order does not matter)."""

    relevant_visits: dict[str, int]  # fragment -> cap on its visit count
    visited_count_cap: int  # 0: no requirement counts visited fragments
    earned_cap: int
    points_cap: int | None  # None: exact
    day_cap: int | None
    playthrough_limit: int | None
    reach: dict[str, frozenset[str]]
    once_choices: dict[str, frozenset[str]]  # fragment -> once-choices it or a move reaches
    read_flags: frozenset[str]
    read_items: frozenset[str]
    read_stats: frozenset[str]
    endings: frozenset[str]
    # string variables a requirement that decides a move tests (each has a finite domain:
    # an enum's values, or free text's initial value and samples)
    read_strings: frozenset[str]
    # items and stats that only go up, each capped where comparisons stop telling values
    # apart (see `_rising_caps`); the others read are kept exactly
    caps: dict[tuple[str, str], int]
    live: Liveness
    menus: frozenset[str] = frozenset()  # in a menu, the key keeps the page it returns to
    off: frozenset[str] = frozenset()  # REDUCTIONS switched off

    @classmethod
    def of(cls, content: Content, playthrough_limit: int | None = None,
           off: Iterable[str] = ()) -> Abstraction:
        visits: dict[str, int] = {}
        count_cap = 0
        points_consts: list[int] = [0]
        for node in transition_requirements(content):
            if isinstance(node, Compare):
                if node.subject == "visited" and node.ref:
                    visits[node.ref] = max(visits.get(node.ref, 1), cap_of(node.cmp))
                elif node.subject == "visited_count":
                    count_cap = max(count_cap, cap_of(node.cmp))
                elif node.subject == "points":
                    points_consts.append(cap_of(node.cmp))
        spends = False
        for f in content.fragments.values():
            if f.on_first_enter:
                visits.setdefault(f.id, 1)
            for c in f.choices:
                spends = spends or c.cost > 0
        for _, e in effects(content):
            spends = spends or e.kind == "spend"
        levels = content.manifest.levels
        reach = _reach(content)
        once = {f.id: frozenset(f"{f.id}.{c.id}" for c in f.choices if c.once)
                for f in content.fragments.values()}
        flags, items, stats = _read_story_variables(content)
        day_cap = content.manifest.daily_points
        return cls(
            caps=_rising_caps(content),
            relevant_visits=visits,
            visited_count_cap=count_cap,
            # In one undated day the points awarded today are the points earned: past the
            # top level's threshold they only measure the room left under the daily cap.
            earned_cap=max(max((lv.points for lv in levels), default=0), day_cap or 0),
            points_cap=None if spends else max(points_consts),
            day_cap=day_cap,
            playthrough_limit=playthrough_limit,
            reach=reach,
            once_choices={fid: once[fid].union(*(once[g] for g in reach[fid]))
                          for fid in content.fragments},
            read_flags=frozenset(flags),
            read_items=frozenset(items),
            read_stats=frozenset(stats),
            endings=frozenset(f.id for f in content.fragments.values() if f.ending),
            menus=frozenset(content.menus),
            read_strings=frozenset(node.ref for node in transition_requirements(content)
                                   if isinstance(node, Compare) and node.subject == "string"
                                   and node.ref),
            live=Liveness.of(content, reach),
            off=frozenset(off),
        )

    def visits_key(self, here: str, visits: dict[str, int], live: frozenset[Var],
                   counts: tuple[Comparison, ...]) -> tuple:
        """Counts of the fragments a live reader (a requirement or `on_first_enter`) reads,
        each capped where comparisons stop telling values apart; and, while a live
        `visited_count` comparison can still change its answer, how many fragments were
        visited and which of the others a move can still enter (only those decide whether
        a later entrance adds to the count)."""
        rel = self.relevant_visits
        everything = "live" in self.off
        counted = tuple(sorted((f, min(n, rel[f])) for f, n in visits.items()
                               if f in rel and (everything or ("visits", f) in live)))
        if "count" in self.off:
            if not self.visited_count_cap or len(visits) >= self.visited_count_cap:
                return counted, None
        elif not counts:
            return counted, None
        else:
            # Before a restart the count only grows, by at most the fragments a move can
            # still enter that were not visited: if no comparison left changes its answer
            # over that range, the count can no longer change the future.
            n = len(visits)
            ahead = self.reach[here]
            if decided(n, n + len(ahead), counts) or decided(
                    n, n + len(ahead) - len(ahead.intersection(visits)), counts):
                return counted, None
        ahead = self.reach[here]
        kept = {f for f, _ in counted}
        return counted, len(visits), frozenset(
            f for f in visits if f not in kept and f in ahead)

    def key(self, s: State) -> tuple:
        points = s["points"] if self.points_cap is None else min(s["points"], self.points_cap)
        here = s["fragment"]
        # in a menu, the page it returns to decides the future as much as the menu does
        back = s.get("menu_from") if here in self.menus else None
        if here in self.endings or back in self.endings:
            story: tuple = ()
        else:
            place = back or here  # a menu returns to its page: the future is the page's
            taken = self.once_choices[here] | self.once_choices.get(place, frozenset())
            caps = self.caps
            if "live" in self.off:
                live = frozenset(
                    [("flag", f) for f in self.read_flags] + [("item", i) for i in self.read_items]
                    + [("stat", v) for v in self.read_stats])
                counts = self.live.at(place, s["fired"])[1]
            else:
                live, counts = self.live.at(place, s["fired"])
            story = (
                tuple(f for f in s["flags"] if ("flag", f) in live),
                tuple(sorted((i, min(n, caps.get(("item", i), n)))
                             for i, n in s["items"].items() if ("item", i) in live)),
                tuple(sorted((i, min(v, caps.get(("stat", i), v)))
                             for i, v in s["stats"].items() if ("stat", i) in live)),
                self.visits_key(place, s["visits"], live, counts),
                frozenset(t for t in s["taken"] if t in taken),
                tuple(sorted((v, t) for v, t in (s.get("strings") or {}).items()
                             if v in self.read_strings)),
            )
        return (
            (here, back) if back else here,
            story,
            points,
            min(s["earned"], self.earned_cap),
            None,  # points today: the points earned (one undated day)
            frozenset(s["achievements"]),
            frozenset(s["endings"]),
            frozenset(s["fired"]),
            s["playthrough"] if self.playthrough_limit is not None else None,
        )



# ---- what the key keeps, by name ---------------------------------------------------------


def key_variables(key: tuple) -> Iterator[tuple[str, Any]]:
    """The variables an `Abstraction.key` keeps, each with its value in that key: what the
    report counts when a bound cuts a search (the variables with the most distinct values
    are those that multiplied the states)."""
    here, story, points, earned, _, achievements, endings, fired, playthrough = key
    yield "fragment", here
    if story:
        flags, items, stats, visits, taken, strings = story
        yield "flags set", flags
        for item, n in items:
            yield f"item {item}", n
        for stat, v in stats:
            yield f"stat {stat}", v
        counted, *count = visits
        for fragment, n in counted:
            yield f"visits of {fragment}", n
        if count[0] is not None:
            yield "fragments visited (count)", count[0]
            yield "fragments visited (which, for visited_count)", tuple(count[1:])
        yield "once-choices taken", taken
        for var, text in strings:
            yield f"string {var}", text
    yield "points", points
    yield "points earned", earned
    yield "achievements", achievements
    yield "endings reached", endings
    yield "once rules fired", fired
    yield "playthrough", playthrough


# Keys the merge factors are measured over: enough to rank the variables, few enough to
# take a second or two at the end of a search of 100,000 states.
FACTOR_SAMPLE = 20_000


def multipliers(keys: Iterable[tuple], top: int = 12, weigh: int = 6
               ) -> list[tuple[str, int, float]]:
    """The variables that multiplied the states over `keys`, most first: (name, distinct
    values kept, factor). The factor is how many states the search would have merged into
    one had the key not kept that variable alone (states / distinct keys without it): a
    variable with many values that always move together with another multiplies nothing
    by itself. Only the `weigh` variables with the most values are weighed (the others
    get factor 1.0 and come after), over at most FACTOR_SAMPLE keys evenly spread over
    the search (a sample merges less than the whole, so a factor is a lower estimate);
    variables with one value multiply nothing and are left out."""
    values: dict[str, set[Any]] = {}
    rows = []
    keys = list(keys)
    every = -(-len(keys) // FACTOR_SAMPLE)  # weigh at most FACTOR_SAMPLE, evenly spread
    for i, k in enumerate(keys):
        row = tuple(key_variables(k))
        if i % every == 0:
            rows.append(row)
        for name, v in row:
            values.setdefault(name, set()).add(v)
    many = sorted(((n, len(v)) for n, v in values.items() if len(v) > 1 and n != "fragment"),
                  key=lambda x: (-x[1], x[0]))
    factors: dict[str, float] = {}
    for name, _ in many[:weigh]:
        rest = {tuple(x for x in row if x[0] != name) for row in rows}
        factors[name] = round(len(rows) / max(len(rest), 1), 2)
    ranked = sorted(((n, k, factors.get(n, 1.0)) for n, k in many),
                    key=lambda x: (-x[2], -x[1], x[0]))
    return ranked[:top]


def shown_values(content: Content) -> dict[str, list[str]]:
    """Values text interpolates ({points}, {stat.X}, {item.X}, {level}), each with where:
    they make pages differ but not futures, so the search does not keep them for that."""
    from engine.text import variables
    from engine.walk import texts

    out: dict[str, list[str]] = {}
    for where, text in texts(content):
        for raw in text.values():
            for name in variables(raw):
                if name in ("points", "level", "level_name") or name.startswith(("stat.", "item.")):
                    places = out.setdefault(name, [])
                    if where not in places:
                        places.append(where)
    return out
