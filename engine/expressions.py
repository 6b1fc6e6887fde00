"""Numbers read from the state where a constant could stand: a stat effect's operand
(`{stat: {id: gold, add: {stat: loot}}}`), a clamp's bounds, a comparison between two
stats (`{stat: {id: strength, gte: {stat: enemy_strength}}}`). No expression language and
no eval: an operand is a number or one declared stat, and the operations are a fixed few.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.model import Comparison, Content, Effect, Operand, VarRef

State = Mapping[str, Any]


def stat_value(content: Content, state: State, stat_id: str) -> float:
    stat = content.stats.get(stat_id)
    return state["stats"].get(stat_id, stat.initial if stat else 0)


def value_of(content: Content, state: State, x: Operand) -> float:
    return stat_value(content, state, x.stat) if isinstance(x, VarRef) else x


def resolved(content: Content, state: State, cmp: Comparison) -> Comparison:
    """A comparison with every stat it names replaced by that stat's value now."""
    return tuple((op, value_of(content, state, v)) for op, v in cmp)


def stat_result(content: Content, state: State, e: Effect, old: float) -> float:
    """The value a stat effect computes from the stat's `old` value, before the stat's own
    min and max (and the engine's bound) apply."""
    if e.op == "clamp":
        new = old
        if e.low is not None:
            new = max(new, value_of(content, state, e.low))
        if e.high is not None:
            new = min(new, value_of(content, state, e.high))
        return new
    x = value_of(content, state, e.source) if e.source is not None else e.amount
    if e.op == "add":
        return old + x
    if e.op == "sub":
        return old - x
    if e.op == "mul":
        return old * x
    return x
