"""Throughput of the `when` matcher: durable-rules itself (cache off) and with the memo.

Run: python bench/rules_bench.py [events per run]

About 20 rules over the built-in events, and a seeded mix of events shaped like a play
session (mostly `enter` and `choice`, some points, items, flags, stats). Each scenario runs
5 times in this process; the table shows the median and the range.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.rules_engine import RuleMatcher, WhenSpec

RUNS = 5
FRAGMENTS = [f"room_{i}" for i in range(30)] + ["hallway", "library", "study", "garden"]


def specs() -> list[WhenSpec]:
    def w(rule_id: str, event: str, **filters: object) -> WhenSpec:
        return WhenSpec(rule_id, event, tuple(filters.items()))

    return [
        w("explorer", "enter"),
        w("arrival", "enter", fragment="hallway"),
        w("bookworm", "enter", fragment="library"),
        w("night_owl", "enter", fragment="study"),
        w("gardener", "enter", fragment="garden"),
        w("first_steps", "start"),
        w("polite", "choice", fragment="hallway", choice="greet"),
        w("curious", "choice", choice="look"),
        w("rude", "choice", choice="ignore"),
        w("big_win", "award", points={"gte": 50}),
        w("small_win", "award", points={"gte": 1, "lt": 10}),
        w("courtesy", "award", reason="courtesy"),
        w("spender", "spend", points={"gt": 20}),
        w("collector", "unlock"),
        w("level_5", "level_up", level={"gte": 5}),
        w("keyholder", "item", item="silver_key", count={"gt": 0}),
        w("roses", "item", item="rose"),
        w("candle", "flag", flag="candle_lit", value=True),
        w("brave", "stat", stat="courage", value={"gte": 3}),
        w("coward", "stat", stat="courage", value={"lte": 0, "ne": -1}),
        w("finale", "ending", kind="good"),
    ]


def event_mix(n: int, seed: int = 7) -> list[dict[str, object]]:
    rng = random.Random(seed)
    kinds = ["enter", "choice", "award", "spend", "item", "flag", "stat", "unlock", "level_up"]
    weights = [40, 25, 12, 3, 6, 5, 5, 2, 2]
    events: list[dict[str, object]] = []
    for kind in rng.choices(kinds, weights, k=n):
        fragment = rng.choice(FRAGMENTS)
        if kind == "enter":
            events.append({"event": "enter", "fragment": fragment})
        elif kind == "choice":
            choice = rng.choice(["greet", "look", "ignore", "open", "leave", "wait"])
            events.append({"event": "choice", "fragment": fragment, "choice": choice})
        elif kind in ("award", "spend"):
            reason = rng.choice(["arrival", "courtesy", "quest", "tip"])
            events.append({"event": kind, "points": rng.randint(1, 100), "reason": reason})
        elif kind == "item":
            item = rng.choice(["silver_key", "rose", "candle", "map"])
            events.append({"event": "item", "item": item, "count": rng.choice([1, 1, 2, -1])})
        elif kind == "flag":
            flag = rng.choice(["candle_lit", "greeted", "door_open"])
            events.append({"event": "flag", "flag": flag, "value": rng.random() < 0.7})
        elif kind == "stat":
            stat = rng.choice(["courage", "wit"])
            events.append({"event": "stat", "stat": stat, "value": rng.randint(-2, 10)})
        elif kind == "unlock":
            events.append({"event": "unlock", "achievement": rng.choice(["explorer", "polite"])})
        else:
            events.append({"event": "level_up", "level": rng.randint(2, 10)})
    return events


def _op(value: object, op: str, x: float) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return {
        "gte": value >= x,
        "gt": value > x,
        "lte": value <= x,
        "lt": value < x,
        "eq": value == x,
        "ne": value != x,
    }[op]


def python_matcher(rules: Sequence[WhenSpec]) -> Callable[[Mapping[str, object]], tuple[str, ...]]:
    """The same semantics in plain Python, for scale."""

    def holds(event: Mapping[str, object], field: str, want: object) -> bool:
        if field not in event:
            return False
        value = event[field]
        if isinstance(want, Mapping):
            return all(_op(value, op, x) for op, x in want.items())
        return type(value) is type(want) and value == want

    def match(event: Mapping[str, object]) -> tuple[str, ...]:
        return tuple(
            r.rule_id
            for r in rules
            if event.get("event") == r.event and all(holds(event, f, v) for f, v in r.filters)
        )

    return match


def timed(run: Callable[[], Callable[[Mapping[str, object]], object]], events: list) -> float:
    match = run()  # construction is not timed
    start = time.perf_counter()
    for event in events:
        match(event)
    return len(events) / (time.perf_counter() - start)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    rules = specs()
    events = event_mix(n)
    distinct = len({tuple(sorted((k, type(v).__name__, v) for k, v in e.items())) for e in events})

    def warm() -> Callable[[Mapping[str, object]], object]:
        matcher = RuleMatcher(rules)
        for event in events:
            matcher.match(event)
        return matcher.match

    scenarios: list[tuple[str, Callable[[], Callable[[Mapping[str, object]], object]]]] = [
        ("cache off (durable-rules per event)", lambda: RuleMatcher(rules, cache=False).match),
        ("cache on, cold (first pass)", lambda: RuleMatcher(rules).match),
        ("cache on, warm", warm),
        ("plain Python loop (reference)", lambda: python_matcher(rules)),
    ]
    check = RuleMatcher(rules, cache=False)
    reference = python_matcher(rules)
    assert all(check.match(e) == reference(e) for e in events[:2_000]), "matcher disagrees"

    print(f"{len(rules)} rules, {n} events per run ({distinct} distinct), median of {RUNS} runs")
    print(f"Python {sys.version.split()[0]}")
    print()
    print(f"| {'scenario':<38} | {'matches/s':>10} | {'range':>17} | {'us/match':>8} |")
    print(f"|{'-' * 40}|{'-' * 12}|{'-' * 19}|{'-' * 10}|")
    for label, make in scenarios:
        rates = [timed(make, events) for _ in range(RUNS)]
        median = statistics.median(rates)
        spread = f"{min(rates):,.0f}-{max(rates):,.0f}"
        print(f"| {label:<38} | {median:>10,.0f} | {spread:>17} | {1e6 / median:>8.2f} |")


if __name__ == "__main__":
    main()
