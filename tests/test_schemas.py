"""The JSON Schemas in schemas/: valid draft 2020-12, described for editors, closed against
typos, and reporting each problem once, at the node that is wrong.

The loader maps `error.absolute_path` to a YAML line and column, so the bad-document cases
assert the exact list of (path, keyword) pairs: one error, at the deepest offending node.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "schemas"
NAMES = ("common", "game", "story", "rules")
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


SCHEMAS = {name: _load(name) for name in NAMES}
REGISTRY: Registry = Registry().with_resources(
    (f"{name}.schema.json", Resource.from_contents(schema, default_specification=DRAFT202012))
    for name, schema in SCHEMAS.items()
)
VALIDATORS = {
    kind: Draft202012Validator(SCHEMAS[kind], registry=REGISTRY)
    for kind in ("game", "story", "rules")
}


def errors(kind: str, doc: Any) -> list[tuple[list[str | int], str]]:
    found = VALIDATORS[kind].iter_errors(doc)
    return sorted(((list(e.absolute_path), str(e.validator)) for e in found), key=repr)


# ---- walking the schemas -------------------------------------------------------------


def _walk(node: Any, where: str, in_condition: bool = False
          ) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """Every subschema with its JSON pointer; `in_condition` is true below an `if`, whose
    subschemas only test a document and are never shown to writers."""
    if isinstance(node, dict):
        yield where, node, in_condition
        for key, value in node.items():
            if key in ("enum", "const", "required", "description", "$comment"):
                continue
            yield from _walk(value, f"{where}/{key}", in_condition or key == "if")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{where}/{i}", in_condition)


def _all_nodes() -> Iterator[tuple[str, dict[str, Any], bool]]:
    for name, schema in SCHEMAS.items():
        yield from _walk(schema, f"{name}.schema.json#")


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = SCHEMAS[name]
    assert schema["$schema"] == DRAFT
    Draft202012Validator.check_schema(schema)
    assert schema.get("description"), f"{name}.schema.json needs a top-level description"


def test_no_absolute_ids() -> None:
    """The loader registers each file under its name and editors resolve refs by path."""
    ids = [where for where, node, _ in _all_nodes() if "$id" in node]
    assert ids == []


def test_every_ref_resolves() -> None:
    refs = 0
    for name in NAMES:
        resolver = REGISTRY.resolver(base_uri=f"{name}.schema.json")
        for where, node, _ in _walk(SCHEMAS[name], f"{name}.schema.json#"):
            ref = node.get("$ref")
            if ref is None:
                continue
            refs += 1
            assert not re.match(r"^[a-z]+://", ref), f"{where}: absolute $ref {ref}"
            resolver.lookup(ref)  # raises if it does not resolve
    assert refs > 50


def test_every_property_and_definition_has_a_description() -> None:
    missing = []
    for where, node, in_condition in _all_nodes():
        if in_condition:
            continue
        for key, sub in node.get("properties", {}).items():
            if not (isinstance(sub, dict) and sub.get("description")):
                missing.append(f"{where}/properties/{key}")
        for key, sub in node.get("$defs", {}).items():
            if not sub.get("description"):
                missing.append(f"{where}/$defs/{key}")
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and not extra.get("description"):
            missing.append(f"{where}/additionalProperties")
    assert missing == []


# `when` is closed by its per-event branches (when_start, when_enter, ... when_custom).
OPEN_ON_PURPOSE = {"rules.schema.json#/$defs/when"}


def test_objects_with_fixed_keys_are_closed() -> None:
    """A typo such as `gotoo` must be an error at that key, not silently ignored."""
    open_objects = [
        where for where, node, in_condition in _all_nodes()
        if not in_condition and "properties" in node and "additionalProperties" not in node
        and where not in OPEN_ON_PURPOSE
    ]
    assert open_objects == []


# ---- documents that must validate ------------------------------------------------------

MANIFEST: dict[str, Any] = {
    "format": 1,
    "version": "1.2.0",
    "title": "The Velvet Door",
    "start": "prologue",
    "locales": ["en", "es"],
    "currency": {"id": "besitos", "name": "Besitos", "emoji": "💋"},
    "levels": [
        {"level": 1, "name": "Visitor", "points": 0},
        {"level": 2, "name": "Guest", "points": 50},
    ],
    "roles": ["free", "vip"],
    "limits": {"daily_points": 500},
    "rules": ["../rules"],
    "lint": {"severity": {"unreachable-fragment": "error", "flag-never-read": "off"}},
}

MINIMAL_MANIFEST: dict[str, Any] = {
    "format": 1,
    "version": "1.0.0",
    "title": "The Velvet Door",
    "start": "prologue",
    "currency": {"id": "besitos", "name": "Besitos"},
}

STORY: dict[str, Any] = {
    "fragments": {
        "prologue": {
            "title": "The Door",
            "text": "Lucien opens the door and studies you for a long moment.\n",
            "on_enter": [{"award": {"points": 5, "reason": "arrival"}}],
            "choices": [
                {"id": "greet", "text": "Greet him", "goto": "hallway",
                 "effects": [{"award": 10}, {"set": "greeted"}]},
                {"id": "golden", "text": "The golden door", "goto": "golden_room",
                 "requires": {"all": [{"role": "vip"}, {"points": {"gte": 50}}]},
                 "when_locked": "show",
                 "locked_text": "Only Diana's favoured guests may pass."},
                {"id": "bribe", "text": "Slip him a coin", "cost": 20, "goto": "hallway"},
            ],
        },
        "ending_leave": {"ending": "good", "text": "You step back into the night."},
    }
}

RULES: dict[str, Any] = {
    "achievements": {
        "explorer": {"name": "Explorer", "description": "Visit ten rooms", "reward": 25},
        "night_owl": {"name": "Night Owl", "description": "Find the hidden study",
                      "secret": True},
    },
    "items": {"silver_key": {"name": "Silver Key", "description": "Cold and heavy."}},
    "flags": {"greeted": {"description": "The player greeted Lucien"}},
    "stats": {"courage": {"name": "Courage", "initial": 0, "min": 0, "max": 10}},
    "events": {"candle_lit": {"description": "A candle was lit somewhere"}},
    "rules": [
        {"id": "explorer", "when": {"event": "enter"}, "if": {"visited_count": {"gte": 10}},
         "then": [{"unlock": "explorer"}]},
        {"id": "collector", "when": {"event": "unlock"},
         "if": {"achievements_count": {"gte": 5}},
         "then": [{"award": {"points": 100, "reason": "collector"}}], "priority": 10},
    ],
}


def story_with(fragment: dict[str, Any]) -> dict[str, Any]:
    return {"fragments": {"prologue": fragment}}


def choice_with(**choice: Any) -> dict[str, Any]:
    return story_with({"text": "Lucien waits.", "choices": [{"id": "go", "text": "Go", **choice}]})


def effect(e: Any) -> dict[str, Any]:
    return choice_with(effects=[e])


def requirement(r: Any) -> dict[str, Any]:
    return choice_with(requires=r)


def manifest(**changes: Any) -> dict[str, Any]:
    doc = {**MINIMAL_MANIFEST, **changes}
    return {k: v for k, v in doc.items() if v is not None}


def rule(**fields: Any) -> dict[str, Any]:
    return {"rules": [{"id": "r", "when": {"event": "start"}, "then": [{"set": "lamp"}],
                       **fields}]}


def when(**filters: Any) -> dict[str, Any]:
    return rule(when=filters)


EVERY_REQUIREMENT = [
    {"all": [{"role": "vip"}, {"points": {"gte": 50}}]},
    {"any": [{"flag": "candle_lit"}, {"not": {"flag": "coward"}}]},
    {"points": 50},
    {"points": {"gt": 0, "lte": 100}},
    {"level": 2},
    {"level": {"eq": 3}},
    {"role": "vip"},
    {"flag": "candle_lit"},
    {"item": "silver_key"},
    {"item": {"id": "silver_key", "gte": 2}},
    {"stat": {"id": "courage", "gte": 3}},
    {"stat": {"id": "courage", "lt": 2.5, "ne": 1}},
    {"visited": "hallway"},
    {"visited": {"fragment": "hallway", "gte": 2}},
    {"achievement": "explorer"},
    {"ending": "ending_leave"},
    {"visited_count": {"gte": 10}},
    {"achievements_count": {"gte": 5}},
    {"endings_count": 2},
]

EVERY_STORY_EFFECT = [
    {"award": 10},
    {"award": {"points": 10, "reason": "courtesy"}},
    {"spend": 5},
    {"spend": {"points": 5}},
    {"set": "greeted"},
    {"clear": "greeted"},
    {"give": "rose"},
    {"give": {"item": "rose", "count": 2}, "chance": 0.5},
    {"take": {"item": "rose"}},
    {"stat": {"id": "courage", "add": 1}, "if": {"not": {"flag": "coward"}}},
    {"stat": {"id": "courage", "sub": 0.5}},
    {"stat": {"id": "courage", "set": 0}},
    {"unlock": "explorer", "if": {"flag": "greeted"}, "chance": 1},
    {"emit": "candle_lit"},
]

GOOD: list[tuple[str, str, Any]] = [
    ("manifest from format.md", "game", MANIFEST),
    ("minimal manifest", "game", MINIMAL_MANIFEST),
    ("translated manifest and semver with prerelease and build", "game", manifest(
        version="2.0.0-beta.1+exp.sha.5114f85", title={"en": "The Door", "es": "La Puerta"},
        locales=["en", "pt_br"], limits={"daily_points": 500, "max_chain": 50},
        currency={"id": "besitos", "name": {"en": "Kisses", "es": "Besitos"}})),
    ("story from format.md", "story", STORY),
    ("paragraphs from format.md", "story", story_with({
        "ending": "neutral",
        "text": [
            "The library smells of old paper.",
            {"if": {"flag": "candle_lit"},
             "text": "By the candle's light you see a ledger on the desk.",
             "else": "It is too dark to read anything."},
            {"if": {"item": "silver_key"}, "text": {"en": "A lock.", "es": "Una cerradura."}},
            {"en": "Dust.", "es": "Polvo."},
        ]})),
    ("translated text and every fragment key", "story", story_with({
        "title": {"en": "Hall", "es": "Sala"},
        "text": {"en": "Lucien bows.", "es": "Lucien hace una reverencia."},
        "on_enter": [{"award": 1}], "on_first_enter": [{"give": "rose"}],
        "choices": [{"id": "go", "text": "Go", "once": True, "when_locked": "hide",
                     "requires": {"flag": "lamp"},
                     "goto": {"random": [{"to": "a", "weight": 3}, {"to": "b", "weight": 1}]}}],
        "tags": ["act1", "library"], "image": "img/hall.png"})),
    ("a choice that stays in its fragment", "story", choice_with(effects=[{"set": "lamp"}])),
    ("every requirement form", "story", story_with({"text": "x", "choices": [
        {"id": f"c{i}", "text": f"C{i}", "requires": r} for i, r in enumerate(EVERY_REQUIREMENT)
    ][:10]})),
    ("every requirement form, continued", "story", story_with({"text": "x", "choices": [
        {"id": f"c{i}", "text": f"C{i}", "requires": r} for i, r in enumerate(EVERY_REQUIREMENT)
    ][10:]})),
    ("every story effect", "story", choice_with(effects=EVERY_STORY_EFFECT)),
    ("ten choices", "story", story_with({"text": "x", "choices": [
        {"id": f"c{i}", "text": "x", "goto": "a"} for i in range(10)]})),
    ("rules from format.md", "rules", RULES),
    ("one section is enough", "rules", {"flags": {"lamp": {}}}),
    ("rules may goto, and use every effect", "rules", rule(
        then=[{"goto": "hallway", "if": {"flag": "lamp"}}, *EVERY_STORY_EFFECT],
        once=True, priority=-1, **{"if": {"visited": "hallway"}})),
    ("every built-in event filter", "rules", {"rules": [
        {"id": f"r{i}", "when": w, "then": [{"set": "lamp"}]} for i, w in enumerate([
            {"event": "start"},
            {"event": "enter", "fragment": "library"},
            {"event": "choice", "fragment": "prologue", "choice": "greet"},
            {"event": "ending", "fragment": "ending_leave", "kind": "secret"},
            {"event": "award", "points": {"gte": 50}, "reason": "achievement:explorer"},
            {"event": "spend", "points": 20, "reason": "tip"},
            {"event": "unlock", "achievement": "explorer"},
            {"event": "level_up", "level": {"gte": 3}},
            {"event": "item", "item": "rose", "count": {"lt": 0}},
            {"event": "flag", "flag": "lamp", "value": False},
            {"event": "stat", "stat": "courage", "value": {"gte": 2.5}},
            {"event": "candle_lit", "room": "library", "count": 2, "lit": True,
             "heat": {"gt": 0.5}},
        ])]}),
]


@pytest.mark.parametrize(("kind", "doc"), [(k, d) for _, k, d in GOOD],
                         ids=[label for label, _, _ in GOOD])
def test_good_documents_validate(kind: str, doc: Any) -> None:
    assert errors(kind, doc) == []


# ---- documents that must fail, and where -----------------------------------------------

C = ["fragments", "prologue", "choices", 0]
E = [*C, "effects", 0]
R = [*C, "requires"]
T = ["fragments", "prologue", "text"]
W = ["rules", 0, "when"]

BAD: list[tuple[str, str, Any, list[tuple[list[Any], str]]]] = [
    # story: fragments and choices
    ("misspelt choice key", "story", choice_with(gotoo="hallway"),
     [(C, "additionalProperties")]),
    ("once: yes is text in YAML 1.2", "story", choice_with(once="yes"),
     [([*C, "once"], "type")]),
    ("when_locked value", "story", choice_with(when_locked="hidden"),
     [([*C, "when_locked"], "enum")]),
    ("negative cost", "story", choice_with(cost=-1), [([*C, "cost"], "minimum")]),
    ("fractional cost", "story", choice_with(cost=2.5), [([*C, "cost"], "type")]),
    ("choice without text", "story",
     story_with({"text": "x", "choices": [{"id": "go", "goto": "a"}]}), [(C, "required")]),
    ("choice id is not an id", "story", choice_with(id="Go"), [([*C, "id"], "pattern")]),
    ("fragment without text", "story", story_with({"ending": "good"}),
     [(["fragments", "prologue"], "required")]),
    ("fragment id is not an id", "story", {"fragments": {"Hallway": {"text": "x"}}},
     [(["fragments"], "pattern")]),
    ("ending kind", "story", story_with({"text": "x", "ending": "happy"}),
     [(["fragments", "prologue", "ending"], "enum")]),
    ("story files hold only fragments", "story", {**STORY, "flags": {}},
     [([], "additionalProperties")]),
    # texts and paragraphs
    ("text must be a string, not a number", "story", story_with({"text": 42}),
     [(T, "type")]),
    ("empty text", "story", story_with({"text": ""}), [(T, "minLength")]),
    ("empty translation map", "story", story_with({"text": {}}), [(T, "minProperties")]),
    ("locale key is not a locale id", "story", story_with({"text": {"pt-BR": "Olá"}}),
     [(T, "pattern")]),
    ("translation must be a string", "story", story_with({"text": {"en": 3}}),
     [([*T, "en"], "type")]),
    ("empty paragraph list", "story", story_with({"text": []}), [(T, "minItems")]),
    ("conditional paragraph without if", "story",
     story_with({"text": ["a", {"text": "b", "else": "c"}]}), [([*T, 1], "required")]),
    ("misspelt key in a conditional paragraph", "story",
     story_with({"text": [{"if": {"flag": "lamp"}, "text": "b", "els": "c"}]}),
     [([*T, 0], "additionalProperties")]),
    ("bad id deep in a paragraph's requirement", "story",
     story_with({"text": [{"if": {"flag": "Lamp"}, "text": "b"}]}),
     [([*T, 0, "if", "flag"], "pattern")]),
    ("a single conditional paragraph must be in a list", "story",
     story_with({"text": {"if": {"flag": "lamp"}, "text": "b"}}),
     [([*T, "if"], "type")]),
    # goto
    ("goto is not an id", "story", choice_with(goto="Hall"), [([*C, "goto"], "pattern")]),
    ("random pick of one", "story", choice_with(goto={"random": [{"to": "a", "weight": 1}]}),
     [([*C, "goto", "random"], "minItems")]),
    ("random weight of zero", "story",
     choice_with(goto={"random": [{"to": "a", "weight": 0}, {"to": "b", "weight": 1}]}),
     [([*C, "goto", "random", 0, "weight"], "minimum")]),
    ("random target without weight", "story",
     choice_with(goto={"random": [{"to": "a", "weight": 1}, {"to": "b"}]}),
     [([*C, "goto", "random", 1], "required")]),
    # requirements
    ("requirement with two keys", "story", requirement({"flag": "a", "role": "b"}),
     [(R, "maxProperties")]),
    ("empty requirement", "story", requirement({}), [(R, "minProperties")]),
    ("misspelt requirement key: one error", "story", requirement({"flg": "a"}),
     [(R, "additionalProperties")]),
    ("misspelt second key: one error", "story", requirement({"flag": "a", "rol": "b"}),
     [(R, "additionalProperties")]),
    ("requirement written as a string", "story", requirement("vip"), [(R, "type")]),
    ("empty all", "story", requirement({"all": []}), [([*R, "all"], "minItems")]),
    ("nested comparison of the wrong type", "story",
     requirement({"all": [{"role": "vip"}, {"points": {"gte": "50"}}]}),
     [([*R, "all", 1, "points", "gte"], "type")]),
    ("points are whole numbers", "story", requirement({"points": 2.5}),
     [([*R, "points"], "type")]),
    ("empty comparison", "story", requirement({"points": {}}),
     [([*R, "points"], "minProperties")]),
    ("misspelt comparison", "story", requirement({"points": {"gtee": 3}}),
     [([*R, "points"], "additionalProperties")]),
    ("stat test without a comparison", "story", requirement({"stat": {"id": "courage"}}),
     [([*R, "stat"], "anyOf")]),
    ("stat test needs the map form", "story", requirement({"stat": "courage"}),
     [([*R, "stat"], "type")]),
    ("item map without a comparison", "story", requirement({"item": {"id": "key"}}),
     [([*R, "item"], "anyOf")]),
    ("item counts are whole numbers", "story", requirement({"item": {"id": "key", "gte": 1.5}}),
     [([*R, "item", "gte"], "type")]),
    ("visited map with an unknown key: one error", "story",
     requirement({"visited": {"fragment": "hall", "count": 2}}),
     [([*R, "visited"], "additionalProperties")]),
    ("not takes one requirement, not a list", "story", requirement({"not": [{"flag": "a"}]}),
     [([*R, "not"], "type")]),
    # effects
    ("effect with two actions", "story", effect({"award": 10, "set": "greeted"}),
     [(E, "maxProperties")]),
    ("effect with two actions and a modifier", "story",
     effect({"award": 10, "set": "greeted", "if": {"flag": "a"}}), [(E, "maxProperties")]),
    ("effect without an action", "story", effect({"chance": 0.5}), [(E, "minProperties")]),
    ("effect with only modifiers", "story", effect({"chance": 0.5, "if": {"flag": "a"}}),
     [(E, "minProperties")]),
    ("misspelt action: one error", "story", effect({"awrd": 10}),
     [(E, "additionalProperties")]),
    ("misspelt modifier: one error", "story", effect({"award": 1, "chnce": 0.5}),
     [(E, "additionalProperties")]),
    ("goto effects are for rules only", "story", effect({"goto": "hallway"}),
     [(E, "additionalProperties")]),
    ("goto effect in on_enter", "story", story_with({"text": "x", "on_enter": [{"goto": "a"}]}),
     [(["fragments", "prologue", "on_enter", 0], "additionalProperties")]),
    ("award is a number", "story", effect({"award": "ten"}), [([*E, "award"], "type")]),
    ("award is a whole number", "story", effect({"award": 2.5}), [([*E, "award"], "type")]),
    ("award of zero", "story", effect({"award": 0}), [([*E, "award"], "minimum")]),
    ("award map without points", "story", effect({"award": {"reason": "tip"}}),
     [([*E, "award"], "required")]),
    ("reason is an id", "story", effect({"award": {"points": 5, "reason": "Welcome gift"}}),
     [([*E, "award", "reason"], "pattern")]),
    ("give a count of zero", "story", effect({"give": {"item": "rose", "count": 0}}),
     [([*E, "give", "count"], "minimum")]),
    ("stat change with two operations", "story",
     effect({"stat": {"id": "courage", "add": 1, "sub": 1}}), [([*E, "stat"], "oneOf")]),
    ("stat change without an operation", "story", effect({"stat": {"id": "courage"}}),
     [([*E, "stat"], "oneOf")]),
    ("chance of zero", "story", effect({"set": "a", "chance": 0}),
     [([*E, "chance"], "exclusiveMinimum")]),
    ("chance above one", "story", effect({"set": "a", "chance": 1.5}),
     [([*E, "chance"], "maximum")]),
    ("bad requirement in an effect's if", "story", effect({"set": "a", "if": {"flg": "b"}}),
     [([*E, "if"], "additionalProperties")]),
    # manifest
    ("version read as a number", "game", manifest(version=1.2), [(["version"], "type")]),
    ("format 2", "game", manifest(format=2), [(["format"], "const")]),
    ("missing currency", "game", manifest(currency=None), [([], "required")]),
    ("unknown manifest key", "game", manifest(author="me"), [([], "additionalProperties")]),
    ("misspelt currency key", "game", manifest(currency={"id": "b", "name": "B", "emoij": "x"}),
     [(["currency"], "additionalProperties")]),
    ("start is an id", "game", manifest(start="Prologue"), [(["start"], "pattern")]),
    ("locale id", "game", manifest(locales=["pt-BR"]), [(["locales", 0], "pattern")]),
    ("duplicate locale", "game", manifest(locales=["en", "en"]), [(["locales"], "uniqueItems")]),
    ("no locales", "game", manifest(locales=[]), [(["locales"], "minItems")]),
    ("level numbers are whole", "game",
     manifest(levels=[{"level": 1.5, "name": "Visitor", "points": 0}]),
     [(["levels", 0, "level"], "type")]),
    ("level without points", "game", manifest(levels=[{"level": 1, "name": "Visitor"}]),
     [(["levels", 0], "required")]),
    ("daily limit of zero", "game", manifest(limits={"daily_points": 0}),
     [(["limits", "daily_points"], "minimum")]),
    ("severity value", "game", manifest(lint={"severity": {"unreachable-fragment": "warn"}}),
     [(["lint", "severity", "unreachable-fragment"], "enum")]),
    # rules files
    ("empty rules file", "rules", {}, [([], "minProperties")]),
    ("misspelt section", "rules", {"achievments": {}}, [([], "additionalProperties")]),
    ("negative reward", "rules", {"achievements": {"a": {"name": "A", "reward": -5}}},
     [(["achievements", "a", "reward"], "minimum")]),
    ("achievement without name", "rules", {"achievements": {"a": {"reward": 5}}},
     [(["achievements", "a"], "required")]),
    ("item without name", "rules", {"items": {"key": {}}}, [(["items", "key"], "required")]),
    ("flag written as null", "rules", {"flags": {"greeted": None}},
     [(["flags", "greeted"], "type")]),
    ("flag initial: no is text", "rules", {"flags": {"lamp": {"initial": "no"}}},
     [(["flags", "lamp", "initial"], "type")]),
    ("stat initial as text", "rules", {"stats": {"courage": {"initial": "0"}}},
     [(["stats", "courage", "initial"], "type")]),
    ("custom event named like a built-in one", "rules", {"events": {"enter": {}}},
     [(["events"], "not")]),
    ("rule without then", "rules", {"rules": [{"id": "r", "when": {"event": "start"}}]},
     [(["rules", 0], "required")]),
    ("rule with empty then", "rules", rule(then=[]), [(["rules", 0, "then"], "minItems")]),
    ("rule id is an id", "rules", rule(id="Explorer"), [(["rules", 0, "id"], "pattern")]),
    ("priority is whole", "rules", rule(priority=1.5), [(["rules", 0, "priority"], "type")]),
    ("when without event", "rules", when(fragment="x"), [(W, "required")]),
    ("misspelt filter of a built-in event", "rules", when(event="enter", fragmnet="library"),
     [(W, "additionalProperties")]),
    ("start has no fields", "rules", when(event="start", fragment="x"),
     [(W, "additionalProperties")]),
    ("filter of a list", "rules", when(event="award", points=[1, 2]),
     [([*W, "points"], "type")]),
    ("points filter is whole", "rules", when(event="award", points=2.5),
     [([*W, "points"], "type")]),
    ("ending kind filter", "rules", when(event="ending", kind="happy"),
     [([*W, "kind"], "enum")]),
    ("flag value filter is a boolean", "rules", when(event="flag", value="yes"),
     [([*W, "value"], "type")]),
    ("custom event filter of a list", "rules", when(event="candle_lit", room=["a"]),
     [([*W, "room"], "type")]),
    ("custom event comparison of text", "rules", when(event="candle_lit", heat={"gte": "a"}),
     [([*W, "heat", "gte"], "type")]),
]


@pytest.mark.parametrize(("kind", "doc", "expected"), [(k, d, x) for _, k, d, x in BAD],
                         ids=[label for label, _, _, _ in BAD])
def test_bad_documents_fail_at_the_offending_node(kind: str, doc: Any,
                                                  expected: list[tuple[list[Any], str]]) -> None:
    assert errors(kind, doc) == sorted(expected, key=repr)


def test_labels_are_unique() -> None:
    labels = [g[0] for g in GOOD] + [b[0] for b in BAD]
    assert len(labels) == len(set(labels))


# ---- the YAML the writers' reference shows ---------------------------------------------


def _yaml_blocks(path: Path) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def test_complete_examples_in_format_md_validate() -> None:
    """Every example in docs/format.md that names its schema on its first line."""
    yaml = pytest.importorskip("ruamel.yaml")
    checked = 0
    for block in _yaml_blocks(ROOT / "docs" / "format.md"):
        m = re.match(r"# yaml-language-server: \$schema=\S*?(\w+)\.schema\.json", block)
        if m is None:
            continue
        doc = yaml.YAML(typ="safe").load(block)
        assert errors(m.group(1), doc) == [], block
        checked += 1
    assert checked == 3


def test_fixture_story_validates() -> None:
    yaml = pytest.importorskip("ruamel.yaml")
    base = ROOT / "tests" / "fixtures" / "mini"
    for path in sorted(base.rglob("*.yaml")):
        doc = yaml.YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        kind = "game" if path.name == "game.yaml" else (
            "story" if isinstance(doc, dict) and "fragments" in doc else "rules")
        assert errors(kind, doc) == [], path


def _sample_files() -> list[Path]:
    return sorted(p for d in ("content", "rules") for p in (ROOT / d).rglob("*")
                  if p.suffix in (".yaml", ".yml"))


@pytest.mark.parametrize("path", _sample_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_sample_story_validates(path: Path) -> None:
    """The sample story in content/ and rules/, classified as the loader does."""
    yaml = pytest.importorskip("ruamel.yaml")
    doc = yaml.YAML(typ="safe").load(path.read_text(encoding="utf-8-sig"))
    kind = "game" if path == ROOT / "content" / "game.yaml" else (
        "story" if isinstance(doc, dict) and "fragments" in doc else "rules")
    assert errors(kind, doc) == [], path
