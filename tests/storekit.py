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


def changed_content(where: Path, version: str, rename: dict[str, str] | None = None,
                    migrate: dict[str, str] | None = None) -> Path:
    """A copy of the sample story (with its rules) under another content version, with
    fragments renamed (every whole-word use of the id) and an optional `migrate:` map."""
    import re
    import shutil

    shutil.copytree(SAMPLE, where / "content")
    shutil.copytree(ROOT / "rules", where / "rules")
    for f in where.rglob("*.yaml"):
        text = f.read_text(encoding="utf-8")
        for old, new in (rename or {}).items():
            text = re.sub(rf"\b{old}\b", new, text)
        f.write_text(text, encoding="utf-8")
    manifest = where / "content" / "game.yaml"
    text = manifest.read_text(encoding="utf-8").replace("version: 1.0.0", f"version: {version}")
    if migrate:
        text += "migrate:\n" + "".join(f"  {o}: {n}\n" for o, n in migrate.items())
    manifest.write_text(text, encoding="utf-8")
    return where / "content"


def game_of(directory: Path) -> Game:
    result = load(directory)
    assert result.content is not None, result.diagnostics
    return compile_game(result.content)
