"""One evaluator for requirements, used by choices, paragraphs, effects and rules.

It answers with a verdict and, when the requirement fails, a sentence a player can read.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

from engine.expressions import resolved
from engine.messages import CMP_SYMBOLS, say
from engine.model import All, AnyOf, Compare, Comparison, Content, Has, Requirement
from engine.strings import string_value

State = Mapping[str, Any]

_OPS = {"gte": operator.ge, "gt": operator.gt, "lte": operator.le, "lt": operator.lt,
        "eq": operator.eq, "ne": operator.ne}


def compare(value: float, cmp: Comparison) -> bool:
    # (a loop, not all() over a generator: this runs for every button of every page)
    for op, target in cmp:  # noqa: SIM110
        if not _OPS[op](value, target):
            return False
    return True


def level_of(content: Content, state: State) -> int:
    level = content.level_for(state["earned"])
    return level.level if level else 0


def quantity(content: Content, state: State, subject: str, ref: str | None) -> Any:
    """The value a Compare requirement tests: a number, or a text for a string variable."""
    if subject == "points":
        return state["points"]
    if subject == "level":
        return level_of(content, state)
    if subject == "item":
        return state["items"].get(ref, 0)
    if subject == "stat":
        stat = content.stats.get(ref or "")
        return state["stats"].get(ref, stat.initial if stat else 0)
    if subject == "visited":
        return state["visits"].get(ref, 0)
    if subject == "string":
        return string_value(content, state, ref)
    if subject == "visited_count":
        return len(state["visits"])
    if subject == "achievements_count":
        return len(state["achievements"])
    if subject == "endings_count":
        return len(state["endings"])
    raise ValueError(subject)


def holds(req: Requirement | None, content: Content, state: State) -> bool:
    if req is None:
        return True
    if isinstance(req, Compare):
        cmp = resolved(content, state, req.cmp) if req.dynamic else req.cmp
        return compare(quantity(content, state, req.subject, req.ref), cmp)
    if isinstance(req, Has):
        if req.subject == "role":
            return state["player"]["role"] == req.ref
        if req.subject == "flag":
            return req.ref in state["flags"]
        if req.subject == "achievement":
            return req.ref in state["achievements"]
        return req.ref in state["endings"]
    if isinstance(req, All):
        return all(holds(r, content, state) for r in req.items)
    if isinstance(req, AnyOf):
        return any(holds(r, content, state) for r in req.items)
    return not holds(req.item, content, state)


def _name(text: Any, locale: str, content: Content) -> str:
    return text.get(locale, content.manifest.default_locale) if text is not None else ""


def _compare_reason(req: Compare, content: Content, state: State, locale: str) -> str:
    if req.subject == "string":
        var = content.strings.get(req.ref or "")
        name = _name(var.name if var else None, locale, content) or str(req.ref)
        op, want = next(((op, v) for op, v in req.cmp if not _OPS[op](
            string_value(content, state, req.ref), v)), req.cmp[0])
        return say(locale, f"string.{op}", name=name, value=want)
    have = quantity(content, state, req.subject, req.ref)
    have = int(have) if float(have).is_integer() else have
    cmp = resolved(content, state, req.cmp) if req.dynamic else req.cmp
    (op, n), *_ = [(op, n) for op, n in cmp if not _OPS[op](have, n)] or cmp
    n = int(n) if float(n).is_integer() else n
    simple = op == "gte"
    currency = _name(content.manifest.currency.name, locale, content)
    if req.subject == "points":
        key = "points.gte" if simple else ("points.lt" if op == "lt" else "points.other")
        return say(locale, key, n=n, have=have, currency=currency, cmp=CMP_SYMBOLS[op])
    if req.subject == "level":
        return say(locale, "level.gte" if simple else "level.other", n=n, have=have,
                   cmp=CMP_SYMBOLS[op])
    if req.subject == "item":
        item = content.items.get(req.ref or "")
        name = _name(item.name if item else None, locale, content) or str(req.ref)
        key = ("item.gte1" if n == 1 else "item.gte") if simple else "item.other"
        return say(locale, key, n=n, have=have, item=name, cmp=CMP_SYMBOLS[op])
    if req.subject == "stat":
        stat = content.stats.get(req.ref or "")
        name = _name(stat.name if stat else None, locale, content) or str(req.ref)
        return say(locale, "stat.gte" if simple else "stat.other", n=n, have=have, stat=name,
                   cmp=CMP_SYMBOLS[op])
    if req.subject == "visited":
        return say(locale, "visited.gte1" if simple and n == 1 else "visited.other")
    what = say(locale, f"what.{req.subject}")
    return say(locale, "count.gte" if simple else "count.other", n=n, have=have, what=what,
               cmp=CMP_SYMBOLS[op])


def reason(req: Requirement, content: Content, state: State, locale: str) -> str:
    """Why `req` does not hold, in the player's words. Call only when it does not hold."""
    if isinstance(req, Compare):
        return _compare_reason(req, content, state, locale)
    if isinstance(req, Has):
        if req.subject == "role":
            return say(locale, "role", role=req.ref.upper() if len(req.ref) <= 3 else req.ref)
        if req.subject == "flag":
            return say(locale, "flag")
        if req.subject == "achievement":
            ach = content.achievements.get(req.ref)
            return say(locale, "achievement",
                       achievement=_name(ach.name if ach else None, locale, content) or req.ref)
        return say(locale, "ending")
    if isinstance(req, All):
        failing = next(r for r in req.items if not holds(r, content, state))
        return reason(failing, content, state, locale)
    if isinstance(req, AnyOf):
        return say(locale, "any").join(reason(r, content, state, locale) for r in req.items)
    return say(locale, "not")
