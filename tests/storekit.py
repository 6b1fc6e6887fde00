"""Helpers for the store tests and the crash worker: the sample game, a simple player bot."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from engine.game import Game, compile_game
from engine.load import load
from engine.screen import render
from engine.state import State
from engine.step import Action, Choose, Restart, Start

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "content"

_GAME: list[Game] = []


def sample_game() -> Game:
    if not _GAME:
        result = load(SAMPLE)
        assert result.content is not None
        _GAME.append(compile_game(result.content))
    return _GAME[0]


def next_action(game: Game, state: State, pick: int = 0) -> Action:
    """What a player would tap next: start, the pick-th available choice, or restart."""
    if state["fragment"] is None:
        return Start("2025-01-06")
    choices = [c for c in render(game, state).choices if c.available]
    if not choices:
        return Restart("2025-01-06")
    return Choose(choices[pick % len(choices)].id, state["turn"], "2025-01-06")


class Clock:
    """A settable clock (UTC seconds)."""

    def __init__(self, when: str = "2025-01-08T12:00:00") -> None:
        self.now = dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC).timestamp()

    def set(self, when: str) -> None:
        self.now = dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC).timestamp()

    def __call__(self) -> float:
        return self.now
