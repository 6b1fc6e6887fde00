"""What every simulation mode shares: the canonical state key, the moves from a state, the
targets an outcome hits, and paths (the choice sequences that witnesses and replays are).

A *path* is a tuple of steps from a new player's `Start`: `"FRAGMENT.CHOICE"` takes a choice
(the fragment is where the player must be), `"restart"` restarts at an ending. Steps never
collide: every choice step has a dot, `restart` has none.

A *target* is a string naming something a simulation can reach: `fragment:ID`,
`ending:ID`, `choice:FRAGMENT.CHOICE`, `achievement:ID`, `rule:ID`; goals may also name
`points:N` (a balance of at least N).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from engine.game import Game
from engine.model import Compare, Content, Has
from engine.state import State, new_state
from engine.step import Choose, Outcome, Restart, Start, step
from engine.walk import effects, requirement_nodes

RESTART = "restart"
TARGET_KINDS = ("fragment", "ending", "choice", "achievement", "rule")


# ---- the canonical key ----------------------------------------------------------------


def _cap(cmp: Iterable[tuple[str, float]]) -> int:
    """The smallest K such that every value >= K compares the same against `cmp`."""
    return max((math.floor(n) + 1 for _, n in cmp), default=1)


def _transition_requirements(content: Content):
    """Requirement nodes that can change what happens next: choices' `requires`, rules'
    and effects' `if`. (Paragraph conditions only change text.)"""
    for f in content.fragments.values():
        for c in f.choices:
            yield from requirement_nodes(c.requires)
    for r in content.rules:
        yield from requirement_nodes(r.cond)
    for _, e in effects(content):
        yield from requirement_nodes(e.cond)


@dataclass(frozen=True)
class Abstraction:
    """Which parts of a state can change the future, and how finely.

    Exact: two states with equal keys have the same future under every action sequence
    (same outcomes, same hits). Left out: the ledger, `unlocks`, turn and playthrough
    counters (the playthrough only when `playthrough_limit` is set, since it bounds the
    future), the player's name and locale, the content version and the day (one undated
    day throughout). Coarsened: visit counts (see `visits_key`), `earned` (beyond the top
    level threshold nothing changes), `day_points` (beyond the daily cap nothing changes),
    points (only when no cost or spend exists: beyond the largest points constant),
    `draws` (dropped when the story uses no randomness), achievements, endings, fired
    rules and once-choices taken (sets: order does not matter)."""

    relevant_visits: dict[str, int]  # fragment -> cap on its visit count
    visited_count_cap: int  # 0: no requirement counts visited fragments
    earned_cap: int
    points_cap: int | None  # None: exact
    day_cap: int | None
    random: bool
    playthrough_limit: int | None

    @classmethod
    def of(cls, content: Content, playthrough_limit: int | None = None) -> Abstraction:
        visits: dict[str, int] = {}
        count_cap = 0
        points_consts: list[int] = [0]
        for node in _transition_requirements(content):
            if isinstance(node, Compare):
                if node.subject == "visited" and node.ref:
                    visits[node.ref] = max(visits.get(node.ref, 1), _cap(node.cmp))
                elif node.subject == "visited_count":
                    count_cap = max(count_cap, _cap(node.cmp))
                elif node.subject == "points":
                    points_consts.append(_cap(node.cmp))
        spends = False
        random = False
        for f in content.fragments.values():
            if f.on_first_enter:
                visits.setdefault(f.id, 1)
            for c in f.choices:
                spends = spends or c.cost > 0
                random = random or len(c.targets) > 1
        for _, e in effects(content):
            spends = spends or e.kind == "spend"
            random = random or e.chance is not None
        levels = content.manifest.levels
        return cls(
            relevant_visits=visits,
            visited_count_cap=count_cap,
            earned_cap=max((lv.points for lv in levels), default=0),
            points_cap=None if spends else max(points_consts),
            day_cap=content.manifest.daily_points,
            random=random,
            playthrough_limit=playthrough_limit,
        )

    def visits_key(self, visits: dict[str, int]) -> tuple:
        """Counts of the fragments some requirement or `on_first_enter` reads, each capped
        where comparisons stop telling values apart; and, while a `visited_count`
        requirement can still change its answer, the set of the other fragments visited
        (it decides whether a later visit adds to the count)."""
        rel = self.relevant_visits
        counted = tuple(sorted((f, min(n, rel[f])) for f, n in visits.items() if f in rel))
        if self.visited_count_cap and len(visits) < self.visited_count_cap:
            return counted, frozenset(f for f in visits if f not in rel)
        return counted, None

    def key(self, s: State) -> tuple:
        points = s["points"] if self.points_cap is None else min(s["points"], self.points_cap)
        return (
            s["fragment"],
            tuple(s["flags"]),
            tuple(sorted(s["items"].items())),
            tuple(sorted(s["stats"].items())),
            self.visits_key(s["visits"]),
            frozenset(s["taken"]),
            points,
            min(s["earned"], self.earned_cap),
            None if self.day_cap is None else min(s["day_points"], self.day_cap),
            frozenset(s["achievements"]),
            frozenset(s["endings"]),
            frozenset(s["fired"]),
            s["draws"] if self.random else None,
            s["playthrough"] if self.playthrough_limit is not None else None,
        )


