"""Text input: a fragment asks, the engine checks the answer and stores it, the simulator
types the declared samples, `diana play` reads a line."""

from __future__ import annotations

import pytest
from stepkit import SAMPLE, load_game, write_story
from typer.testing import CliRunner

from cli.main import app
from engine.actions import action_from_json, action_to_json
from engine.lint import lint
from engine.load import load
from engine.simulate.core import action_of
from engine.simulate.explore import explore
from engine.simulate.replay import record
from engine.state import new_state
from engine.step import Answer, Choose, Start, step

STORY = """\
fragments:
  a:
    text: "Your name?"
    input:
      into: alias
      allowed: [letters, spaces]
      min_length: 2
      effects: [{award: 5}]
      goto: b
  b:
    text: "Hello, {string.alias}. The word?"
    input:
      into: word
      invalid_text: {en: Not the word., es: No es la palabra.}
      goto: c
    choices:
      - id: skip
        text: Skip
        goto: c
  c:
    ending: good
    text: "Bye, {string.alias}."
"""

RULES = """\
strings:
  alias: {max_length: 12, samples: [Ana, "Bo Li", "x1"]}
  word: {values: [rose, thorn]}
"""


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    return write_story(tmp_path_factory.mktemp("input"), STORY, RULES)


def asked(game):
    return step(game, new_state(game.content), Start()).state


def test_a_valid_answer_is_stored_and_moves_on(game):
    out = step(game, asked(game), Answer("  Ana  ", 1))
    assert out.ok and out.state["strings"]["alias"] == "Ana"
    assert out.state["fragment"] == "b" and out.state["points"] == 5
    assert out.screen.text == "Hello, Ana. The word?" and out.screen.asks
    assert ("choice", (("choice", "input"), ("fragment", "a"))) in [
        (e.type, e.fields) for e in out.events]
    assert out.state["ledger"][-1]["reason"] == "input:a"


@pytest.mark.parametrize(("text", "code", "message"), [
    ("", "invalid-input", "Please type something."),
    ("A", "invalid-input", "Please type at least 2 characters."),
    ("x" * 10_000, "invalid-input", "That is too long: at most 12 characters (yours has 10000)."),
    ("An\x00a", "invalid-input", "That text holds control or invisible characters; type it"
                                 " again without them."),
    ("Ana\u202e", "invalid-input", "That text holds control or invisible characters; type"
                                   " it again without them."),
    ("Ana 😀", "invalid-input", "Only these are accepted: letters, spaces."),
    ("'; DROP --", "invalid-input", "Only these are accepted: letters, spaces."),
])
def test_an_invalid_answer_stores_nothing_and_says_why(game, text, code, message):
    state = asked(game)
    out = step(game, state, Answer(text, 1))
    assert out.state is state and out.error is not None
    assert (out.error.code, out.error.message) == (code, message)


def test_refusals_are_in_the_players_locale(game):
    state = step(game, new_state(game.content, locale="es"), Start()).state
    out = step(game, state, Answer("", 1))
    assert out.error is not None and out.error.message == "Escribe algo, por favor."


def test_an_enum_takes_only_its_values_with_the_writers_reason(game):
    state = step(game, asked(game), Answer("Ana")).state
    out = step(game, state, Answer("lily"))
    assert out.error is not None and out.error.message == "Not the word."
    out = step(game, state, Answer("thorn"))
    assert out.ok and out.state["strings"]["word"] == "thorn"


def test_stale_and_misplaced_answers_are_refused(game):
    state = asked(game)
    assert step(game, state, Answer("Ana", 0)).error.code == "stale"
    moved = step(game, step(game, state, Answer("Ana")).state, Choose("skip")).state
    assert step(game, moved, Answer("Ana")).error.code == "no-input"
    assert step(game, new_state(game.content), Answer("Ana")).error.code == "not-started"


def test_a_refused_answer_is_recorded_without_its_text():
    action = Answer("secret", 3, "2025-01-01")
    assert action_from_json(action_to_json(action)) == action
    assert action_to_json(action, keep_text=False) == {
        "type": "answer", "length": 6, "turn": 3, "day": "2025-01-01"}


def test_the_simulator_types_the_samples_the_input_accepts(game):
    ex = explore(game)
    assert ex.complete
    reached = {t.partition(":")[2] for t in ex.witnesses if t.startswith("fragment:")}
    assert reached == {"a", "b", "c"}
    # `x1` has a digit, which the input refuses: it is never typed
    assert action_of("a.=Bo Li") == Answer("Bo Li")
    replay = record(game, ["a.=Bo Li", "b.=rose"])
    assert replay.steps == ("a.=Bo Li", "b.=rose") and replay.end == "c"


def test_lint_knows_inputs(tmp_path):
    story = STORY.replace("into: alias", "into: alais").replace("goto: b", "goto: bb")
    write_story(tmp_path, story, RULES)
    found = {(d.code, d.message) for d in lint(load(tmp_path))}
    assert ("R004", "unknown string variable `alais`; did you mean `alias`?") in found
    assert ("R002", "unknown goto target `bb`") in found
    assert not any(code == "G002" for code, _ in found)  # an input is a way on


def test_play_reads_a_line_as_the_answer(tmp_path):
    result = CliRunner().invoke(app, [
        "play", str(SAMPLE), "--db", str(tmp_path / "p.sqlite3"), "--new",
        "--record", str(tmp_path / "run.yaml")],
        input="2\n1\n3\n\nViolet 😀\n=Mr. Status\nstatus\nq\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "✎ type your answer" in out and "Please type something." in out
    assert "Only these are accepted: letters, spaces, punctuation." in out
    assert "Lucien has written “Mr. Status”" in out
    assert "string alias: 'Mr. Status'" in out
    assert "guest_book.=Mr. Status" in (tmp_path / "run.yaml").read_text()


def test_sample_asks_for_a_name():
    game = load_game(SAMPLE)
    assert any(f.input is not None for f in game.content.fragments.values())
