"""End to end on the SAMPLE story (content/ + rules/, the default DIANA_CONTENT): the real
bot (`diana bot run`, a subprocess polling the emulator over HTTP) is played from /start
to an ending by pressing the buttons of a path the simulator finds for this player."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from botkit import ROOT, running_bot
from storekit import game_of

from engine.screen import render
from engine.simulate.goal import goal
from engine.step import Choose, Start, step
from engine.store import SyncStore
from engine.store.limits import default_seed

SAMPLE = ROOT / "content"
USER = 4242
TARGET = "achievement:door_closes"  # unlocked by reaching a bad ending


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    with running_bot(tmp_path_factory.mktemp("sample"), DIANA_CONTENT=str(SAMPLE),
                     DIANA_RATE_LIMIT="100/1") as proc:
        yield proc


def play_in_bot(bot, user: int, name: str, steps: list[tuple[str, str]]):
    """/start, then tap the button of each (fragment, label); the last page."""
    p = bot.player(user, name=name)
    before = p.count()
    p.send("/start")
    page = p.wait_page(before)
    for _, _, label in steps:
        before = p.count()
        _, q = p.tap(page, label)
        page = p.wait_page(before)
        assert p.answered(q) is not None
    return page


def path_for(player: str) -> list[tuple[str, str, str]]:
    """(fragment, choice id, English choice label) of the shortest path to TARGET for this player's
    seed (the bot seeds each player from their id, so chance plays out the same way)."""
    game = game_of(SAMPLE)
    witness, _ = goal(game, TARGET, roles=[game.content.manifest.default_role],
                      seeds=[default_seed(player)])
    assert witness is not None, f"no path to {TARGET}"
    out = []
    for move in witness.steps:
        fragment, choice_id = move.split(".", 1)
        choice = next(c for c in game.content.fragments[fragment].choices if c.id == choice_id)
        out.append((fragment, choice_id,
                    choice.text.get("en", game.content.manifest.default_locale)))
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
    for fragment, _, label in steps:
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
    # an ending offers its restart, and the story's menu as every page does
    assert "endings 1/" in page.shown
    assert page.button_texts() == ["🎭 Your card", "↻ Play again"]

    before = p.count()
    p.send("/leaderboard")
    board = p.wait_page(before)
    assert "Leaderboard — All time" in board.shown
    assert re.search(r"Vera — \d+", board.shown) and "You: #1" in board.shown


def test_the_cli_and_the_bot_produce_the_same_state(bot, tmp_path):
    """Invariant: the same content and the same actions give the same state, whether they
    come through the bot or through `diana play`."""
    player = "tg:4343"
    steps = path_for(player)
    page = play_in_bot(bot, 4343, "Rui", steps)
    assert "endings 1/" in page.shown

    # The CLI reads choice numbers: the position of each choice on its screen.
    game = game_of(SAMPLE)
    with SyncStore.open(tmp_path / "probe.sqlite3", game) as probe:
        probe.register(player, seed=default_seed(player))
        state = probe.state(player)
    state = step(game, state, Start("2025-01-06")).state
    numbers = []
    for _, choice_id, _ in steps:
        screen = render(game, state)
        numbers.append(1 + [c.id for c in screen.choices].index(choice_id))
        state = step(game, state, Choose(choice_id, state["turn"], "2025-01-06")).state
    db = tmp_path / "cli.sqlite3"
    r = subprocess.run([sys.executable, "-m", "cli.main", "play", str(SAMPLE), "--db", str(db),
                        "--player", player, "--seed", str(default_seed(player))],
                       input="".join(f"{n}\n" for n in numbers) + "quit\n", cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr

    with SyncStore.open(db, game) as cli:
        from_cli = cli.state(player)
    with SyncStore.open(bot.db, game_of(SAMPLE)) as live:
        from_bot = live.state(player)
    assert from_bot["player"].pop("name") == "Rui" and from_cli["player"].pop("name") == player
    assert from_bot["turn"] == len(steps) + 1 and from_bot["endings"] and from_bot["ledger"]
    assert from_cli == from_bot
