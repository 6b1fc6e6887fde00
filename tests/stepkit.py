"""Helpers shared by the engine tests: load a story (fixtures, sample, or YAML in tmp_path),
and the `play` fixture that runs a test once directly and once in save-and-reload mode."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from engine.game import Game, compile_game
from engine.load import load
from engine.state import State
from engine.step import Action, Outcome, step

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "fixtures" / "mini"
SAMPLE = ROOT / "content"

MANIFEST = """\
format: 1
version: 2.0.0
title: Test
start: {start}
locales: [en, es]
currency: {{id: coins, name: {{en: Coins, es: Monedas}}, emoji: "🪙"}}
levels:
  - {{level: 1, name: One, points: 0}}
  - {{level: 2, name: Two, points: 10}}
  - {{level: 3, name: Three, points: 20}}
  - {{level: 4, name: Four, points: 30}}
roles: [free, vip]
"""


def load_game(directory: Path) -> Game:
    result = load(directory)
    assert result.content is not None, [str(d) for d in result.diagnostics]
    return compile_game(result.content)


def write_story(root: Path, story: str, rules: str = "", *, start: str = "a",
                limits: str = "") -> Game:
    """Write a content directory under `root` and compile it."""
    root.mkdir(parents=True, exist_ok=True)
    manifest = MANIFEST.format(start=start)
    if limits:
        manifest += f"limits: {limits}\n"
    (root / "game.yaml").write_text(manifest, encoding="utf-8")
    (root / "story.yaml").write_text(textwrap.dedent(story), encoding="utf-8")
    if rules:
        (root / "rules.yaml").write_text(textwrap.dedent(rules), encoding="utf-8")
    return load_game(root)


def reload_mode() -> bool:
    return os.environ.get("DIANA_RELOAD", "") not in ("", "0")


@pytest.fixture(params=["direct", "reload"])
def play(request):
    """`play(game, state, action) -> Outcome`, run twice over the whole step suite: once
    calling `step` directly, once in save-and-reload mode, where the state goes through
    `json.dumps`/`json.loads` before every step (as a save to SQLite and a resume would).
    `DIANA_RELOAD=1` runs only the reload mode."""
    if request.param == "direct" and reload_mode():
        pytest.skip("DIANA_RELOAD=1: reload mode only")

    if request.param == "direct":
        return step

    def reloaded(game: Game, state: State, action: Action) -> Outcome:
        return step(game, json.loads(json.dumps(state)), action)

    return reloaded
