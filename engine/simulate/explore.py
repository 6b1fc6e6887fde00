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

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.game import Game
from engine.messages import say
from engine.requirements import holds, reason
from engine.simulate.core import (
    RESTART,
    Abstraction,
    Witness,
    action_of,
    all_targets,
    auto_playthroughs,
    begin,
    hits,
    reached,
)
from engine.state import State
from engine.step import step


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


def _search(game: Game, ex: Exploration, role: str, seed: int, abstraction: Abstraction,
            max_states: int, goal: str | None, progress: Callable[[int], None] | None
            ) -> Witness | None:
    """One breadth-first search. With a `goal`, stop at the first state reaching it and
    return its witness."""
    content = game.content
    fragments = content.fragments
    limit = ex.playthroughs
    key = abstraction.key
    start = begin(game, role, seed)
    if not start.ok:  # e.g. a runaway chain on the start: there is nothing to explore
        err = start.error
        ex.findings.append(Finding(err.code if err else "error", content.manifest.start,
                                   f"the start fails: {err.message if err else 'error'}",
                                   Witness(role, seed, ())))
        ex.states += 1
        return None
    parents: list[int] = [-1]
    via: list[str | None] = [None]
    seen = {key(start.state): 0}
    queue = deque([(0, start.state)])
    edges: list[list[int]] = [[]]
    ending_nodes: list[int] = []
    frag_of: list[str] = [start.state["fragment"]]
    dead: set[int] = set()

    def path(i: int) -> tuple[str, ...]:
        out = []
        while i > 0:
            out.append(via[i])
            i = parents[i]
        return tuple(reversed(out))

    def witness(steps: tuple[str, ...]) -> Witness:
        return Witness(role, seed, steps)

    local: set[str] = set()  # targets this search has a (shortest) witness for

    def note_hits(outcome, s: str | None, base: int) -> Witness | None:
        steps = None
        for t in hits(outcome, s):
            ex.hit_counts[t] = ex.hit_counts.get(t, 0) + 1
            if t not in local:
                local.add(t)
                if steps is None:
                    steps = path(base) + ((s,) if s is not None else ())
                ex.note(t, witness(steps))
        for e in outcome.events:
            for r in game.rules_for(e):
                ex.matched_rules.add(r.id)
        if goal is not None and reached(goal, outcome, s):
            return witness(path(base) + ((s,) if s is not None else ()))
        return None

    def arrive(state: State) -> None:
        fs = ex.fragments.setdefault(state["fragment"], FragmentStats())
        fs.states += 1
        fs.max_points = max(fs.max_points, state["points"])
        fs.max_earned = max(fs.max_earned, state["earned"])

    arrive(start.state)
    found = note_hits(start, None, 0)
    if found is not None:
        return found
    truncated = False
    while queue:
        idx, s = queue.popleft()
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
                            cs.held_witness = witness(path(idx))
                    else:
                        cs.failed += 1
                        if cs.failed_witness is None:
                            cs.failed_witness = witness(path(idx))
                if ok and c.cost > s["points"]:
                    cs.unaffordable += 1
                    ok = False
                if ok:
                    moves.append(name)
                elif s["points"] > cs.best_points:
                    cs.best_points = s["points"]
                    cs.best_reason = lock_reason(game, s, here, c.id)
            if not moves:
                dead.add(idx)
                ex.findings.append(Finding(
                    "dead-end", here, f"no choice is available at `{here}`",
                    witness(path(idx))))
        for m in moves:
            outcome = step(game, s, action_of(m))
            ex.transitions += 1
            if not outcome.ok:
                err = outcome.error
                ex.findings.append(Finding(
                    err.code if err else "error", here,
                    f"`{m}` fails: {err.message if err else 'error'}",
                    witness((*path(idx), m))))
                continue
            found = note_hits(outcome, m, idx)
            if found is not None:
                return found
            k = key(outcome.state)
            j = seen.get(k)
            if j is None:
                if len(parents) >= max_states:
                    truncated = True
                    break
                j = len(parents)
                seen[k] = j
                parents.append(idx)
                via.append(m)
                edges.append([])
                frag_of.append(outcome.state["fragment"])
                queue.append((j, outcome.state))
                arrive(outcome.state)
                if progress is not None and j % 1000 == 0:
                    progress(1000)
            edges[idx].append(j)
        if truncated:
            break
    ex.states += len(parents)
    if truncated:
        ex.complete = False
        ex.truncated.append(f"{role}/{seed}")
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
        ex.findings.append(Finding(
            "trap", fid, f"from this state at `{fid}` no ending can be reached",
            witness(path(i))))
    return None


