"""What events an effect can raise, and whether a rule's `when:` clause can match them.

Lint uses this to find rule cycles without false alarms: it mirrors what `engine.step`
raises (an unlock raises `unlock` once per player and pays its reward once; a flag set to
the value it has raises nothing; levels are reached once each), and compares every
filter with the values the event can carry.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.model import Content, Effect, Rule

# A token names a change an effect makes; some effects can repeat only while another
# effect of the same cycle undoes their change (a flag set and cleared, items given and
# taken, points awarded and spent, a stat pushed up and down).
Token = tuple[Any, ...]
Needs = Callable[[set[Token]], bool]


@dataclass(frozen=True)
class Values:
    """The values an event field can take: one exact value, or a numeric interval."""

    exact: Any = None
    low: float = -math.inf
    high: float = math.inf
    is_exact: bool = False

    @staticmethod
    def of(value: Any) -> Values:
        return Values(exact=value, is_exact=True)

    @staticmethod
    def between(low: float | None, high: float | None) -> Values:
        return Values(low=-math.inf if low is None else low,
                      high=math.inf if high is None else high)


ANY = Values()

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "gte": operator.ge, "gt": operator.gt, "lte": operator.le, "lt": operator.lt,
    "eq": operator.eq, "ne": operator.ne,
}


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _may_equal(values: Values, want: Any) -> bool:
    if values.is_exact:
        # typed equality, as the matcher does: 1 never equals True nor "1"
        return (type(values.exact) is type(want) and values.exact == want) or (
            _is_number(values.exact) and _is_number(want) and values.exact == want)
    if _is_number(want):
        return values.low <= want <= values.high
    return values == ANY


def _may_compare(values: Values, cmp: Iterable[tuple[str, Any]]) -> bool:
    cmp = tuple(cmp)
    if values.is_exact:
        return _is_number(values.exact) and all(_OPS[op](values.exact, n) for op, n in cmp)
    low, high = values.low, values.high
    low_open = high_open = False
    for op, n in cmp:
        if op in ("gte", "gt") and (n > low or (n == low and op == "gt")):
            low, low_open = n, op == "gt"
        elif op in ("lte", "lt") and (n < high or (n == high and op == "lt")):
            high, high_open = n, op == "lt"
        elif op == "eq":
            if not low <= n <= high:
                return False
            low = high = n
    if low > high or (low == high and (low_open or high_open)):
        return False
    ne = [n for op, n in cmp if op == "ne"]
    return not (low == high and low in ne)


def may_match(rule: Rule, event: str, fields: Mapping[str, Values]) -> bool:
    """Can an event named `event` whose fields take `fields` match `rule`'s `when:`?"""
    if rule.event != event:
        return False
    for name, want in rule.filters:
        values = fields.get(name)
        if values is None:
            return False  # the event has no such field, so the filter never holds
        if isinstance(want, tuple):  # a comparison, stored as sorted (op, number) pairs
            if not _may_compare(values, want):
                return False
        elif not _may_equal(values, want):
            return False
    return True


@dataclass(frozen=True)
class Emission:
    """An event an effect raises. `renews` says whether it can be raised again and again:
    True, False, or a test of the tokens of the other effects in the same cycle."""

    event: str
    fields: Mapping[str, Values]
    what: str  # for messages: "gives `coin`"
    renews: bool | Needs = True

    def renewable(self, tokens: set[Token]) -> bool:
        return self.renews if isinstance(self.renews, bool) else self.renews(tokens)


@dataclass
class Effects:
    """The emissions of a list of effects and the tokens they provide."""

    emissions: list[Emission] = field(default_factory=list)
    tokens: set[Token] = field(default_factory=set)


def _has(*wanted: Token) -> Needs:
    return lambda tokens: any(t in tokens for t in wanted)


def _award(content: Content, points: Values, reason: str, what: str, renews: bool | Needs,
           out: Effects) -> None:
    out.emissions.append(Emission("award", {"points": points, "reason": Values.of(reason)},
                                  what, renews))
    levels = [lv.level for lv in content.manifest.levels]
    level = Values.between(min(levels[1:], default=None), max(levels, default=None)) \
        if len(levels) > 1 else ANY
    # A level is reached once per player, so a level_up never repeats without end.
    out.emissions.append(Emission("level_up", {"level": level}, what, False))


