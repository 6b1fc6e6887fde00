"""Exhaustive exploration: breadth-first search over player states, identical states merged.

`explore(game, ...)` searches from a new player's `Start`, trying every available choice at
every state and restarting at endings (up to `playthroughs` playthroughs), with states
merged by `Abstraction.key` (exact: merged states have the same future). Because the search
is breadth-first, the first path found to anything is a shortest one (for that role and
seed). It is run once per role and per seed and the results merged.

What it claims:

- *reachable* — always a proof: the witness path plays with the real step function;
- *unreachable*, *dead end*, *trap*, *never locks*, *never holds* — a proof only when the
  search is complete (`complete`: every state was expanded within `max_states`), and then
  only for the roles, seeds and playthrough count explored. When the bound is hit the
  report says so and claims none of them.

Randomness: a state carries its seed and draw counter, so with one seed every chance and
weighted pick has one outcome; `seeds` explores several seeds and merges what they reach.
When the bound is hit, a *probe* of least-used random runs looks for what the search did
not reach; what it finds has a witness marked `minimal: false`.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.game import Game
from engine.menus import inert
from engine.messages import say
from engine.requirements import holds, reason
from engine.simulate.abstraction import Abstraction, multipliers
from engine.simulate.core import (
    RESTART,
    Witness,
    action_of,
    answer_steps,
    auto_playthroughs,
    hits,
    menu_steps,
    reached,
    replays,
)
from engine.simulate.draws import Draws, Scripts, branches, find_seed
from engine.state import State, new_state
from engine.step import Outcome, Start


@dataclass
class ChoiceStats:
    """How a choice fared on the explored states of its fragment (where it was not a
    once-choice already taken)."""

    present: int = 0
    held: int = 0  # its `requires` held
    failed: int = 0  # its `requires` did not hold
    unaffordable: int = 0  # requirement held, cost above the balance
    held_witness: Witness | None = None
    failed_witness: Witness | None = None
    best_points: int = -1  # the most points on a state where it was locked
    best_reason: str | None = None


@dataclass
class FragmentStats:
    states: int = 0
    max_points: int = 0
    max_earned: int = 0


@dataclass
class Finding:
    kind: str  # dead-end | trap | runaway
    fragment: str
    message: str
    witness: Witness

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "fragment": self.fragment, "message": self.message,
                "witness": self.witness.to_json()}


@dataclass
class Exploration:
    """The merged result of the searches (one per role and seed)."""

    roles: tuple[str, ...]
    seeds: tuple[int, ...]
    playthroughs: int
    max_states: int
    states: int = 0
    transitions: int = 0
    complete: bool = True
    truncated: list[str] = field(default_factory=list)  # "role/seed" searches cut short
    witnesses: dict[str, Witness] = field(default_factory=dict)
    fragments: dict[str, FragmentStats] = field(default_factory=dict)
    choices: dict[str, ChoiceStats] = field(default_factory=dict)  # "F.C" -> stats
    findings: list[Finding] = field(default_factory=list)
    matched_rules: set[str] = field(default_factory=set)  # rules whose `when` matched
    hit_counts: dict[str, int] = field(default_factory=dict)  # target -> transitions
    probed: int = 0  # random runs of the probe
    chased: int = 0  # states of the directed searches for targets the probe missed
    # paths found whose draws no seed tried could give (a witness was not made for them)
    unconcretized: list[str] = field(default_factory=list)
    # targets the search reached only by such paths: reachable, but without a witness, so
    # never claimed unreachable
    unwitnessed: set[str] = field(default_factory=set)
    # when a bound cut a search: the variables that multiplied its states, with how many
    # distinct values it kept and how many states it would have merged without them
    multipliers: list[tuple[str, int, float]] = field(default_factory=list)
    # witnesses that did not reach their target when replayed (a bug in the search)
    failed_replays: list[str] = field(default_factory=list)

    def witness(self, target: str) -> Witness | None:
        return self.witnesses.get(target)

    def note(self, target: str, w: Witness) -> None:
        if w.better_than(self.witnesses.get(target)):
            self.witnesses[target] = w


def lock_reason(game: Game, state: State, fragment: str, choice_id: str) -> str:
    """The engine's words for why a choice is locked at `state`."""
    content = game.content
    c = content.fragments[fragment].choice(choice_id)
    assert c is not None
    locale = state["player"]["locale"]
    if c.requires is not None and not holds(c.requires, content, state):
        return reason(c.requires, content, state, locale)
    currency = content.manifest.currency.name.get(locale, content.manifest.default_locale)
    return say(locale, "cost", n=c.cost, have=state["points"], currency=currency)


