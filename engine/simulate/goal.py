"""Goal search: a path to one target, directed by how far the story graph puts each state
from it; and the probe of random runs that backs up a search cut short by its bound.

A target can happen in some places under some requirements: an ending at its fragment; a
choice at its fragment once its `requires` holds; an achievement wherever a rule that
unlocks it can fire (the fragment its `enter` or `choice` event names, the endings of the
kind its `ending` event names, anywhere once the points earned reach the level its
`level_up` event names) once that rule's `if` holds, or where an effect unlocks it. The
search expands first the states whose requirements are nearest to holding (for a number
that must reach n, the part of n still missing), then those fewest moves away from such a
place on the story graph (requirements ignored), then the shallowest. It guides the order
only: every state the bound allows is still expanded, so a complete search without a path
is still a proof that none exists.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from engine.expressions import resolved
from engine.game import Game
from engine.model import All, AnyOf, Compare, Content, Requirement, Rule
from engine.requirements import holds, quantity
from engine.simulate.abstraction import Abstraction, successors
from engine.simulate.core import (
    Witness,
    action_of,
    all_targets,
    auto_playthroughs,
    begin,
    reached,
    replays,
)
from engine.simulate.explore import Exploration, _search, verify
from engine.state import State
from engine.step import step
from engine.walk import effects

# Random runs a goal search falls back on when its bound cuts it short.
GOAL_PROBE = 2_000
# States per role searched breadth first (shortest paths, and proofs for small stories)
# before the directed search takes over.
BREADTH_FIRST = 10_000
# States per role of the directed search for each target a cut-short exploration and its
# random probe did not reach.
CHASE_STATES = 2_000


@dataclass(frozen=True)
class _Source:
    """One way a target can happen: at one of `places`, once `needs` holds."""

    places: frozenset[str]
    needs: tuple[Requirement, ...] = ()


def _rule_source(content: Content, rule: Rule) -> _Source:
    """Where a rule's event can happen, and what must hold for it to fire."""
    filters = dict(rule.filters)
    frags = content.fragments
    places: set[str] = set(frags)
    needs: list[Requirement] = [rule.cond] if rule.cond is not None else []
    if rule.event in ("enter", "choice") and isinstance(filters.get("fragment"), str):
        places = {filters["fragment"]} & set(frags) or places
    elif rule.event == "ending":
        kind = filters.get("kind")
        places = {f.id for f in frags.values()
                  if f.ending and (kind is None or f.ending == kind)} or places
    elif rule.event == "level_up" and isinstance(filters.get("level"), int):
        level = next((lv for lv in content.manifest.levels
                      if lv.level == filters["level"]), None)
        if level is not None:  # earned points reach its threshold
            needs.append(Compare("earned", None, (("gte", level.points),)))
    return _Source(frozenset(places), tuple(needs))


def _sources(content: Content, target: str) -> list[_Source]:
    kind, _, ref = target.partition(":")
    everywhere = frozenset(content.fragments)
    if kind in ("fragment", "ending"):
        return [_Source(frozenset({ref}))]
    if kind == "choice":
        fid, _, cid = ref.partition(".")
        c = content.fragments[fid].choice(cid)
        return [_Source(frozenset({fid}), (c.requires,) if c and c.requires else ())]
    if kind == "points":
        return [_Source(everywhere, (Compare("points", None, (("gte", int(ref)),)),))]
    if kind == "rule":
        return [_rule_source(content, r) for r in content.rules if r.id == ref]
    out = [_rule_source(content, r) for r in content.rules
           if any(e.kind == "unlock" and e.target == ref for e in r.then)]
    for owner, e in effects(content):
        if e.kind == "unlock" and e.target == ref and owner.fragment is not None:
            out.append(_Source(frozenset({owner.fragment.id})))
    return out or [_Source(everywhere)]


def distances(content: Content, places: Iterable[str]) -> dict[str, int]:
    """Moves from each fragment to the nearest of `places` on the story graph."""
    back: dict[str, list[str]] = {f: [] for f in content.fragments}
    for f, out in successors(content).items():
        for g in out:
            back[g].append(f)
    dist = dict.fromkeys(places, 0)
    todo = deque(dist)
    while todo:
        g = todo.popleft()
        for f in back[g]:
            if f not in dist:
                dist[f] = dist[g] + 1
                todo.append(f)
    return dist


