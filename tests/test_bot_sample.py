"""End to end on the SAMPLE story (content/ + rules/, the default DIANA_CONTENT): the real
bot (`diana bot run`, a subprocess polling the emulator over HTTP) is played from /start
to an ending by pressing the buttons of a path the simulator finds for this player."""

from __future__ import annotations

import re

import pytest
from botkit import ROOT, start_bot
from storekit import game_of

from bot.testing import EmulatorThread
from engine.simulate.explore import goal
from engine.store.connect import default_seed

SAMPLE = ROOT / "content"
USER = 4242
TARGET = "achievement:door_closes"  # unlocked by reaching a bad ending


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    with EmulatorThread(callback_timeout=10) as emu:
        proc = start_bot(tmp_path_factory.mktemp("sample"), emu, DIANA_CONTENT=str(SAMPLE),
                         DIANA_RATE_LIMIT="100/1")
        try:
            yield proc
        finally:
            proc.stop()


def path_for(player: str) -> list[tuple[str, str]]:
    """(fragment, English choice label) of the shortest path to TARGET for this player's
    seed (the bot seeds each player from their id, so chance plays out the same way)."""
    game = game_of(SAMPLE)
    witness, _ = goal(game, TARGET, roles=[game.content.manifest.default_role],
                      seeds=[default_seed(player)])
    assert witness is not None, f"no path to {TARGET}"
    out = []
    for step in witness.steps:
        fragment, choice_id = step.split(".", 1)
        choice = next(c for c in game.content.fragments[fragment].choices if c.id == choice_id)
        out.append((fragment, choice.text.get("en", game.content.manifest.default_locale)))
    return out


def test_sample_story_start_to_ending_achievement_leaderboard(bot):
    steps = path_for(f"tg:{USER}")
    game = game_of(SAMPLE)
    assert steps and steps[0][0] == game.content.manifest.start

    p = bot.player(USER, name="Vera")
    before = p.count()
    p.send("/start")
    page = p.wait_page(before)
    assert "The Invitation" in page.shown and "Vera" in page.shown
    seen = []
    for fragment, label in steps:
        title = game.content.fragments[fragment].title
        assert title is None or title.get("en", "en") in page.shown, (fragment, page.shown)
        before = p.count()
        _, q = p.tap(page, label)
        page = p.wait_page(before)
        assert p.answered(q) is not None
        seen += [m.shown for m in p.messages()[before:]]
    notices = "\n".join(seen)
    assert "Achievement unlocked: The Door Closes" in notices
    assert "Achievement unlocked: Over the Threshold" in notices
    assert "endings 1/" in page.shown and page.button_texts() == ["↻ Play again"]

    before = p.count()
    p.send("/leaderboard")
    board = p.wait_page(before)
    assert "Leaderboard — All time" in board.shown
    assert re.search(r"Vera — \d+", board.shown) and "You: #1" in board.shown