# Paths to one target whose draws no seed tried could give, before the search stops
# trying (each try costs up to draws.SEED_TRIES hashes); and how many such paths a report
# lists.
SEED_SEARCHES = 3
MAX_UNCONCRETIZED = 20

Plan = tuple[tuple[str | None, Scripts], ...]  # (step, the draw intervals it may take)


def concrete(draws: Draws, role: str, seed: int, plan: Plan) -> Witness | None:
    """The witness of a path of the search: its steps, with a seed (from `seed` on) that
    makes every draw on the way fall where the path needs it; None if no seed was found."""
    found = find_seed(draws, [sc for _, sc in plan], seed)
    if found is None:
        return None
    return Witness(role, found, tuple(st for st, _ in plan if st is not None))


def _search(game: Game, ex: Exploration, role: str, seed: int, abstraction: Abstraction,
            max_states: int, goal: str | None, progress: Callable[[int], None] | None,
            distance: Callable[[State], tuple[float, int]] | None = None) -> Witness | None:
    """One search over every outcome of every draw: breadth first, or, with `distance`
    (an estimate of how far a state is from the goal), best first — the state of least
    estimate, then the shallowest. With a `goal`, stop at the first state reaching it and
    return its witness."""
    content = game.content
    fragments = content.fragments
    limit = ex.playthroughs
    key = abstraction.key
    draws = Draws.of(content)
    parents: list[int] = []
    via: list[tuple[str | None, Scripts]] = []
    seen: dict[tuple, int] = {}
    queue: deque[tuple[int, State]] = deque()
    frontier: list[tuple[tuple[float, int], int, int, State]] = []  # (estimate, depth, node)
    depth: list[int] = []
    edges: list[list[int]] = []
    ending_nodes: list[int] = []
    frag_of: list[str] = []
    dead: set[int] = set()
    dead_at: set[str] = set()  # fragments with a dead end reported
    local: set[str] = set()  # targets this search has a (shortest) witness for
    failed: dict[str, int] = {}  # target -> its paths no seed tried could give

    def plan(i: int) -> Plan:
        out = []
        while i >= 0:
            out.append(via[i])
            i = parents[i]
        return tuple(reversed(out))

    def witness(p: Plan) -> Witness | None:
        w = concrete(draws, role, seed, p)
        if w is None and len(ex.unconcretized) < MAX_UNCONCRETIZED:
            ex.unconcretized.append(" → ".join(st for st, _ in p if st) or "the start")
        return w

    def note_hits(outcome: Outcome, s: str | None, sc: Scripts, base: int
                  ) -> Witness | None:
        p = None
        for t in hits(outcome, s):
            ex.hit_counts[t] = ex.hit_counts.get(t, 0) + 1
            if t not in local and failed.get(t, 0) < SEED_SEARCHES:
                if p is None:
                    p = (*(plan(base) if base >= 0 else ()), (s, sc))
                w = witness(p)
                if w is not None:
                    local.add(t)
                    ex.note(t, w)
                else:
                    failed[t] = failed.get(t, 0) + 1
                    ex.unwitnessed.add(t)
        for e in outcome.events:
            for r in game.rules_for(e):
                ex.matched_rules.add(r.id)
        if goal is not None and reached(goal, outcome, s):
            w = witness((*(plan(base) if base >= 0 else ()), (s, sc)))
            if w is None:
                ex.unwitnessed.add(goal)
            return w
        return None

    def arrive(state: State) -> None:
        fs = ex.fragments.setdefault(state["fragment"], FragmentStats())
        fs.states += 1
        fs.max_points = max(fs.max_points, state["points"])
        fs.max_earned = max(fs.max_earned, state["earned"])

    def add(state: State, parent: int, move: tuple[str | None, Scripts]) -> int | None:
        """The node of `state`, new or merged; None when the bound stops a new one."""
        k = key(state)
        j = seen.get(k)
        if j is not None:
            return j
        if len(parents) >= max_states:
            return None
        j = len(parents)
        seen[k] = j
        parents.append(parent)
        via.append(move)
        edges.append([])
        frag_of.append(state["fragment"])
        depth.append(depth[parent] + 1 if parent >= 0 else 0)
        if distance is None:
            queue.append((j, state))
        else:
            heapq.heappush(frontier, (distance(state), depth[j], j, state))
        arrive(state)
        if progress is not None and j % 1000 == 999:
            progress(1000)
        return j

    def same(o: Outcome, step_: str | None = None) -> Hashable:
        """Outcomes the search tells apart: another next state, or other targets hit."""
        return (key(o.state), frozenset(hits(o, step_))) if o.ok else o.error

    for sc, start in branches(game, draws, new_state(content, role=role, seed=seed), Start(),
                              same):
        if not start.ok:  # e.g. a runaway chain on the start: there is nothing to explore
            err = start.error
            w = witness(((None, sc),))
            ex.findings.append(Finding(err.code if err else "error", content.manifest.start,
                                       f"the start fails: {err.message if err else 'error'}",
                                       w or Witness(role, seed, ())))
            continue
        found = note_hits(start, None, sc, -1)
        if found is not None:
            ex.states += 1
            return found
        add(start.state, -1, (None, sc))
    truncated = False
    inert_menus = {m for m in content.menus if inert(content, m)}
    opened: set[str] = set()
    while queue or frontier:
        if distance is None:
            idx, s = queue.popleft()
        else:
            _, _, idx, s = heapq.heappop(frontier)
        here = s["fragment"]
        frag = fragments[here]
        if frag.ending is not None:
            ending_nodes.append(idx)
            if limit and s["playthrough"] >= limit:
                continue
            moves = [RESTART]
        else:
            moves = []
            taken = s["taken"]
            for c in frag.choices:
                name = f"{here}.{c.id}"
                if c.once and name in taken:
                    continue
                cs = ex.choices.setdefault(name, ChoiceStats())
                cs.present += 1
                ok = True
                if c.requires is not None:
                    ok = holds(c.requires, content, s)
                    if ok:
                        cs.held += 1
                        if cs.held_witness is None:
                            cs.held_witness = witness(plan(idx))
                    else:
                        cs.failed += 1
                        if cs.failed_witness is None:
                            cs.failed_witness = witness(plan(idx))
                if ok and c.cost > s["points"]:
                    cs.unaffordable += 1
                    ok = False
                if ok:
                    moves.append(name)
                elif s["points"] > cs.best_points:
                    cs.best_points = s["points"]
                    cs.best_reason = lock_reason(game, s, here, c.id)
            moves += answer_steps(content, here)
            if not moves and frag.menu is None:  # a menu always has its way back
                dead.add(idx)
                if here not in dead_at:  # breadth first: the shortest path to one there
                    w = witness(plan(idx))
                    if w is not None:
                        dead_at.add(here)
                        ex.findings.append(Finding(
                            "dead-end", here, f"no choice is available at `{here}`", w))
            # (after the dead-end test: a menu and back leads nowhere new.) An inert menu
            # opens once in a search, from the first state that can: from any other state
            # it would come back to that very state
            moves += menu_steps(content, s, opened)
            opened.update(inert_menus)
        for m in moves:
            for sc, outcome in branches(game, draws, s, action_of(m), same):
                ex.transitions += 1
                if not outcome.ok:
                    err = outcome.error
                    w = witness((*plan(idx), (m, sc)))
                    if w is not None:
                        ex.findings.append(Finding(
                            err.code if err else "error", here,
                            f"`{m}` fails: {err.message if err else 'error'}", w))
                    continue
                found = note_hits(outcome, m, sc, idx)
                if found is not None:
                    ex.states += len(parents)
                    return found
                j = add(outcome.state, idx, (m, sc))
                if j is None:
                    truncated = True
                    break
                edges[idx].append(j)
            if truncated:
                break
        if truncated:
            break
    ex.states += len(parents)
    if truncated:
        ex.complete = False
        ex.truncated.append(role)
        if not ex.multipliers:
            ex.multipliers = multipliers(seen)
        return None
    # Traps: states that are not endings and from which no ending can be reached.
    back: list[list[int]] = [[] for _ in parents]
    for i, out in enumerate(edges):
        for j in out:
            back[j].append(i)
    good = set(ending_nodes)
    todo = list(ending_nodes)
    while todo:
        j = todo.pop()
        for i in back[j]:
            if i not in good:
                good.add(i)
                todo.append(i)
    trapped: dict[str, int] = {}
    for i in range(len(parents)):
        if i not in good and i not in dead and frag_of[i] not in trapped:
            trapped[frag_of[i]] = i
    for fid, i in trapped.items():
        w = witness(plan(i))
        if w is not None:
            ex.findings.append(Finding(
                "trap", fid, f"from this state at `{fid}` no ending can be reached", w))
    return None


