"""The durable-rules matcher: filter semantics, exact typing, and the durable pitfalls."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping, Sequence

import pytest
from durable.engine import MessageNotHandledException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import rules_engine
from engine.rules_engine import RuleMatcher, RulesEngineError, WhenSpec, ruleset_json


def spec(rule_id: str, event: str, **filters: object) -> WhenSpec:
    return WhenSpec(rule_id, event, tuple(filters.items()))


# --- a reference implementation of the same semantics ------------------------------------

_OPS = {
    "gte": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "lte": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
}


def _kind(value: object) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "text" if isinstance(value, str) else None


def _holds(filter_value: object, event: Mapping[str, object], field: str) -> bool:
    if field not in event:
        return False
    value = event[field]
    if isinstance(filter_value, Mapping):
        return _kind(value) == "number" and all(
            _OPS[op](value, x) for op, x in filter_value.items()
        )
    return _kind(value) == _kind(filter_value) and value == filter_value


def reference(specs: Sequence[WhenSpec], event: Mapping[str, object]) -> tuple[str, ...]:
    return tuple(
        s.rule_id
        for s in specs
        if event.get("event") == s.event
        and isinstance(event.get("event"), str)
        and all(_holds(v, event, f) for f, v in s.filters)
    )


# --- equality and comparisons ------------------------------------------------------------


@pytest.mark.parametrize("cache", [True, False])
def test_equality_on_text_number_and_boolean(cache: bool) -> None:
    m = RuleMatcher(
        [
            spec("hall", "enter", fragment="hallway"),
            spec("ten", "award", points=10),
            spec("lit", "flag", flag="candle", value=True),
        ],
        cache=cache,
    )
    assert m.match({"event": "enter", "fragment": "hallway"}) == ("hall",)
    assert m.match({"event": "enter", "fragment": "library"}) == ()
    assert m.match({"event": "award", "points": 10, "reason": "arrival"}) == ("ten",)
    assert m.match({"event": "award", "points": 10.0}) == ("ten",)
    assert m.match({"event": "award", "points": 11}) == ()
    assert m.match({"event": "flag", "flag": "candle", "value": True}) == ("lit",)
    assert m.match({"event": "flag", "flag": "candle", "value": False}) == ()


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("gte", (False, True, True)),
        ("gt", (False, False, True)),
        ("lte", (True, True, False)),
        ("lt", (True, False, False)),
        ("eq", (False, True, False)),
        ("ne", (True, False, True)),
    ],
)
@pytest.mark.parametrize("cache", [True, False])
def test_each_comparison(op: str, expected: tuple[bool, bool, bool], cache: bool) -> None:
    m = RuleMatcher([spec("r", "award", points={op: 10})], cache=cache)
    got = tuple(m.match({"event": "award", "points": p}) == ("r",) for p in (9, 10, 11))
    assert got == expected
    got_float = tuple(m.match({"event": "award", "points": p}) == ("r",) for p in (9.5, 10.0, 10.5))
    assert got_float == expected


def test_comparisons_combine_and_ranges_hold() -> None:
    m = RuleMatcher([spec("band", "award", points={"gte": 10, "lt": 50})], cache=False)
    assert [p for p in (9, 10, 49, 50) if m.match({"event": "award", "points": p})] == [10, 49]


def test_ne_compiles_to_neq_and_needs_a_number() -> None:
    specs = [spec("not5", "award", points={"ne": 5})]
    text = repr(ruleset_json(specs))
    assert "'$neq'" in text and "'$ne'" not in text
    m = RuleMatcher(specs, cache=False)
    assert m.match({"event": "award", "points": 6}) == ("not5",)
    assert m.match({"event": "award", "points": 5}) == ()
    # absent, text or boolean: `ne` is a numeric comparison, it does not hold
    assert m.match({"event": "award"}) == ()
    assert m.match({"event": "award", "points": "6"}) == ()
    assert m.match({"event": "award", "points": True}) == ()


def test_ruleset_json_is_one_single_pattern_rule_per_spec_plus_a_catch_all() -> None:
    rulesets = ruleset_json([spec("a", "enter"), spec("b", "enter", fragment="hall")])
    assert list(rulesets) == ["enter#0"]
    body = rulesets["enter#0"]
    assert body["r0"] == {"all": [{"m": {"s_event": "enter"}}], "run": "r0"}
    assert body["r1"]["all"] == [{"m": {"$and": [{"s_event": "enter"}, {"s_fragment": "hall"}]}}]
    assert body["catch_all"]["all"] == [{"m": {"$ex": {"any": 1}}}]


# --- several matches, no match ------------------------------------------------------------


@pytest.mark.parametrize("cache", [True, False])
def test_all_matching_rules_are_reported_in_spec_order(cache: bool) -> None:
    specs = [
        spec("c", "award", points={"gte": 1}),
        spec("other", "enter"),
        spec("a", "award"),
        spec("b", "award", reason="arrival"),
        spec("no", "award", points={"gt": 100}),
        spec("d", "award", points=10, reason="arrival"),
    ]
    m = RuleMatcher(specs, cache=cache)
    assert m.match({"event": "award", "points": 10, "reason": "arrival"}) == ("c", "a", "b", "d")


def test_no_match_is_an_empty_tuple() -> None:
    m = RuleMatcher([spec("hall", "enter", fragment="hallway")], cache=False)
    assert m.match({"event": "enter", "fragment": "cellar"}) == ()
    assert m.match({"event": "enter"}) == ()
    assert m.match({"event": "unknown"}) == ()
    assert m.match({"fragment": "hallway"}) == ()
    assert m.match({"event": 3}) == ()
    assert m.match({}) == ()
    assert RuleMatcher([]).match({"event": "enter"}) == ()


def test_more_rules_than_durable_can_fire_at_once_are_sharded() -> None:
    # One fact may satisfy at most 63 rules of a ruleset (error 303), and a node with 512
    # children loops forever: both are avoided by shards of 63 rules.
    specs = [spec(f"r{i}", "award", points={"gte": i}) for i in range(200)]
    specs += [spec(f"f{i}", "enter", fragment=f"room{i}") for i in range(600)]
    m = RuleMatcher(specs, cache=False)
    assert m.match({"event": "award", "points": 1000}) == tuple(f"r{i}" for i in range(200))
    assert m.match({"event": "award", "points": 99}) == tuple(f"r{i}" for i in range(100))
    assert m.match({"event": "enter", "fragment": "room599"}) == ("f599",)


# --- durable's content-hash ids and sessions -------------------------------------------------


def test_identical_events_match_every_time() -> None:
    m = RuleMatcher([spec("hall", "enter", fragment="hallway"), spec("any", "enter")], cache=False)
    event = {"event": "enter", "fragment": "hallway"}
    assert all(m.match(event) == ("hall", "any") for _ in range(2_000))
    host = rules_engine._host()
    assert all(host.get_facts(name, m.session_id) == [] for name in m.ruleset_names)


def test_two_matchers_with_the_same_specs_coexist() -> None:
    specs = [spec("hall", "enter", fragment="hallway")]
    first, second = RuleMatcher(specs, cache=False), RuleMatcher(specs, cache=False)
    assert set(first.ruleset_names).isdisjoint(second.ruleset_names)
    event = {"event": "enter", "fragment": "hallway"}
    assert first.match(event) == second.match(event) == ("hall",)


def test_many_matches_keep_one_session_per_ruleset() -> None:
    m = RuleMatcher([spec("r", "award", points={"gte": 5}), spec("s", "award")], cache=False)
    for i in range(5_000):
        assert m.match({"event": "award", "points": i % 10}) == (
            ("r", "s") if i % 10 >= 5 else ("s",)
        )
    (name,) = m.ruleset_names
    host = rules_engine._host()
    assert host.get_facts(name, m.session_id) == []
    # durable has no way to list sessions, but a ruleset holds at most 1024 of them: if 1023
    # more fit and the next one does not, exactly one was in use.
    for k in range(1, 1024):
        host.update_state(name, {"sid": f"probe{k}"})
    with pytest.raises(MemoryError):
        host.update_state(name, {"sid": "probe1024"})


def test_no_background_threads() -> None:
    RuleMatcher([spec("r", "enter")]).match({"event": "enter"})
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]


# --- exact typing ----------------------------------------------------------------------------


@pytest.mark.parametrize("cache", [True, False])
def test_loose_typing_of_durable_does_not_leak(cache: bool) -> None:
    m = RuleMatcher(
        [
            spec("one", "item", count=1),
            spec("yes", "flag", value=True),
            spec("text1", "stat", stat="1"),
            spec("ge10", "award", points={"gte": 10}),
        ],
        cache=cache,
    )
    # durable alone: "1" == 1, true == 1, "abc" >= 10, "1" >= 10
    assert m.match({"event": "item", "count": True}) == ()
    assert m.match({"event": "item", "count": "1"}) == ()
    assert m.match({"event": "item", "count": 1}) == ("one",)
    assert m.match({"event": "item", "count": True}) == ()  # after 1 is cached
    assert m.match({"event": "flag", "value": 1}) == ()
    assert m.match({"event": "flag", "value": "true"}) == ()
    assert m.match({"event": "flag", "value": True}) == ("yes",)
    assert m.match({"event": "stat", "stat": 1}) == ()
    assert m.match({"event": "stat", "stat": "1"}) == ("text1",)
    assert m.match({"event": "award", "points": "abc"}) == ()
    assert m.match({"event": "award", "points": "1"}) == ()
    assert m.match({"event": "award", "points": True}) == ()
    assert m.match({"event": "award", "points": None}) == ()
    assert m.match({"event": "award", "points": [20]}) == ()


def test_numbers_durable_cannot_parse_still_compare_exactly() -> None:
    m = RuleMatcher(
        [
            spec("ge", "stat", value={"gte": 0.5}),
            spec("eq", "stat", value=9007199254740992),
            spec("pos", "stat", value={"gt": 0}),
            spec("zero", "stat", value=0),
        ],
        cache=False,
    )
    big = 10**30  # durable saturates 64-bit integers
    assert m.match({"event": "stat", "value": big}) == ("ge", "pos")
    assert m.match({"event": "stat", "value": 2**53 + 1}) == ("ge", "pos")
    assert m.match({"event": "stat", "value": 2**53}) == ("ge", "eq", "pos")
    assert m.match({"event": "stat", "value": math.inf}) == ("ge", "pos")
    assert m.match({"event": "stat", "value": -math.inf}) == ()
    assert m.match({"event": "stat", "value": 1e-05}) == ("pos",)  # durable: parse error
    assert m.match({"event": "stat", "value": -1e-05}) == ()
    assert m.match({"event": "stat", "value": -0.0}) == ("zero",)
    assert m.match({"event": "stat", "value": 5e-324}) == ("pos",)
    with pytest.raises(RulesEngineError, match="NaN"):
        m.match({"event": "stat", "value": math.nan})


def test_text_is_compared_exactly() -> None:
    tricky = ['quo"te', "back\\slash", "nul\x00byte", "é", "日本", "😀", "\\u0041", "x" * 5000]
    m = RuleMatcher([spec(f"t{i}", "enter", fragment=t) for i, t in enumerate(tricky)], cache=False)
    for i, text in enumerate(tricky):
        assert m.match({"event": "enter", "fragment": text}) == (f"t{i}",)
    for near in ["quo", "nul", "A", "e", "日", "x" * 4999, "\ud800"]:
        assert m.match({"event": "enter", "fragment": near}) == ()


# --- validation and errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([spec("a", "e"), spec("a", "f")], "twice"),
        ([spec("a", "e", x={"$ne": 1})], "unknown comparison"),
        ([spec("a", "e", x={"ne": "1"})], "needs a number"),
        ([spec("a", "e", x={"gte": True})], "needs a number"),
        ([spec("a", "e", x={})], "empty comparison"),
        ([spec("a", "e", x=None)], "a filter is"),
        ([spec("a", "e", x=[1])], "a filter is"),
        ([spec("a", "e", x=math.nan)], "finite"),
        ([spec("a", "e", x={"lt": 1e-05})], "cannot parse"),
        ([spec("a", "e", x=2**60)], "2\\*\\*53"),
        ([spec("a", "e", x="\ud800")], "UTF-8"),
        ([WhenSpec("a", "e", (("event", "x"),))], "WhenSpec.event"),
        ([WhenSpec("a", 3, ())], "event name"),  # type: ignore[arg-type]
    ],
)
def test_invalid_specs_are_rejected(specs: list[WhenSpec], message: str) -> None:
    with pytest.raises(RulesEngineError, match=message):
        RuleMatcher(specs)


def test_durable_exceptions_are_converted(monkeypatch: pytest.MonkeyPatch) -> None:
    m = RuleMatcher([spec("r", "enter")], cache=False)
    host = rules_engine._host()
    retracted: list[object] = []

    def refuse(ruleset: str, fact: dict[str, object], complete: object = None) -> None:
        raise MessageNotHandledException(fact)

    monkeypatch.setattr(host, "assert_fact", refuse)
    monkeypatch.setattr(
        host, "retract_fact", lambda rs, fact, complete=None: retracted.append(fact)
    )
    with pytest.raises(RulesEngineError, match="MessageNotHandledException") as info:
        m.match({"event": "enter"})
    assert not isinstance(info.value, MessageNotHandledException)
    assert len(retracted) == 1
    monkeypatch.undo()
    assert m.match({"event": "enter"}) == ("r",)


def test_a_failing_action_is_reported_and_the_session_recovers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Exploding(list[int]):
        def append(self, item: int) -> None:
            raise RuntimeError("boom")

    m = RuleMatcher([spec("r", "enter")], cache=False)
    monkeypatch.setattr(m, "_fired", Exploding())
    with pytest.raises(RulesEngineError, match="boom"):
        m.match({"event": "enter"})
    monkeypatch.undo()
    assert m.match({"event": "enter"}) == ("r",)


# --- cache and threads --------------------------------------------------------------------------


def test_cache_is_bounded_and_bypassable() -> None:
    specs = [spec("r", "award", points={"gte": 5})]
    m = RuleMatcher(specs, cache_size=8)
    for p in range(100):
        assert m.match({"event": "award", "points": p}) == (("r",) if p >= 5 else ())
    assert 0 < len(m._cache or {}) <= 8
    assert RuleMatcher(specs, cache=False)._cache is None


def test_cache_ignores_fields_no_rule_reads() -> None:
    m = RuleMatcher([spec("r", "award", points={"gte": 5})])
    for reason in ("a", "b", "c"):
        assert m.match({"event": "award", "points": 7, "reason": reason}) == ("r",)
    assert len(m._cache or {}) == 1


def test_concurrent_matches_are_correct() -> None:
    specs = [spec("r", "award", points={"gte": 5}), spec("s", "award")]
    m = RuleMatcher(specs, cache=False)
    errors: list[str] = []

    def work(offset: int) -> None:
        for i in range(500):
            event = {"event": "award", "points": (i + offset) % 10}
            if m.match(event) != reference(specs, event):
                errors.append(repr(event))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# --- property: durable agrees with the reference ----------------------------------------------

EVENTS = ["enter", "award", "é"]
FIELDS = ["x", "y", "a.b", "$z"]
texts = st.sampled_from(["", "1", "10", "true", "a", "A", 'q"', "\\", "é", "\x00", "1.0"])
numbers = st.one_of(
    st.integers(-20, 20),
    st.sampled_from([0.5, -0.5, 1.0, 10.0, 2.5, 1e-3, 123456.789, 1.5e-05, -2.5e-07]),
    st.sampled_from([2**53, -(2**53), 9007199254740991.0, 0.1 + 0.2]),
)
event_numbers = st.one_of(
    numbers,
    st.floats(allow_nan=False),
    st.sampled_from([1e-05, -2e-07, 5e-324, -1e-310, 1e16, 2.0**53, 2**53 + 1, -(2**63)]),
    st.integers(-(2**70), 2**70),
)
scalars = st.one_of(texts, numbers, st.booleans())
comparisons = st.dictionaries(
    st.sampled_from(["gte", "gt", "lte", "lt", "eq", "ne"]), numbers, min_size=1, max_size=3
)
spec_lists = st.lists(
    st.tuples(
        st.sampled_from(EVENTS),
        st.lists(st.tuples(st.sampled_from(FIELDS), st.one_of(scalars, comparisons)), max_size=3),
    ),
    max_size=8,
).map(lambda rows: [WhenSpec(f"rule{i}", e, tuple(fs)) for i, (e, fs) in enumerate(rows)])
events = st.fixed_dictionaries(
    {"event": st.one_of(st.sampled_from(EVENTS), st.integers(0, 1))},
    optional={
        f: st.one_of(scalars, event_numbers, st.text(max_size=4), st.just("\ud800"), st.none())
        for f in [*FIELDS, "w"]
    },
)


# RULES_EXAMPLES=3000 for a deeper run (about 20 s).
@settings(
    max_examples=int(os.environ.get("RULES_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(specs=spec_lists, batch=st.lists(events, min_size=1, max_size=8))
def test_match_agrees_with_the_reference(specs: list[WhenSpec], batch: list[dict]) -> None:
    cached, direct = RuleMatcher(specs), RuleMatcher(specs, cache=False)
    for event in batch + batch:
        expected = reference(specs, event)
        assert direct.match(event) == expected, event
        assert cached.match(event) == expected, event
