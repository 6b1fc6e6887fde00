"""Random playthroughs over the real step function, with hit counts for everything.

Run `i` (0-based) plays as a new player whose engine seed is `seed + i`, so its chances and
weighted picks are those a player with that seed would get. The policy's own choices come
from one `random.Random(seed)` stream shared by all runs, so a whole batch is reproducible
from its seed. Policies:

- `uniform`: any available choice, equally likely;
- `least-used`: the available choice taken least often so far in the batch (ties at
  random), like ChoiceScript's randomtest, to spread coverage;
- `greedy`: the choice whose outcome leaves the most points (ties at random); it tries each
  candidate with the step function, so it costs a step per candidate.

A run plays `playthroughs` playthroughs (restarting at each ending but the last) and ends at
its last ending, at a dead end (no choice available), after an engine error, or after
`max_steps` actions (it is then *stuck*).
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from engine.game import Game
from engine.simulate.core import (
    RESTART,
    Witness,
    action_of,
    answer_steps,
    begin,
    hits,
    is_answer,
    menu_steps,
)
from engine.step import Outcome, step

POLICIES = ("uniform", "least-used", "greedy")


@dataclass
class RandomReport:
    runs: int
    seed: int
    policy: str
    role: str
    max_steps: int
    playthroughs: int
    hits: dict[str, Counter] = field(default_factory=lambda: {
        k: Counter() for k in ("fragment", "choice", "rule", "achievement", "ending")})
    outcomes: Counter = field(default_factory=Counter)  # ending id | stuck | dead-end | error
    points: dict[str, list[int]] = field(default_factory=dict)  # ending -> balances there
    lengths: list[int] = field(default_factory=list)
    words: list[int] = field(default_factory=list)
    stuck: list[Witness] = field(default_factory=list)  # first few stuck runs
    dead_ends: list[Witness] = field(default_factory=list)
    errors: list[tuple[Witness, str]] = field(default_factory=list)
    first_hits: dict[str, Witness] = field(default_factory=dict)

    def count(self, target: str) -> int:
        kind, _, ref = target.partition(":")
        return self.hits[kind][ref]


def _pick(policy: str, rng: random.Random, options: list[str], used: Counter,
          game: Game, outcome: Outcome) -> tuple[str, Outcome | None]:
    if len(options) == 1:
        return options[0], None
    if policy == "uniform":
        return options[rng.randrange(len(options))], None
    if policy == "least-used":
        low = min(used[o] for o in options)
        best = [o for o in options if used[o] == low]
        return best[rng.randrange(len(best))] if len(best) > 1 else best[0], None
    tried = [(o, step(game, outcome.state, action_of(o))) for o in options]
    top = max(t.state["points"] for _, t in tried if t.ok) if any(t.ok for _, t in tried) \
        else None
    best = [(o, t) for o, t in tried if t.ok and t.state["points"] == top] or tried
    return best[rng.randrange(len(best))] if len(best) > 1 else best[0]


def random_runs(game: Game, *, runs: int = 10_000, seed: int = 0, policy: str = "uniform",
                max_steps: int = 500, role: str | None = None, playthroughs: int = 1,
                want: Collection[str] = (), keep: int = 5,
                progress: Callable[[int], None] | None = None) -> RandomReport:
    """Play `runs` random playthroughs. `want`: targets whose first-hit path to record (as
    non-minimal witnesses); `keep`: how many stuck / dead-end runs to keep as witnesses."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy `{policy}` (use {', '.join(POLICIES)})")
    content = game.content
    role = role if role in content.manifest.roles else content.manifest.default_role
    report = RandomReport(runs, seed, policy, role, max_steps, playthroughs)
    rng = random.Random(seed)
    used: Counter = Counter()
    h = report.hits
    wanted = set(want)
    fragments = content.fragments

    def count(outcome: Outcome, s: str | None, path: list[str], run_seed: int) -> None:
        if s is not None and s != RESTART and not is_answer(s):
            h["choice"][s] += 1
        for t in hits(outcome, None):
            kind, _, ref = t.partition(":")
            h[kind][ref] += 1
            if t in wanted and t not in report.first_hits:
                report.first_hits[t] = Witness(role, run_seed, tuple(path), minimal=False)
        if wanted and s is not None and s != RESTART and f"choice:{s}" in wanted \
                and f"choice:{s}" not in report.first_hits:
            report.first_hits[f"choice:{s}"] = Witness(role, run_seed, tuple(path),
                                                       minimal=False)

    for i in range(runs):
        run_seed = seed + i
        path: list[str] = []
        outcome = begin(game, role, run_seed)
        count(outcome, None, path, run_seed)
        words = len(outcome.screen.text.split()) if outcome.screen else 0
        endings = 0
        result = None
        if not outcome.ok:  # the start itself is rejected (a runaway chain)
            result = "error"
            if len(report.errors) < keep:
                report.errors.append((Witness(role, run_seed, (), False),
                                      outcome.error.message if outcome.error else "error"))
        while result is None:
            state = outcome.state
            here = state["fragment"]
            if fragments[here].ending is not None:
                endings += 1
                report.points.setdefault(here, []).append(state["points"])
                if endings >= playthroughs:
                    result = here
                    break
                options = [RESTART]
            else:
                options = [f"{here}.{c.id}" for c in outcome.screen.choices if c.available] \
                    if outcome.screen else []
                options += answer_steps(content, here)
                options += menu_steps(content, state)
                if not options:
                    result = "dead-end"
                    if len(report.dead_ends) < keep:
                        report.dead_ends.append(Witness(role, run_seed, tuple(path), False))
                    break
            if len(path) >= max_steps:
                result = "stuck"
                if len(report.stuck) < keep:
                    report.stuck.append(Witness(role, run_seed, tuple(path), False))
                break
            choice, tried = _pick(policy, rng, options, used, game, outcome)
            nxt = tried if tried is not None else step(game, state, action_of(choice))
            path.append(choice)
            if not nxt.ok:
                result = "error"
                if len(report.errors) < keep:
                    report.errors.append((Witness(role, run_seed, tuple(path), False),
                                          nxt.error.message if nxt.error else "error"))
                break
            used[choice] += 1
            outcome = nxt
            count(outcome, choice, path, run_seed)
            if outcome.screen is not None:
                words += len(outcome.screen.text.split())
        report.outcomes[result] += 1
        report.lengths.append(len(path))
        report.words.append(words)
        if progress is not None:
            progress(i + 1)
    return report