def auto_playthroughs(content: Content) -> int:
    """Enough playthroughs for every requirement on endings to be met: an `{ending: X}`
    test needs a second playthrough, `{endings_count: {gte: N}}` an (N+1)-th."""
    need = 1
    for node in _transition_requirements(content):
        if isinstance(node, Has) and node.subject == "ending":
            need = max(need, 2)
        elif isinstance(node, Compare) and node.subject == "endings_count":
            need = max(need, _cap(node.cmp))
    return need


# ---- moves and hits -------------------------------------------------------------------


def begin(game: Game, role: str | None = None, seed: int = 0,
          locale: str | None = None) -> Outcome:
    return step(game, new_state(game.content, role=role, seed=seed, locale=locale), Start())


def available(outcome: Outcome) -> list[str]:
    """Choice ids the player can take now (from the screen the step rendered)."""
    screen = outcome.screen
    return [c.id for c in screen.choices if c.available] if screen is not None else []


def action_of(step_: str):
    return Restart() if step_ == RESTART else Choose(step_.rpartition(".")[2])


def hits(outcome: Outcome, step_: str | None = None) -> Iterator[str]:
    """The targets an outcome reaches (the step that produced it, for `choice:` targets)."""
    if step_ is not None and step_ != RESTART:
        yield f"choice:{step_}"
    for e in outcome.events:
        if e.type == "enter":
            yield f"fragment:{dict(e.fields)['fragment']}"
        elif e.type == "ending":
            yield f"ending:{dict(e.fields)['fragment']}"
    for a in outcome.applied:
        if a.kind == "unlock":
            yield f"achievement:{a.target}"
    for f in outcome.firings:
        yield f"rule:{f.rule}"


def all_targets(content: Content) -> list[str]:
    out = [f"fragment:{f}" for f in content.fragments]
    out += [f"ending:{f.id}" for f in content.fragments.values() if f.ending]
    out += [f"choice:{f.id}.{c.id}" for f in content.fragments.values() for c in f.choices]
    out += [f"achievement:{a}" for a in content.achievements]
    out += [f"rule:{r.id}" for r in content.rules]
    return out


def parse_target(text: str, content: Content) -> str:
    """Check a goal target; raises ValueError with a reason."""
    kind, sep, ref = text.partition(":")
    if not sep or not ref:
        raise ValueError(f"a target is KIND:ID (ending:X, achievement:Y, fragment:Z, "
                         f"choice:F.C, rule:R, points:N), not `{text}`")
    if kind == "points":
        try:
            int(ref)
        except ValueError:
            raise ValueError(f"points:N needs a whole number, not `{ref}`") from None
        return f"points:{int(ref)}"
    if kind not in TARGET_KINDS:
        raise ValueError(f"unknown target kind `{kind}` (use ending, achievement, fragment, "
                         "choice, rule or points)")
    if text not in set(all_targets(content)):
        raise ValueError(f"the story has no {kind} `{ref}`")
    return text


def reached(target: str, outcome: Outcome, step_: str | None) -> bool:
    if target.startswith("points:"):
        return outcome.state["points"] >= int(target[7:])
    return target in set(hits(outcome, step_))


@dataclass(frozen=True)
class Witness:
    """How to reach something: play `steps` as a player of `role` with `seed`. `minimal`
    when breadth-first search found it (no shorter path exists for that role and seed)."""

    role: str
    seed: int
    steps: tuple[str, ...]
    minimal: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role, "seed": self.seed, "steps": list(self.steps),
                "length": len(self.steps), "minimal": self.minimal}

    def better_than(self, other: Witness | None) -> bool:
        if other is None:
            return True
        return (not other.minimal and self.minimal) or (
            self.minimal == other.minimal and len(self.steps) < len(other.steps))