def explore(game: Game, *, roles: Iterable[str] | None = None, seeds: Iterable[int] = (0,),
            max_states: int = 100_000, playthroughs: int | None = None, probe: int = 2_000,
            progress: Callable[[int], None] | None = None,
            off: Iterable[str] = ()) -> Exploration:
    """Explore the story for each role (default: every role of the manifest) and seed.

    `max_states` bounds the states of each search; `playthroughs` (default
    `auto_playthroughs`) how many playthroughs a path may span; `probe` how many
    least-used random runs look for what a cut-short search did not reach. `off` switches
    coarsenings of the key off (`abstraction.REDUCTIONS`), to measure what each buys."""
    content = game.content
    roles = tuple(roles) if roles is not None else content.manifest.roles
    seeds = tuple(seeds)[:1] or (0,)
    limit = playthroughs if playthroughs is not None else auto_playthroughs(content)
    ex = Exploration(roles, seeds, limit, max_states)
    abstraction = Abstraction.of(content, limit, off)
    for role in roles:
        _search(game, ex, role, seeds[0], abstraction, max_states, None, progress)
    # Keep one finding per (kind, fragment): the one with the shortest witness.
    best: dict[tuple[str, str], Finding] = {}
    for f in ex.findings:
        k = (f.kind, f.fragment)
        if k not in best or len(f.witness.steps) < len(best[k].witness.steps):
            best[k] = f
    ex.findings = sorted(best.values(), key=lambda f: (f.kind, f.fragment))
    if not ex.complete and probe:
        from engine.simulate.goal import probe as run_probe

        run_probe(game, ex, probe)
    verify(game, ex)
    return ex


def verify(game: Game, ex: Exploration) -> None:
    """Replay every witness with the real step function. One that misses its target is a
    bug of the search: it is reported (`failed_replays`) and no longer claimed."""
    for target, w in list(ex.witnesses.items()):
        if not replays(game, w, target):
            ex.failed_replays.append(f"{target}: {w.role}, seed {w.seed}, "
                                     f"{' → '.join(w.steps) or 'the start'}")
            del ex.witnesses[target]
            ex.unwitnessed.add(target)