def _spread(values: list[int]) -> dict[str, Any]:
    if not values:
        return {"min": None, "median": None, "max": None, "mean": None}
    return {"min": min(values), "median": statistics.median(values), "max": max(values),
            "mean": round(statistics.fmean(values), 2)}


def report_json(report: RandomReport, content) -> dict[str, Any]:
    def table(kind: str, ids) -> dict[str, int]:
        return {i: report.hits[kind][i] for i in ids}

    fragments = list(content.fragments)
    choices = [f"{f.id}.{c.id}" for f in content.fragments.values() for c in f.choices]
    endings = [f.id for f in content.fragments.values() if f.ending]
    return {
        "mode": "random",
        "runs": report.runs,
        "seed": report.seed,
        "policy": report.policy,
        "role": report.role,
        "max_steps": report.max_steps,
        "playthroughs": report.playthroughs,
        "outcomes": dict(sorted(report.outcomes.items())),
        "endings": {e: {"runs": report.hits["ending"][e], "share": round(
            report.hits["ending"][e] / max(report.runs, 1), 4),
            "points": _spread(report.points.get(e, []))} for e in endings},
        "length": {"steps": _spread(report.lengths), "words": _spread(report.words)},
        "hits": {
            "fragments": table("fragment", fragments),
            "choices": table("choice", choices),
            "rules": table("rule", [r.id for r in content.rules]),
            "achievements": table("achievement", list(content.achievements)),
        },
        "never": {
            "fragments": [f for f in fragments if not report.hits["fragment"][f]],
            "choices": [c for c in choices if not report.hits["choice"][c]],
            "endings": [e for e in endings if not report.hits["ending"][e]],
            "achievements": [a for a in content.achievements
                             if not report.hits["achievement"][a]],
            "rules": [r.id for r in content.rules if not report.hits["rule"][r.id]],
        },
        "stuck": [w.to_json() for w in report.stuck],
        "dead_ends": [w.to_json() for w in report.dead_ends],
        "errors": [{**w.to_json(), "message": m} for w, m in report.errors],
    }
