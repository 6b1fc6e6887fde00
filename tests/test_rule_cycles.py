"""G006 (rule-cycle) against what play does: a loop lint reports makes the chain run into
`limits.max_chain` at play time, and a pattern lint accepts ends well before it."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.game import compile_game
from engine.lint import lint
from engine.load import load
from engine.state import new_state
from engine.step import Choose, Start, step

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
      - {id: knock, text: Knock, goto: hall, effects: [{award: 1}]}
  hall:
    text: A hall.
    ending: good
"""


def story(tmp_path: Path, rules: str) -> Path:
    (tmp_path / "story").mkdir()
    (tmp_path / "game.yaml").write_text(GAME)
    (tmp_path / "story" / "main.yaml").write_text(STORY)
    (tmp_path / "rules.yaml").write_text("flags:\n  done: {}\n  open: {initial: true}\n" + rules)
    return tmp_path


def g006(directory: Path) -> list[str]:
    result = load(directory)
    assert result.content is not None, [d.message for d in result.diagnostics]
    return [d.message for d in lint(result) if d.code == "G006"]


def knock(directory: Path) -> str | None:
    """Play the knock; the error code, or None when it went through."""
    game = compile_game(load(directory).content)
    state = step(game, new_state(game.content), Start("2025-01-06")).state
    outcome = step(game, state, Choose("knock", state["turn"], "2025-01-06"))
    return outcome.error.code if outcome.error else None


SELF_GUARDED = """\
rules:
  - id: bonus
    when: {event: award}
    if: {not: {flag: done}}
    then: [{set: done}, {award: 2}]
"""

# Each of these guards loops back: the flag the rule sets is cleared again in the loop.
UNDONE = {
    "by the rule itself": """\
rules:
  - id: bonus
    when: {event: award}
    if: {not: {flag: done}}
    then: [{set: done}, {clear: done}, {award: 2}]
""",
    "by a rule the loop fires": """\
rules:
  - id: bonus
    when: {event: award}
    if: {not: {flag: done}}
    then: [{set: done}, {award: 2}]
  - id: reset
    when: {event: flag, flag: done}
    then: [{clear: done}]
""",
    "only sometimes set": """\
rules:
  - id: bonus
    when: {event: award}
    if: {not: {flag: done}}
    then: [{set: done, chance: 0.5}, {award: 2}]
""",
}

SELF_CLEARING = """\
rules:
  - id: bonus
    when: {event: award}
    if: {all: [{flag: open}, {points: {gte: 0}}]}
    then: [{clear: open}, {award: 2}]
"""


def test_a_rule_that_turns_its_own_if_false_is_not_a_loop(tmp_path):
    d = story(tmp_path, SELF_GUARDED)
    assert g006(d) == []
    assert knock(d) is None


def test_a_rule_that_clears_the_flag_its_if_needs_is_not_a_loop(tmp_path):
    d = story(tmp_path, SELF_CLEARING)
    assert g006(d) == []
    assert knock(d) is None


@pytest.mark.parametrize("name", sorted(UNDONE))
def test_a_guard_the_loop_undoes_is_still_a_loop(tmp_path, name):
    d = story(tmp_path, UNDONE[name])
    assert g006(d), name
    if name != "only sometimes set":  # a coin flip may end it: no fixed outcome to check
        assert knock(d) == "runaway-chain"


def test_an_unguarded_award_loop_is_a_loop(tmp_path):
    d = story(tmp_path, "rules:\n  - id: bonus\n    when: {event: award}\n"
                        "    then: [{award: 2}]\n")
    assert g006(d) and knock(d) == "runaway-chain"
