"""Expressions without eval: stat effects from a constant or another stat (add, sub, set,
mul, clamp), comparisons between stats, the stats' bounds, and what lint and the
simulator make of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from stepkit import write_story

from engine.lint import lint
from engine.load import load
from engine.model import VarRef
from engine.simulate.abstraction import Abstraction
from engine.state import new_state
from engine.step import Choose, Start, step

STORY = """\
fragments:
  a:
    text: "Gold {stat.gold}, loot {stat.loot}."
    choices:
      - id: loot
        text: Loot
        effects: [{stat: {id: gold, add: {stat: loot}}}]
      - id: lose
        text: Lose
        effects: [{stat: {id: gold, sub: {stat: loot}}}]
      - id: copy
        text: Copy
        effects: [{stat: {id: loot, set: {stat: gold}}}]
      - id: double
        text: Double
        effects: [{stat: {id: gold, mul: 2}}]
      - id: half
        text: Half
        effects: [{stat: {id: gold, mul: 0.5}}]
      - id: scale
        text: Scale
        effects: [{stat: {id: gold, mul: {stat: loot}}}]
      - id: cap
        text: Cap
        effects: [{stat: {id: gold, clamp: {min: 5, max: {stat: loot}}}}]
      - id: fight
        text: Fight
        requires: {stat: {id: strength, gte: {stat: enemy}}}
        goto: b
  b:
    ending: good
    text: Won.
"""

RULES = """\
stats:
  gold: {name: Gold, initial: 10, min: 0, max: 100}
  loot: {initial: 7}
  strength: {name: Strength, initial: 3}
  enemy: {initial: 4}
"""


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    return write_story(tmp_path_factory.mktemp("expr"), STORY, RULES)


def after(game, *choices: str) -> dict:
    state = step(game, new_state(game.content), Start()).state
    for c in choices:
        out = step(game, state, Choose(c))
        assert out.ok, out.error
        state = out.state
    return state["stats"]


@pytest.mark.parametrize(("choices", "gold", "loot"), [
    (("loot",), 17, 7),
    (("lose", "lose"), 0, 7),  # min 0
    (("copy",), 10, 10),
    (("double",), 20, 7),
    (("half", "half"), 2.5, 7),
    (("scale", "scale"), 100, 7),  # 10 × 7 × 7 stops at max 100
    (("cap",), 7, 7),
    (("lose", "cap"), 5, 7),  # 3, raised to the clamp's min
])
def test_stat_effects_read_constants_and_other_stats_within_bounds(game, choices, gold, loot):
    stats = after(game, *choices)
    assert (stats["gold"], stats["loot"]) == (gold, loot)


def test_a_comparison_between_stats_reads_both_at_the_state(game):
    state = step(game, new_state(game.content), Start()).state
    out = step(game, state, Choose("fight"))
    assert out.error is not None and out.error.message == "Needs Strength 4 — yours is 3"
    stronger = {**state, "stats": {**state["stats"], "strength": 4}}
    assert step(game, stronger, Choose("fight")).state["fragment"] == "b"


def test_the_loader_keeps_operands_as_references(game):
    a = game.content.fragments["a"]
    assert a.choice("loot").effects[0].source == VarRef("loot")
    cap = a.choice("cap").effects[0]
    assert (cap.op, cap.low, cap.high) == ("clamp", 5, VarRef("loot"))
    fight = a.choice("fight").requires
    assert fight.dynamic and fight.refs() == (VarRef("enemy"),)


def test_lint_reports_unknown_operands_and_schema_refuses_other_shapes(tmp_path):
    (tmp_path / "x").mkdir()
    write_story(tmp_path / "x", STORY.replace("{stat: enemy}", "{stat: enmy}")
                .replace("add: {stat: loot}", "add: {stat: lot}"), RULES)
    found = {(d.code, d.message) for d in lint(load(tmp_path / "x"))}
    assert ("R004", "unknown stat `enmy`; did you mean `enemy`?") in found
    assert ("R004", "unknown stat `lot`; did you mean `loot`?") in found
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "game.yaml").write_text((tmp_path / "x" / "game.yaml").read_text())
    (tmp_path / "y" / "rules.yaml").write_text(RULES)
    (tmp_path / "y" / "story.yaml").write_text(STORY.replace("add: {stat: loot}",
                                                             "add: {item: loot}"))
    result = load(tmp_path / "y")
    assert result.content is None and [d.code for d in result.diagnostics] == ["S001"]


def test_the_simulator_keeps_stats_read_through_others_exactly(game):
    a = Abstraction.of(game.content)
    # strength and enemy decide `fight`; gold and loot are only shown
    assert a.read_stats == frozenset({"strength", "enemy"})
    assert ("stat", "strength") not in a.caps and ("stat", "enemy") not in a.caps


def test_sample_uses_arithmetic_and_a_comparison_between_stats():
    content = load(Path(__file__).resolve().parents[1] / "content").content
    assert content is not None
    effects = [e for f in content.fragments.values() for e in f.on_enter if e.kind == "stat"]
    assert any(e.source is not None for e in effects) and any(e.op == "mul" for e in effects)
