"""Goal search: a path to one target, directed by how far the story graph puts each state
from it; and the probe of random runs that backs up a search cut short by its bound.

The estimate is the number of moves from the state's fragment to the nearest fragment
where the target can happen (on the story graph, requirements ignored), plus one for each
requirement of the goal's own choice that does not hold yet. It guides the order only:
every state the bound allows is still expanded, so a complete search without a path is
still a proof that none exists.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from engine.game import Game
from engine.model import All, Content
from engine.requirements import holds
from engine.simulate.core import (
    Abstraction,
    Witness,
    action_of,
    all_targets,
    auto_playthroughs,
    begin,
    reached,
    replays,
    successors,
)
from engine.simulate.explore import Exploration, _search, verify
from engine.state import State
from engine.step import step

# Random runs a goal search falls back on when its bound cuts it short.
GOAL_PROBE = 2_000
# States per role searched breadth first (shortest paths, and proofs for small stories)
# before the directed search takes over.
BREADTH_FIRST = 10_000
# States per role of the directed search for each target a cut-short exploration and its
# random probe did not reach.
CHASE_STATES = 2_000


def _places(content: Content, target: str) -> set[str]:
    """Fragments where `target` can happen: the fragment itself, the choice's fragment, or
    (achievements, rules, points) every fragment, since rules can fire anywhere."""
    kind, _, ref = target.partition(":")
    if kind in ("fragment", "ending"):
        return {ref}
    if kind == "choice":
        return {ref.partition(".")[0]}
    return set(content.fragments)


def distances(content: Content, target: str) -> dict[str, int]:
    """Moves from each fragment to the nearest place of `target` on the story graph."""
    back: dict[str, list[str]] = {f: [] for f in content.fragments}
    for f, out in successors(content).items():
        for g in out:
            back[g].append(f)
    dist = dict.fromkeys(_places(content, target), 0)
    todo = deque(dist)
    while todo:
        g = todo.popleft()
        for f in back[g]:
            if f not in dist:
                dist[f] = dist[g] + 1
                todo.append(f)
    return dist


def estimate(content: Content, target: str) -> Callable[[State], int]:
    dist = distances(content, target)
    far = len(content.fragments) + 1  # the target cannot be reached from there this way
    requires = None
    if target.startswith("choice:"):
        fid, _, cid = target[7:].partition(".")
        c = content.fragments[fid].choice(cid)
        requires = c.requires if c is not None else None
    parts = requires.items if isinstance(requires, All) else (
        (requires,) if requires is not None else ())

    def h(state: State) -> int:
        d = dist.get(state["fragment"], far)
        return d + sum(1 for r in parts if not holds(r, content, state))

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
          h: Callable[[State], int] | None) -> Witness | None:
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
