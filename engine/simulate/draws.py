"""Randomness as choice: every outcome of every draw, and a real seed for a chosen path.

The engine draws numbers in [0, 1) from the player's seed and compares them only with
fixed cut points: a `chance: p` effect hits when the draw is below p, a weighted `goto`
picks the target whose cumulative share of the weights passes the draw. So the numbers
between two consecutive cut points of the whole story are interchangeable: every draw site
decides the same for all of them. Exploring one number per interval (its midpoint) for
each draw of a step is therefore every outcome the step can have, whatever the seed.

A path found that way names, for each step, the intervals its draws may fall in (every
combination giving that step's outcome). Draws are counted across the whole run (the
counter survives restarts), so those are conditions on the numbers at known positions of
the stream; `find_seed` tries seeds until one meets them all. A number within a rounding
error of a cut point might decide otherwise than its interval's midpoint; the witness is
replayed with the real step function anyway, which would report it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterator, Sequence
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


Scripts = frozenset[tuple[int, ...]]  # the interval of each draw of one step, any of these


def branches(game: Game, draws: Draws, state: State, action: Action,
             same: Callable[[Outcome], Hashable]) -> Iterator[tuple[Scripts, Outcome]]:
    """Every outcome of `action` at `state` over all seeds, one per value of `same` (what
    the search tells outcomes apart by): (every script of draw intervals that gives it,
    one such outcome). The state's own seed and counter are not used. Scripts of one
    outcome all make the same number of draws, so the steps after it draw from the same
    positions of the stream whichever script a seed meets."""
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

    leaves = list(run(()))
    if len(leaves) == 1:  # most steps draw nothing: nothing to tell apart
        script, outcome = leaves[0]
        yield frozenset((script,)), outcome
        return
    groups: dict[tuple[Hashable, int], tuple[set[tuple[int, ...]], Outcome]] = {}
    for script, outcome in leaves:
        k = (same(outcome), len(script))
        if k in groups:
            groups[k][0].add(script)
        else:
            groups[k] = ({script}, outcome)
    for scripts, outcome in groups.values():
        yield frozenset(scripts), outcome


def find_seed(draws: Draws, steps: Sequence[Scripts], start: int = 0) -> int | None:
    """A seed, from `start` on, whose stream gives each step one of its scripts (its draws
    counted from where the previous steps' draws end); None when none of SEED_TRIES seeds
    does."""
    wanted: list[tuple[int, int, Scripts]] = []  # (first position, draws, scripts)
    n = 0
    for scripts in steps:
        size = len(next(iter(scripts)))
        if size:
            wanted.append((n, size, scripts))
            n += size
    if not wanted:
        return start
    cuts = draws.cuts
    for seed in range(start, start + SEED_TRIES):
        for pos, size, scripts in wanted:
            got = tuple(bisect_right(cuts, draw(seed, pos + j)) - 1 for j in range(size))
            if got not in scripts:
                break
        else:
            return seed
    return None
