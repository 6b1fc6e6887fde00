"""Numbers in content are bounded to what the player store can hold.

Every number a writer types lies within ±CONTENT_MAX (the schemas' shared bound), a literal
too long to be a number of the format is refused by the loader before anything converts
it, each with a located S001; and play never makes a value the store cannot save
(SQLite INTEGER, signed 64 bits): running totals stop at TOTAL_MAX.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli.main import app
from engine.game import compile_game
from engine.lint import lint
from engine.load import load
from engine.numbers import CONTENT_MAX, STORE_MAX, STORE_MIN, TOTAL_MAX
from engine.state import State, new_state
from engine.step import Choose, Restart, Start, step

SCHEMAS = Path(__file__).parent.parent / "schemas"
N = "{N}"  # where a case puts its number

GAME = """\
format: 1
version: 1.0.0
title: Numbers
start: vault
currency: {id: coins, name: Coins}
levels:
  - {level: 1, name: One, points: 0}
  - {level: 2, name: Two, points: 10}
limits: {daily_points: 1000, max_chain: 100}
"""

STORY = """\
fragments:
  vault:
    text: A vault.
    choices:
      - id: earn
        text: Earn
        cost: 0
        goto: {random: [{to: vault, weight: 1}, {to: done, weight: 1}]}
        requires: {all: [{points: {gte: 0}}, {level: 1}, {stat: {id: power, gte: 0}},
                         {item: {id: gem, gte: 0}}, {visited: {fragment: vault, gte: 0}},
                         {visited_count: 0}]}
        effects:
          - award: 5
          - spend: {points: 1}
          - give: {item: gem, count: 2}
          - stat: {id: power, add: 1}
  done:
    text: Done.
    ending: good
"""

RULES = """\
achievements:
  rich: {name: Rich, reward: 5}
items:
  gem: {name: Gem}
stats:
  power: {name: Power, initial: 0, min: -5, max: 50}
rules:
  - id: bonus
    when: {event: award, points: {gte: 1}}
    priority: 0
    then: [{unlock: rich}]
