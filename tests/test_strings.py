"""String variables: declaration, effects, requirements, interpolation, lint, old saves,
the simulator's state key."""

from __future__ import annotations

from pathlib import Path

import pytest
from stepkit import write_story

from engine.lint import lint
from engine.load import load
from engine.migrate import RENAMED, migrate_state, needs_migration
from engine.simulate.abstraction import Abstraction
from engine.state import new_state
from engine.step import Choose, Restart, Start, step

STORY = """\
fragments:
  a:
    text: "You are {string.mood}, {string.alias}."
    choices:
      - id: bold
        text: Be bold
        effects: [{string: {id: mood, set: bold}}]
      - id: named
        text: Take a name
        effects: [{string: {id: alias, set: "Countess Orlok"}}]
      - id: door
        text: The door
        requires: {string: {id: mood, eq: bold}}
        goto: b
      - id: sneak
        text: Sneak off
        requires: {string: {id: mood, ne: bold}}
        goto: b
  b:
    ending: good
    text: "Goodbye, {string.alias}."
"""

RULES = """\
strings:
  mood: {name: {en: Mood, es: Ánimo}, values: [calm, bold]}
  alias: {max_length: 8, initial: Guest, samples: [Violet]}
"""


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    return write_story(tmp_path_factory.mktemp("strings"), STORY, RULES)


def started(game):
    return step(game, new_state(game.content), Start()).state


def test_declarations_load_with_their_initial_values(game):
    mood, alias = game.content.strings["mood"], game.content.strings["alias"]
    assert mood.values == ("calm", "bold") and mood.initial == "calm"
    assert alias.max_length == 8 and alias.initial == "Guest" and alias.samples == ("Violet",)
    assert new_state(game.content)["strings"] == {"mood": "calm", "alias": "Guest"}


def test_effects_set_requirements_compare_and_text_interpolates(game):
    state = started(game)
    out = step(game, state, Choose("door"))
    assert out.error is not None and out.error.code == "locked"
    assert out.error.message == "Only when Mood is “bold”"
    out = step(game, state, Choose("bold"))
    assert out.state["strings"]["mood"] == "bold"
    assert out.screen.text == "You are bold, Guest."
    assert [c.id for c in out.screen.choices if c.available] == ["bold", "named", "door"]
    assert state["strings"]["mood"] == "calm"  # the input state is never changed


def test_free_text_is_cut_to_its_max_length_and_restart_resets(game):
    out = step(game, started(game), Choose("named"))
    assert out.state["strings"]["alias"] == "Countess"
    out = step(game, step(game, out.state, Choose("sneak")).state, Restart())
    assert out.state["strings"] == {"mood": "calm", "alias": "Guest"}


def test_interpolated_text_is_never_read_again_for_variables(game):
    state = started(game)
    state = {**state, "strings": {"mood": "calm", "alias": "{points}"}}
    out = step(game, state, Choose("sneak"))
    assert out.screen.text == "Goodbye, {points}."


def test_an_enum_value_lint_was_told_to_ignore_is_never_stored(tmp_path):
    story = STORY.replace("set: bold}", "set: brave}")
    (tmp_path / "x").mkdir()
    game = write_story(tmp_path / "x", story, RULES)
    out = step(game, started(game), Choose("bold"))
    assert out.ok and out.state["strings"]["mood"] == "calm" and not out.applied


def test_lint_reports_unknown_variables_values_and_interpolations(tmp_path):
    story = STORY.replace("{string.alias}.\"", "{string.alia}.\"").replace(
        "id: mood, ne: bold", "id: moods, ne: bold").replace("eq: bold", "eq: blod")
    write_story(tmp_path, story, RULES)
    found = {(d.code, d.message) for d in lint(load(tmp_path))}
    assert ("R004", "unknown string variable `moods`; did you mean `mood`?") in found
    assert ("R005", "text of `a`: no string variable `alia` is declared; did you mean"
                    " `{string.alias}`?") in found
    assert ("R009", "the requirement tests `eq` `blod`, not a value of string variable"
                    " `mood`; did you mean `bold`?") in found


@pytest.mark.parametrize("decl", [
    "{values: [calm], max_length: 4}", "{values: [calm], samples: [x]}", "{initial: x}",
    "{values: []}", "{max_length: 0}", "{max_length: 1001}",
])
def test_schema_refuses_malformed_declarations(tmp_path, decl):
    (tmp_path / "game.yaml").write_text(
        "format: 1\nversion: 1.0.0\ntitle: T\nstart: a\ncurrency: {id: c, name: C}\n")
    (tmp_path / "story.yaml").write_text(
        "fragments:\n  a:\n    ending: good\n    text: x\n")
    (tmp_path / "world.yaml").write_text(f"strings:\n  mood: {decl}\n")
    result = load(tmp_path)
    assert result.content is None
    assert [d.code for d in result.diagnostics] == ["S001"], result.diagnostics


def test_old_saves_get_their_strings_settled(game, tmp_path):
    state = started(game)
    old = {k: v for k, v in state.items() if k != "strings"}  # saved before strings
    assert needs_migration(game.content, old)
    new, m = migrate_state(game, old)
    assert m is not None and m.how == RENAMED and m.notice is None
    assert new["strings"] == {"mood": "calm", "alias": "Guest"}
    assert not needs_migration(game.content, new)
    # 2.1.0 drops `bold` and `alias`: the value goes back to the initial one
    (tmp_path / "v2").mkdir()
    v2 = write_story(tmp_path / "v2", STORY.replace("set: bold}", "set: calm}").replace(
        "eq: bold", "eq: calm").replace("ne: bold", "ne: calm").replace(
        "{string.alias}", "you").replace("      - id: named\n        text: Take a name\n"
        "        effects: [{string: {id: alias, set: \"Countess Orlok\"}}]\n", ""),
        "strings:\n  mood: {values: [calm, wary]}\n")
    bold = step(game, state, Choose("bold")).state
    assert not needs_migration(game.content, bold)
    bold = {**bold, "content_version": "1.9.0"}
    assert needs_migration(v2.content, bold)
    new, m = migrate_state(v2, bold)
    assert new["strings"] == {"mood": "calm"} and m is not None and m.how == RENAMED


def test_the_explored_state_keeps_strings_that_decide_moves(game):
    a = Abstraction.of(game.content)
    assert a.read_strings == frozenset({"mood"})
    s = started(game)
    bold = step(game, s, Choose("bold")).state
    named = step(game, s, Choose("named")).state
    assert a.key(bold) != a.key(s)
    assert a.key(named) == a.key(s)  # the alias is only shown, never tested


def test_sample_declares_and_uses_a_string_variable():
    content = load(Path(__file__).resolve().parents[1] / "content").content
    assert content is not None and content.strings
