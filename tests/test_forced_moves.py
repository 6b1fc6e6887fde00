"""G007 (forced-move-cycle): rules that move the player on from fragment to fragment in a
cycle that never settles. Lint reports it as an error at every goto of the cycle, the
story does not load, and no command meets it with a traceback; a loop lint cannot prove
(a rule behind an `if:`) is rejected by `step` as a runaway chain, and the front ends
say so instead of crashing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.service import check_content
from cli.main import app
from engine.game import compile_game
from engine.lint import lint
from engine.load import load
from engine.model import Content
from engine.state import new_state
from engine.step import Start, step

GAME = """\
format: 1
version: 1.0.0
title: Loops
start: door
currency: {id: coins, name: Coins}
"""

STORY = """\
fragments:
  door:
    text: A door.
    choices:
      - {id: knock, text: Knock, goto: hall}
  hall:
    text: A hall.
    choices:
      - {id: leave, text: Leave, goto: garden}
  garden:
    text: A garden.
    ending: good
"""

# Entering `door` sends the player to `hall`, entering `hall` sends them back.
LOOP = """\
rules:
  - id: to_hall
    when: {event: enter, fragment: door}
    then: [{goto: hall}]
  - id: to_door
    when: {event: enter, fragment: hall}
    then:
      - goto: door
"""


def story(tmp_path: Path, rules: str, game: str = GAME) -> Path:
    (tmp_path / "story").mkdir(parents=True)
    (tmp_path / "game.yaml").write_text(game)
    (tmp_path / "story" / "main.yaml").write_text(STORY)
    (tmp_path / "rules.yaml").write_text(rules)
    return tmp_path


def run(*args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_lint_reports_a_cycle_of_forced_moves_as_an_error_at_every_goto(tmp_path):
    d = story(tmp_path, LOOP)
    found = [x for x in lint(load(d, display_base=d)) if x.code == "G007"]
    assert len(found) == 1
    g = found[0]
    assert g.severity.value == "error" and g.name == "forced-move-cycle"
    assert str(g.loc) == "rules.yaml:4:12"  # the `{goto: hall}` of to_hall
    assert [str(r) for r in g.related] == ["rules.yaml:8:9"]  # the `goto: door` of to_door
    assert "`to_hall`" in g.message and "`to_door`" in g.message


def test_every_output_format_shows_every_location(tmp_path):
    d = story(tmp_path, LOOP)
    cwd = Path.cwd()
    os.chdir(d)
    try:
        for fmt in ("full", "concise", "github"):
            code, out = run("lint", ".", "-f", fmt)
            assert code == 1
            assert "G007" in out and "rules.yaml:8:9" in out, fmt
        code, out = run("lint", ".", "-f", "json")
    finally:
        os.chdir(cwd)
    (entry,) = [e for e in json.loads(out) if e["code"] == "G007"]
    assert (entry["file"], entry["line"], entry["col"]) == ("rules.yaml", 4, 12)
    assert entry["related"] == [{"file": "rules.yaml", "line": 8, "col": 9}]


def test_a_self_loop_and_a_rule_on_every_entry(tmp_path):
    d = story(tmp_path, "rules:\n  - id: again\n    when: {event: enter}\n"
                        "    then: [{goto: garden}]\n")
    found = [x for x in lint(load(d, display_base=d)) if x.code == "G007"]
    assert len(found) == 1 and found[0].related == ()
    assert "`garden`" in found[0].message


def test_the_story_does_not_load_and_no_override_lets_it(tmp_path):
    d = story(tmp_path, LOOP, GAME + "lint: {severity: {G007: off, forced-move-cycle: info}}\n")
    result = load(d)
    assert result.content is None
    assert [x.code for x in result.diagnostics] == ["G007"]
    assert [x.severity.value for x in lint(result) if x.code == "G007"] == ["error"]
    checked = check_content(d)  # what the bot runs at start and on /reload
    assert checked.game_content is None and [e.code for e in checked.errors] == ["G007"]


@pytest.mark.parametrize("rules", [
    # a conditional goto, a rule that fires once, a higher-priority rule that may go
    # elsewhere first: each can settle, so none is a forced cycle
    LOOP.replace("then: [{goto: hall}]", "if: {points: {gte: 5}}\n    then: [{goto: hall}]"),
    LOOP.replace("then: [{goto: hall}]", "once: true\n    then: [{goto: hall}]"),
    LOOP.replace("then: [{goto: hall}]", "then: [{goto: hall, chance: 0.5}]"),
    LOOP + "  - id: out\n    when: {event: enter, fragment: hall}\n    priority: 1\n"
           "    if: {flag: lucky}\n    then: [{goto: garden}]\nflags:\n  lucky: {}\n",
])
def test_moves_that_can_settle_are_not_forced(tmp_path, rules):
    d = story(tmp_path, rules)
    result = load(d)
    assert result.content is not None
    assert not [x for x in lint(result) if x.code == "G007"]


# `if:` makes the loop unprovable for lint (G006 warns), yet it holds on every state.
UNPROVABLE = LOOP.replace("then: [{goto: hall}]", "if: {points: {gte: 0}}\n"
                          "    then: [{goto: hall}]")


def test_a_loop_lint_cannot_prove_is_rejected_by_step(tmp_path):
    content = load(story(tmp_path, UNPROVABLE)).content
    assert isinstance(content, Content)
    game = compile_game(content)
    outcome = step(game, new_state(content), Start("2025-01-06"))
    assert outcome.error is not None and outcome.error.code == "runaway-chain"
    assert outcome.state["fragment"] is None


def test_a_forced_chain_is_bounded_whatever_max_chain_says(tmp_path):
    game_yaml = GAME + "limits: {max_chain: 100000}\n"
    content = load(story(tmp_path, UNPROVABLE, game_yaml)).content
    assert content is not None
    outcome = step(compile_game(content), new_state(content), Start("2025-01-06"))
    assert outcome.error is not None and outcome.error.code == "runaway-chain"
    assert "moves" in outcome.error.message and "100000" not in outcome.error.message


def test_no_command_meets_a_proven_loop_with_a_traceback(tmp_path):
    d = str(story(tmp_path / "s", LOOP))
    db = str(tmp_path / "saves.sqlite3")
    for args in (["play", d, "--db", db, "--new"], ["simulate", d],
                 ["simulate", d, "--mode", "random", "--runs", "3"],
                 ["simulate", d, "--mode", "goal", "--target", "ending:garden"],
                 ["lint", d, "--deep"], ["graph", d]):
        code, out = run(*args, stdin="1\n")
        assert code == 1, args
        assert "error" in out, args


def test_no_command_meets_an_unprovable_loop_with_a_traceback(tmp_path):
    d = str(story(tmp_path / "s", UNPROVABLE))
    db = str(tmp_path / "saves.sqlite3")
    code, out = run("play", d, "--db", db, "--new", stdin="1\nstatus\nwhy\n1\nrestart\n")
    assert code == 1 and "runaway chain" in out
    code, out = run("simulate", d, "-f", "json")
    assert code == 0
    assert [f["kind"] for f in json.loads(out)["findings"]] == ["runaway-chain"]
    code, out = run("simulate", d, "--mode", "random", "--runs", "3", "-f", "json")
    assert code == 0 and json.loads(out)["outcomes"]["error"] == 3
    code, out = run("simulate", d, "--mode", "goal", "--target", "ending:garden")
    assert code == 1 and "impossible" in out
    code, out = run("lint", d, "--deep")
    assert code == 0 and "G006" in out
    code, _ = run("graph", d)
    assert code == 0