def explore(game: Game, *, roles: Iterable[str] | None = None, seeds: Iterable[int] = (0,),
            max_states: int = 100_000, playthroughs: int | None = None, probe: int = 2_000,
            progress: Callable[[int], None] | None = None) -> Exploration:
    """Explore the story for each role (default: every role of the manifest) and seed.

    `max_states` bounds the states of each search; `playthroughs` (default
    `auto_playthroughs`) how many playthroughs a path may span; `probe` how many
    least-used random runs look for what a cut-short search did not reach."""
    content = game.content
    roles = tuple(roles) if roles is not None else content.manifest.roles
    seeds = tuple(seeds)
    limit = playthroughs if playthroughs is not None else auto_playthroughs(content)
    ex = Exploration(roles, seeds, limit, max_states)
    abstraction = Abstraction.of(content, limit)
    for role in roles:
        for seed in seeds:
            _search(game, ex, role, seed, abstraction, max_states, None, progress)
    # Keep one finding per (kind, fragment): the one with the shortest witness.
    best: dict[tuple[str, str], Finding] = {}
    for f in ex.findings:
        k = (f.kind, f.fragment)
        if k not in best or len(f.witness.steps) < len(best[k].witness.steps):
            best[k] = f
    ex.findings = sorted(best.values(), key=lambda f: (f.kind, f.fragment))
    if not ex.complete and probe:
        _probe(game, ex, probe)
    return ex


def _probe(game: Game, ex: Exploration, runs: int) -> None:
    from engine.simulate.randomrun import random_runs

    missing = [t for t in all_targets(game.content) if t not in ex.witnesses]
    if not missing:
        return
    for role in ex.roles:
        for seed in ex.seeds:
            report = random_runs(game, runs=runs, seed=seed, policy="least-used",
                                 role=role, playthroughs=ex.playthroughs, want=missing,
                                 max_steps=500)
            ex.probed += runs
            for t, w in report.first_hits.items():
                ex.note(t, shorten(game, w, t))
            missing = [t for t in missing if t not in ex.witnesses]
            if not missing:
                return


def shorten(game: Game, w: Witness, target: str) -> Witness:
    """Cut the loops out of a witness: where a state repeats (same key), the steps between
    cannot matter. Then end the path where it first reaches `target`."""
    abstraction = Abstraction.of(game.content, None)
    outcome = begin(game, w.role, w.seed)
    keys = {abstraction.key(outcome.state): 0}
    steps: list[str] = []
    for s in w.steps:
        outcome = step(game, outcome.state, action_of(s))
        if not outcome.ok:
            return w
        if reached(target, outcome, s):
            steps.append(s)
            break
        k = abstraction.key(outcome.state)
        if k in keys:
            cut = keys[k]
            del steps[cut:]
            keys = {kk: v for kk, v in keys.items() if v <= cut}
            continue
        steps.append(s)
        keys[k] = len(steps)
    # The loop-free path must still reach the target (it does when the keys are exact).
    outcome = begin(game, w.role, w.seed)
    ok = reached(target, outcome, None)
    for s in steps:
        outcome = step(game, outcome.state, action_of(s))
        if not outcome.ok:
            return w
        ok = ok or reached(target, outcome, s)
    return Witness(w.role, w.seed, tuple(steps), minimal=False) if ok else w


def goal(game: Game, target: str, *, roles: Iterable[str] | None = None,
         seeds: Iterable[int] = (0,), max_states: int = 100_000,
         playthroughs: int | None = None) -> tuple[Witness | None, Exploration]:
    """The shortest path to `target` over the roles and seeds, or None; the exploration
    tells whether None is a proof (`complete`)."""
    content = game.content
    roles = tuple(roles) if roles is not None else content.manifest.roles
    seeds = tuple(seeds)
    limit = playthroughs if playthroughs is not None else auto_playthroughs(content)
    ex = Exploration(roles, seeds, limit, max_states)
    abstraction = Abstraction.of(content, limit)
    best: Witness | None = None
    for role in roles:
        for seed in seeds:
            w = _search(game, ex, role, seed, abstraction, max_states, target, None)
            if w is not None and (best is None or len(w.steps) < len(best.steps)):
                best = w
    return best, ex
