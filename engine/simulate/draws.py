"""Randomness as choice: every outcome of every draw, and a real seed for a chosen path.

The engine draws numbers in [0, 1) from the player's seed and compares them only with
fixed cut points: a `chance: p` effect hits when the draw is below p, a weighted `goto`
picks the target whose cumulative share of the weights passes the draw. So the numbers
between two consecutive cut points of the whole story are interchangeable: every draw site
decides the same for all of them. Exploring one number per interval (its midpoint) for
each draw of a step is therefore every outcome the step can have, whatever the seed.

A path found that way names, for each step, the interval each of its draws fell in. Draws
are counted across the whole run (the counter survives restarts), so those intervals are
constraints on the numbers at known positions of the stream; `find_seed` tries seeds until
one meets them all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from engine.game import Game
from engine.model import Content
from engine.state import State, draw
from engine.step import Action, Outcome, step
from engine.walk import effects

# Seeds tried for a witness before giving up (reported, never silent): a path needing k
# draws in intervals of width w is met by one seed in about 1/w^k.
SEED_TRIES = 300_000


@dataclass(frozen=True)
class Draws:
    """The intervals that split [0, 1) for a story, with a number inside each."""

    cuts: tuple[float, ...]  # 0 = cuts[0] < ... < cuts[-1] = 1

    @classmethod
    def of(cls, content: Content) -> Draws:
        points = {0.0, 1.0}
        for _, e in effects(content):
            if e.chance is not None and 0 < e.chance < 1:
                points.add(float(e.chance))
        for f in content.fragments.values():
            for c in f.choices:
                if len(c.targets) > 1:
                    total = sum(t.weight for t in c.targets)
                    acc = 0
                    for t in c.targets[:-1]:
                        acc += t.weight
                        if 0 < acc < total:
                            points.add(acc / total)
        return cls(tuple(sorted(points)))

    def mid(self, i: int) -> float:
        return (self.cuts[i] + self.cuts[i + 1]) / 2

    def inside(self, value: float, i: int) -> bool:
        return self.cuts[i] <= value < self.cuts[i + 1]

    @property
    def intervals(self) -> int:
        return len(self.cuts) - 1


def branches(game: Game, draws: Draws, state: State, action: Action
             ) -> Iterator[tuple[tuple[int, ...], Outcome]]:
    """Every outcome of `action` at `state` over all seeds: (the interval of each draw the
    step made, the outcome). The state's own seed and counter are not used."""
    base = dict(state)

    def run(script: tuple[int, ...]) -> Iterator[tuple[tuple[int, ...], Outcome]]:
        base["seed"] = tuple(draws.mid(i) for i in script)
        base["draws"] = 0
        outcome = step(game, base, action)
        used = outcome.state["draws"] if outcome.ok else len(script)
        if used > len(script):
            # The step drew past the script: split on the first unscripted draw.
            for i in range(draws.intervals):
                yield from run((*script, i))
            return
        yield script[:used], outcome

    seen: set[tuple[int, ...]] = set()
    for script, outcome in run(()):
        if script not in seen:  # a shorter run can end a longer script's branch
            seen.add(script)
            yield script, outcome


def find_seed(draws: Draws, scripts: Sequence[tuple[int, ...]], start: int = 0) -> int | None:
    """A seed, from `start` on, whose stream puts each draw of each step in the interval the
    path chose; None when none of SEED_TRIES seeds does."""
    wanted: list[tuple[int, int]] = []
    n = 0
    for script in scripts:
        for i in script:
            wanted.append((n, i))
            n += 1
    if not wanted:
        return start
    # The narrowest interval first: most seeds fail there, after one hash.
    wanted.sort(key=lambda w: draws.cuts[w[1] + 1] - draws.cuts[w[1]])
    cuts = draws.cuts
    for seed in range(start, start + SEED_TRIES):
        for pos, i in wanted:
            v = draw(seed, pos)
            if not cuts[i] <= v < cuts[i + 1]:
                break
        else:
            return seed
    return None