def shortfall(req: Requirement, content: Content, state: State) -> float:
    """How far a requirement is from holding, 0 when it holds: for a number that must
    reach n, the part of n still missing; 1 for anything else that fails."""
    if isinstance(req, All):
        return sum(shortfall(r, content, state) for r in req.items)
    if isinstance(req, AnyOf):
        return min((shortfall(r, content, state) for r in req.items), default=0.0)
    if isinstance(req, Compare) and req.subject == "earned":
        need = req.cmp[0][1]
        return max(0.0, need - state["earned"]) / max(need, 1)
    if holds(req, content, state):
        return 0.0
    if isinstance(req, Compare):
        have = quantity(content, state, req.subject, req.ref)
        cmp = resolved(content, state, req.cmp) if req.dynamic else req.cmp
        gaps = [(n - have) / max(abs(n), 1) for op, n in cmp if op in ("gte", "gt")]
        return min(1.0, max(gaps)) if gaps and max(gaps) > 0 else 1.0
    return 1.0


def estimate(content: Content, target: str) -> Callable[[State], tuple[float, int]]:
    """The order of a directed search: first how far the requirements of the nearest way
    to the target are from holding, then how many moves its place is away."""
    far = len(content.fragments) + 1
    ways = [(src, distances(content, src.places)) for src in _sources(content, target)]

    def h(state: State) -> tuple[float, int]:
        here = state["fragment"]
        return min((round(sum(shortfall(r, content, state) for r in src.needs), 3),
                    dist.get(here, far)) for src, dist in ways)

    return h


def goal(game: Game, target: str, *, roles: Iterable[str] | None = None,
         seeds: Iterable[int] = (0,), max_states: int = 100_000,
         playthroughs: int | None = None, probe: int = GOAL_PROBE
         ) -> tuple[Witness | None, Exploration]:
    """A path to `target` over the roles (every outcome of every draw; the witness's seed
    gives the draws it needs), or None; the exploration tells whether None is a proof
    (`complete`). Breadth first up to BREADTH_FIRST states per role (a shortest path), then
    directed up to `max_states` (a short one: `minimal` says which). When the bound cuts
    that too, `probe` random runs look for the target."""
    content = game.content
    roles = tuple(roles) if roles is not None else content.manifest.roles
    seeds = tuple(seeds)[:1] or (0,)
    limit = playthroughs if playthroughs is not None else auto_playthroughs(content)
    ex = Exploration(roles, seeds, limit, max_states)
    abstraction = Abstraction.of(content, limit)
    best = _best(game, ex, roles, seeds[0], abstraction, min(max_states, BREADTH_FIRST),
                 target, None)
    if best is None and not ex.complete and max_states > BREADTH_FIRST:
        # Too big to search in order of length: search again, nearest to the target first.
        ex = Exploration(roles, seeds, limit, max_states, states=ex.states)
        best = _best(game, ex, roles, seeds[0], abstraction, max_states, target,
                     estimate(content, target))
    if best is None and not ex.complete and probe:
        ex.witnesses.clear()
        _probe_for(game, ex, [target], probe)
        best = ex.witnesses.get(target)
    if best is not None:
        ex.witnesses = {target: best}
        verify(game, ex)
        best = ex.witnesses.get(target)
    return best, ex


def _best(game: Game, ex: Exploration, roles: tuple[str, ...], seed: int,
          abstraction: Abstraction, max_states: int, target: str,
          h: Callable[[State], tuple[float, int]] | None) -> Witness | None:
    """The shortest witness over the roles' searches (breadth first: each is minimal;
    directed: none is known to be)."""
    best: Witness | None = None
    for role in roles:
        w = _search(game, ex, role, seed, abstraction, max_states, target, None, h)
        if w is not None:
            w = Witness(w.role, w.seed, w.steps, minimal=h is None)
            if best is None or len(w.steps) < len(best.steps):
                best = w
    return best


def probe(game: Game, ex: Exploration, runs: int, chase: int = CHASE_STATES) -> None:
    """Look for what a cut-short exploration did not reach: least-used random runs, then a
    directed search of `chase` states per role for each target still missing."""
    missing = [t for t in all_targets(game.content) if t not in ex.witnesses]
    if missing:
        _probe_for(game, ex, missing, runs)
    if not chase:
        return
    abstraction = Abstraction.of(game.content, ex.playthroughs)
    for target in all_targets(game.content):
        if target in ex.witnesses:
            continue
        scratch = Exploration(ex.roles, ex.seeds, ex.playthroughs, chase)
        w = _best(game, scratch, ex.roles, ex.seeds[0], abstraction, chase, target,
                  estimate(game.content, target))
        ex.chased += scratch.states
        if w is not None:
            ex.note(target, w)


def _probe_for(game: Game, ex: Exploration, wanted: list[str], runs: int) -> None:
    from engine.simulate.randomrun import random_runs

    missing = list(wanted)
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
    cannot matter — but for the draws they made, which the rest of the path may need, so
    the cut path is replayed and kept only if it still reaches `target`. Then end the path
    where it first reaches `target`."""
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
    short = Witness(w.role, w.seed, tuple(steps), minimal=False)
    return short if replays(game, short, target) else Witness(w.role, w.seed, w.steps, False)