"""

# (file, the text a number replaces, the replacement with N): one number of each kind.
FIELDS = {
    "level points": ("game.yaml", "points: 10}", "points: {N}}"),
    "level number": ("game.yaml", "level: 2,", "level: {N},"),
    "daily_points": ("game.yaml", "daily_points: 1000", "daily_points: {N}"),
    "max_chain": ("game.yaml", "max_chain: 100", "max_chain: {N}"),
    "cost": ("story.yaml", "cost: 0", "cost: {N}"),
    "weight": ("story.yaml", "to: done, weight: 1", "to: done, weight: {N}"),
    "points requirement": ("story.yaml", "points: {gte: 0}", "points: {gte: {N}}"),
    "level requirement": ("story.yaml", "{level: 1}", "{level: {N}}"),
    "stat requirement": ("story.yaml", "power, gte: 0", "power, gte: {N}"),
    "item requirement": ("story.yaml", "gem, gte: 0", "gem, gte: {N}"),
    "visited requirement": ("story.yaml", "vault, gte: 0", "vault, gte: {N}"),
    "visited_count": ("story.yaml", "visited_count: 0", "visited_count: {N}"),
    "award": ("story.yaml", "award: 5", "award: {N}"),
    "spend": ("story.yaml", "points: 1}", "points: {N}}"),
    "give count": ("story.yaml", "count: 2", "count: {N}"),
    "stat add": ("story.yaml", "add: 1", "add: {N}"),
    "reward": ("rules.yaml", "reward: 5", "reward: {N}"),
    "stat initial": ("rules.yaml", "initial: 0", "initial: {N}"),
    "stat min": ("rules.yaml", "min: -5", "min: {N}"),
    "stat max": ("rules.yaml", "max: 50", "max: {N}"),
    "filter": ("rules.yaml", "gte: 1}", "gte: {N}}"),
    "priority": ("rules.yaml", "priority: 0", "priority: {N}"),
}


def story(tmp_path: Path, field: str | None = None, number: str = "") -> tuple[Path, str]:
    """The story with `number` written where `field` says; the file it is in."""
    texts = {"game.yaml": GAME, "story.yaml": STORY, "rules.yaml": RULES}
    where = "story.yaml"
    if field is not None:
        where, old, new = FIELDS[field]
        assert texts[where].count(old) == 1, field
        texts[where] = texts[where].replace(old, new.replace(N, number))
    (tmp_path / "story").mkdir(exist_ok=True)
    (tmp_path / "game.yaml").write_text(texts["game.yaml"])
    (tmp_path / "story" / "main.yaml").write_text(texts["story.yaml"])
    (tmp_path / "rules.yaml").write_text(texts["rules.yaml"])
    return tmp_path, {"game.yaml": "game.yaml", "story.yaml": "story/main.yaml",
                      "rules.yaml": "rules.yaml"}[where]


def where_is(path: Path, needle: str) -> tuple[int, int]:
    """1-based line and column of the first `needle` in a file."""
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return n, line.index(needle) + 1
    raise AssertionError(f"{needle} not in {path}")


def located(directory: Path, rel: str, number: str) -> list[tuple[str, str, int, int]]:
    result = load(directory, display_base=directory)
    line, col = where_is(directory / rel, number)
    return [(d.code, d.loc.file, d.loc.line, d.loc.col) for d in lint(result)
            if (d.loc.file, d.loc.line, d.loc.col) == (rel, line, col)]


def test_the_base_story_is_clean(tmp_path):
    d, _ = story(tmp_path)
    assert [x.code for x in lint(load(d)) if x.severity.value == "error"] == []


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_a_number_past_the_bound_is_reported_where_it_is(tmp_path, field):
    for number in (str(CONTENT_MAX + 1), str(2**63), str(-(CONTENT_MAX + 1))):
        d, rel = story(tmp_path, field, number)
        found = located(d, rel, number)
        assert found and found[0][0] == "S001", (field, number)
    d, rel = story(tmp_path, field, str(CONTENT_MAX))  # the bound itself is not past it
    assert not [x for x in located(d, rel, str(CONTENT_MAX)) if x[0] == "S001"], field


@pytest.mark.parametrize("literal", ["9" * 5000, "-" + "9" * 5000, "0x" + "f" * 5000,
                                     "0o" + "7" * 5000, "!!int " + "1" * 5000,
                                     "0" * 4999 + "1", "1" * 21])
def test_a_huge_literal_is_refused_before_it_is_converted(tmp_path, literal):
    d, rel = story(tmp_path, "award", literal)
    result = CliRunner().invoke(app, ["lint", str(d), "-f", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception))
    assert result.exit_code == 1
    found = json.loads(result.stdout)
    line, col = where_is(d / rel, literal)
    assert [(x["code"], x["line"], x["col"]) for x in found] == [("S001", line, col)]
    assert len(found[0]["message"]) < 300


def test_a_huge_literal_as_a_key_is_refused_too(tmp_path):
    # (YAML itself refuses a key over 1,024 characters: a thousand digits is the most)
    d, _ = story(tmp_path)
    (d / "story" / "more.yaml").write_text("fragments:\n  " + "9" * 1000 + ": {text: x}\n")
    found = [(x.code, x.loc.line, x.loc.col) for x in lint(load(d, display_base=d))
             if x.loc.file == "story/more.yaml"]
    assert found == [("S001", 2, 3)]


# ---- the schemas carry the bound ---------------------------------------------------------


def _numeric(node: Any, where: str = "#"):
    """Every subschema that admits a number, with its JSON pointer."""
    if isinstance(node, dict):
        kind = node.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if "integer" in kinds or "number" in kinds:
            yield where, node
        for k, v in node.items():
            yield from _numeric(v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _numeric(v, f"{where}/{i}")


def test_every_number_in_every_schema_has_the_shared_bound():
    common = json.loads((SCHEMAS / "common.schema.json").read_text())
    bound = common["$defs"]["content_number"]
    assert (bound["minimum"], bound["maximum"]) == (-CONTENT_MAX, CONTENT_MAX)
    count = 0
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        ref = ("#" if path.name == "common.schema.json" else "common.schema.json#") \
            + "/$defs/content_number"
        for where, node in _numeric(json.loads(path.read_text())):
            count += 1
            assert node.get("$ref") == ref, f"{path.name}{where}"
    assert count > 50


# ---- play never leaves what the store can save ----------------------------------------

BIG = str(CONTENT_MAX)
EXTREME_GAME = f"""\
format: 1
version: 1.0.0
title: Extremes
start: vault
currency: {{id: coins, name: Coins}}
levels:
  - {{level: 1, name: One, points: 0}}
  - {{level: {BIG}, name: Top, points: {BIG}}}
