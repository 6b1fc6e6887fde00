"""Includes: a text block or a set of choices declared once, included in several
fragments."""

from __future__ import annotations

import textwrap
from pathlib import Path

from stepkit import MANIFEST, write_story

from engine.lint import lint
from engine.load import load
from engine.state import new_state
from engine.step import Choose, Start, step

STORY = """\
fragments:
  a:
    text:
      - Room A.
      - include: note
    choices:
      - id: go
        text: Go on
        goto: b
      - include: back
  b:
    text: [Room B., {include: note}]
    choices: [{include: back}, {id: end, text: End, goto: c}]
  c:
    ending: good
    text: The end.
"""

SHARED = """\
includes:
  note:
    text:
      - if: {flag: lit}
        text: A candle burns.
        else: It is dark.
  back:
    choices:
      - id: light
        text: Light the candle
        effects: [{set: lit}]
"""


def story(tmp_path: Path, shared: str = SHARED):
    (tmp_path / "shared.yaml").parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "shared.yaml").write_text(textwrap.dedent(shared))
    return write_story(tmp_path, STORY, "flags:\n  lit: {}\n")


def test_included_text_and_choices_play_where_they_are_included(tmp_path):
    game = story(tmp_path)
    a, b = game.content.fragments["a"], game.content.fragments["b"]
    assert [c.id for c in a.choices] == ["go", "light"]
    assert [c.id for c in b.choices] == ["light", "end"]
    assert a.choices[1] is b.choices[0]  # built once, from its declaration
    assert a.choices[1].loc.file.endswith("shared.yaml")
    out = step(game, new_state(game.content), Start())
    assert out.screen.text == "Room A.\n\nIt is dark."
    out = step(game, step(game, out.state, Choose("light")).state, Choose("go"))
    assert out.screen.text == "Room B.\n\nA candle burns."


def test_unknown_duplicate_and_self_includes_are_reported(tmp_path):
    (tmp_path / "x").mkdir()
    story(tmp_path / "x", SHARED.replace("  back:", "  bakc:"))
    found = [(d.code, d.message) for d in lint(load(tmp_path / "x"))]
    assert ("R004", "unknown include `back` (no set of choices is declared with that id)"
            ) in found
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "more.yaml").write_text(
        "includes:\n  note:\n    text: Again.\n  loop:\n    text: [{include: loop}]\n")
    story(tmp_path / "y")
    (tmp_path / "y" / "story.yaml").write_text(STORY.replace(
        "- Room A.", "- Room A.\n      - include: loop"))
    codes = {(d.code, d.message.split(" (")[0]) for d in lint(load(tmp_path / "y"))}
    assert ("R001", "include `note` is declared twice") in codes
    assert ("R004", "include `loop` includes itself") in codes


def test_a_file_of_includes_alone_is_a_story_file(tmp_path):
    (tmp_path / "game.yaml").write_text(MANIFEST.format(start="a"))
    (tmp_path / "story.yaml").write_text(STORY)
    (tmp_path / "shared.yaml").write_text(SHARED)
    (tmp_path / "world.yaml").write_text("flags:\n  lit: {}\n")
    result = load(tmp_path)
    assert result.ok, [str(d) for d in result.diagnostics]


def test_sample_includes_a_text_block_and_a_set_of_choices():
    content = load(Path(__file__).resolve().parents[1] / "content").content
    assert content is not None
    salons = [f for f in content.fragments.values() if "chapter2" in f.tags]
    assert sum(any(c.id == "foyer" and c.loc.line < 12 for c in f.choices)
               for f in salons) >= 2
