"""Menus: fragments that open from any page and return the player to the page they left;
lint and the simulator treat them as reachable from everywhere and never as dead ends."""

from __future__ import annotations

from pathlib import Path

import pytest
from stepkit import SAMPLE, load_game, write_story
from typer.testing import CliRunner

from cli.main import app
from engine.lint import lint
from engine.load import load
from engine.menus import inert
from engine.simulate.explore import explore
from engine.state import new_state
from engine.step import Choose, Menu, Restart, Start, step

STORY = """\
fragments:
  a:
    text: Room A.
    on_enter: [{award: 1}]
    choices: [{id: go, text: Go, goto: b}]
  b:
    text: Room B.
    choices:
      - {id: stay, text: Wait, requires: {stat: {id: x, gte: 1}}}
      - {id: end, text: End, goto: c}
  c:
    ending: good
    text: The end.
  codex:
    menu: {label: Codex}
    text: "The codex: x is {stat.x}."
  sheet:
    menu: {label: Sheet}
    text: Sheet.
    choices:
      - {id: train, text: Train, once: true, effects: [{stat: {id: x, add: 1}}]}
      - {id: read, text: Read the codex, goto: codex}
      - {id: leave, text: Leave the house, goto: c}
"""


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    return write_story(tmp_path_factory.mktemp("menus"), STORY, "stats:\n  x: {}\n")


def at_b(game):
    s = step(game, new_state(game.content), Start()).state
    return step(game, s, Choose("go")).state


def test_a_menu_opens_from_any_page_and_returns_to_it(game):
    s = at_b(game)
    out = step(game, s, Menu("sheet", s["turn"]))
    assert out.ok and out.state["fragment"] == "sheet" and out.state["menu_from"] == "b"
    assert out.screen.back and out.screen.menus == (("codex", "Codex"),)
    assert out.state["visits"] == s["visits"] and not out.events  # no move: shown only
    out = step(game, out.state, Choose("train"))
    out = step(game, out.state, Choose("read"))  # menu to menu: the way back stays
    assert (out.state["fragment"], out.state["menu_from"]) == ("codex", "b")
    assert out.screen.text == "The codex: x is 1."
    back = step(game, out.state, Menu(None))
    assert (back.state["fragment"], back.state["menu_from"]) == ("b", None)
    assert back.state["points"] == s["points"]  # b's on_enter did not run again
    assert [c.id for c in back.screen.choices if c.available] == ["stay", "end"]


def test_menu_actions_that_cannot_be_are_refused(game):
    s = at_b(game)
    assert step(game, s, Menu("sheet", s["turn"] - 1)).error.code == "stale"
    assert step(game, s, Menu("a")).error.code == "unknown-menu"
    assert step(game, s, Menu(None)).error.code == "unknown-menu"
    opened = step(game, s, Menu("codex")).state
    assert step(game, opened, Menu("codex")).error.code == "unknown-menu"
    assert step(game, new_state(game.content), Menu("codex")).error.code == "not-started"


def test_a_menu_choice_into_the_story_leaves_the_menus(game):
    s = step(game, at_b(game), Menu("sheet")).state
    out = step(game, s, Choose("leave"))
    assert (out.state["fragment"], out.state["menu_from"]) == ("c", None)
    again = step(game, out.state, Restart())
    assert again.state["menu_from"] is None and again.state["fragment"] == "a"


def test_lint_and_simulate_count_menus_reachable_and_never_dead_ends(game, tmp_path):
    assert not [d for d in lint(load(_root(game))) if d.code in ("G001", "G002")]
    assert inert(game.content, "codex") and not inert(game.content, "sheet")
    ex = explore(game)
    assert ex.complete and not ex.findings
    assert ex.witnesses["fragment:codex"].steps == ("a.@codex",)
    assert ex.witnesses["choice:b.stay"].steps == ("a.go", "b.@sheet", "sheet.train",
                                                   "sheet.@", "b.stay")


def _root(game) -> Path:
    return Path(game.content.manifest.loc.file).parent


def test_play_opens_a_menu_and_goes_back(tmp_path):
    result = CliRunner().invoke(app, ["play", str(SAMPLE), "--db", str(tmp_path / "p.db"),
                                      "--new", "--record", str(tmp_path / "r.yaml")],
                                input="m1\nback\n2\nq\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "menus: 🎭 Your card (m1)" in out and "── Your Card ──" in out
    assert "b. ↩ back" in out and "── The Iron Gate ──" in out
    assert "prologue.@guest_card" in (tmp_path / "r.yaml").read_text()


def test_bot_menu_button_opens_the_menu_and_back_returns(tmp_path):
    from botkit import running_bot, start

    with running_bot(tmp_path, DIANA_CONTENT=str(SAMPLE), DIANA_RATE_LIMIT="100/1") as bot:
        p, page = start(bot, 7101)
        assert page.button_texts()[-1] == "🎭 Your card"
        before = p.count()
        p.tap(page, "Your card")
        card = p.wait_page(before)
        assert "Your Card" in card.shown and "Guest: Ana" in card.shown
        assert card.button_texts() == ["↩ Back"]
        before = p.count()
        _, stale = p.tap(page, "Your card", check=False)  # the page left behind
        assert p.answered(stale)["text"] and p.quiet(before)
        p.tap(card, "Back")
        again = p.wait_page(before)
        assert "The Invitation" in again.shown and "Step into the waiting car" in str(
            again.button_texts())


def test_a_save_in_a_menu_whose_page_is_gone_restarts_and_a_renamed_one_follows(
        game, tmp_path):
    from engine.migrate import RENAMED, RESTARTED, migrate_state

    s = step(game, at_b(game), Menu("codex")).state
    for name, extra, how, back_to in (("cut", "", RESTARTED, None),
                                      ("renamed", "migrate: {b: b2}\n", RENAMED, "b2")):
        (tmp_path / name).mkdir()
        write_story(tmp_path / name, STORY.replace("goto: b}", "goto: b2}").replace(
            "  b:\n", "  b2:\n"), "stats:\n  x: {}\n")
        manifest = tmp_path / name / "game.yaml"
        manifest.write_text(manifest.read_text() + extra)
        v2 = load_game(tmp_path / name)
        new, m = migrate_state(v2, {**s, "content_version": "1.0.0"})
        assert m is not None and m.how == how, name
        if back_to is None:
            assert new["fragment"] == "a" and new["menu_from"] is None
        else:
            assert (new["fragment"], new["menu_from"]) == ("codex", "b2")
            assert step(v2, new, Menu(None)).state["fragment"] == "b2"