limits: {{max_chain: {BIG}}}
"""
EXTREME_STORY = f"""\
fragments:
  vault:
    text: "{{points}} {{stat.up}} {{stat.down}} {{item.gem}}"
    choices:
      - id: earn
        text: Earn
        goto: vault
        effects:
          - award: {BIG}
          - award: {{points: {BIG}, reason: more}}
          - give: {{item: gem, count: {BIG}}}
          - stat: {{id: up, add: {BIG}}}
          - stat: {{id: down, sub: {BIG}}}
          - unlock: rich
      - id: pay
        text: Pay
        cost: {BIG}
        goto: done
        effects:
          - spend: {BIG}
          - take: {{item: gem, count: {BIG}}}
          - stat: {{id: up, set: -{BIG}}}
  done:
    text: Done.
    ending: good
"""
EXTREME_RULES = f"""\
achievements:
  rich: {{name: Rich, reward: {BIG}}}
items:
  gem: {{name: Gem}}
stats:
  up: {{name: Up, initial: {BIG}}}
  down: {{name: Down, initial: -{BIG}}}
rules:
  - id: echo
    when: {{event: choice, fragment: vault, choice: earn}}
    then:
      - award: {BIG}
      - give: {{item: gem, count: {BIG}}}
      - stat: {{id: up, add: {BIG}}}
"""


@pytest.fixture(scope="module")
def extreme(tmp_path_factory):
    d = tmp_path_factory.mktemp("extreme")
    (d / "story").mkdir()
    (d / "game.yaml").write_text(EXTREME_GAME)
    (d / "story" / "main.yaml").write_text(EXTREME_STORY)
    (d / "rules.yaml").write_text(EXTREME_RULES)
    result = load(d)
    assert result.content is not None and not [
        x for x in lint(result) if x.severity.value == "error"], lint(result)
    return compile_game(result.content)


def _integers(value: Any):
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _integers(k)
            yield from _integers(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _integers(v)


def _storable(state: State) -> None:
    bad = [n for n in _integers(state) if not STORE_MIN <= n <= STORE_MAX]
    assert not bad, bad
    assert state["points"] == sum(e["amount"] for e in state["ledger"]) + state["start_points"]


near = st.one_of(st.integers(0, 2**20), st.integers(TOTAL_MAX - 2**20, STORE_MAX),
                 st.integers(0, STORE_MAX))


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(points=near, spent=near, up=near, down=near, gems=near,
       moves=st.lists(st.sampled_from(["earn", "earn", "earn", "pay", "restart"]),
                      min_size=1, max_size=30))
def test_extreme_numbers_never_leave_what_the_store_can_save(extreme, points, spent, up,
                                                             down, gems, moves):
    """From any state the store can hold (totals up to 2^63 - 1), play with every content
    number at its bound never makes an integer the store cannot save."""
    state = dict(new_state(extreme.content))
    state["earned"] = max(points, spent)
    state["points"] = points
    state["stats"] = {"up": up, "down": -down}
    state["items"] = {"gem": gems}
    state["start_points"] = points  # the balance the ledger below adds to
    outcome = step(extreme, state, Start("2025-01-06"))
    assert outcome.ok, outcome.error
    state = outcome.state
    _storable(state)
    for move in moves:
        action = (Restart("2025-01-06") if move == "restart"
                  else Choose(move, state["turn"], "2025-01-06"))
        outcome = step(extreme, state, action)
        state = outcome.state
        _storable(state)
