"""A player's progress through the story: fragments visited of those reachable, endings."""

from __future__ import annotations

from dataclasses import dataclass

from engine.game import Game
from engine.lint.graph import reachable_fragments
from engine.state import State

_REACHABLE: dict[str, frozenset[str]] = {}


@dataclass(frozen=True)
class Progress:
    visited: int  # reachable fragments the player has seen
    reachable: int  # fragments reachable from start (ignoring requirements)
    endings_found: int
    endings: int  # reachable endings

    @property
    def percent(self) -> float:
        return 100.0 * self.visited / self.reachable if self.reachable else 0.0


def reachable(game: Game) -> frozenset[str]:
    key = game.content.digest or str(id(game.content))
    found = _REACHABLE.get(key)
    if found is None:
        found = _REACHABLE[key] = frozenset(reachable_fragments(game.content))
    return found


def progress(game: Game, state: State) -> Progress:
    reach = reachable(game)
    fragments = game.content.fragments
    endings = {f for f in reach if fragments[f].ending is not None}
    return Progress(len(reach & set(state["visits"])), len(reach),
                    len(endings & set(state["endings"])), len(endings))