def effects_of(content: Content, effects: Iterable[Effect], cause: str,
               seen: frozenset[str] = frozenset(), first_visit: bool = False) -> Effects:
    """What `effects` (applied with cause `cause`) can raise. `first_visit` marks effects
    that run once per playthrough (on_first_enter), which cannot repeat."""
    out = Effects()
    capped = content.manifest.daily_points is not None
    for e in effects:
        repeats = not first_visit
        target = e.target
        if e.kind in ("award", "spend"):
            amount = int(e.amount)
            # The daily cap may cut an award; a spend is cut to the balance.
            points = (Values.between(1, amount) if capped or e.kind == "spend"
                      else Values.of(amount))
            reason = e.reason or cause
            if e.kind == "award":
                out.tokens.add(("award",))
                _award(content, points, reason, f"awards {amount}", repeats, out)
            else:
                out.tokens.add(("spend",))
                out.emissions.append(Emission(
                    "spend", {"points": points, "reason": Values.of(reason)}, f"spends {amount}",
                    repeats and _has(("award",))))
        elif e.kind in ("set", "clear"):
            other = "clear" if e.kind == "set" else "set"
            out.tokens.add((e.kind, target))
            out.emissions.append(Emission(
                "flag", {"flag": Values.of(target), "value": Values.of(e.kind == "set")},
                f"{'sets' if e.kind == 'set' else 'clears'} `{target}`",
                repeats and _has((other, target))))
        elif e.kind in ("give", "take"):
            n = int(e.amount)
            out.tokens.add((e.kind, target))
            count = Values.of(n) if e.kind == "give" else Values.between(-n, -1)
            out.emissions.append(Emission(
                "item", {"item": Values.of(target), "count": count},
                f"{'gives' if e.kind == 'give' else 'takes'} `{target}`",
                repeats if e.kind == "give" else repeats and _has(("give", target))))
        elif e.kind == "stat":
            stat = content.stats.get(str(target))
            low, high = (stat.min, stat.max) if stat else (None, None)
            op = e.op or "set"
            constant = op == "set" and e.source is None
            out.tokens.add((f"stat-{op}", target, e.amount if constant else None))
            renews: bool | Needs
            if op in ("mul", "clamp") or e.source is not None:
                # a value read from the state (or scaled by it): any value within bounds,
                # and it may change every time
                value = Values.between(low, high)
                renews = True
            elif op == "set":
                value = Values.of(e.amount)
                renews = _stat_moves(target, e.amount)
            else:
                value = Values.between(low, high)
                bounded = high if op == "add" else low
                back = "sub" if op == "add" else "add"
                renews = True if bounded is None else _stat_back(target, back)
            out.emissions.append(Emission("stat", {"stat": Values.of(target), "value": value},
                                          f"changes stat `{target}`", repeats and renews))
        elif e.kind == "unlock":
            # An achievement unlocks once per player: it and its reward never repeat.
            out.emissions.append(Emission("unlock", {"achievement": Values.of(target)},
                                          f"unlocks `{target}`", False))
            a = content.achievements.get(str(target))
            if a is not None and a.reward:
                _award(content, Values.between(1, a.reward) if capped else Values.of(a.reward),
                       f"achievement:{target}", f"unlocks `{target}`", False, out)
        elif e.kind == "goto":
            t = str(target)
            out.emissions.append(Emission("enter", {"fragment": Values.of(t)},
                                          f"goes to `{t}`", repeats))
            f = content.fragments.get(t)
            if f is not None:
                if f.ending is not None:
                    out.emissions.append(Emission(
                        "ending", {"fragment": Values.of(t), "kind": Values.of(f.ending)},
                        f"goes to `{t}`", repeats))
                if t not in seen:
                    for sub, first in ((f.on_enter, first_visit), (f.on_first_enter, True)):
                        more = effects_of(content, sub, f"fragment:{t}", seen | {t}, first)
                        out.emissions += [Emission(m.event, m.fields, f"goes to `{t}`, which "
                                                   f"{m.what}", m.renews)
                                          for m in more.emissions]
                        out.tokens |= more.tokens
        elif e.kind == "emit":
            out.emissions.append(Emission(str(target), {}, f"emits `{target}`", repeats))
    return out


def _stat_moves(stat: Any, value: Any) -> Needs:
    def needs(tokens: set[Token]) -> bool:
        return any((t[0] in ("stat-add", "stat-sub", "stat-mul", "stat-clamp")
                    and t[1] == stat)
                   or (t[0] == "stat-set" and t[1] == stat and t[2] != value) for t in tokens)
    return needs


def _stat_back(stat: Any, back: str) -> Needs:
    def needs(tokens: set[Token]) -> bool:
        return any(t[0] in (f"stat-{back}", "stat-set", "stat-mul", "stat-clamp")
                   and t[1] == stat for t in tokens)
    return needs


def rule_effects(content: Content, rule: Rule) -> Effects:
    return effects_of(content, rule.then, f"rule:{rule.id}")
