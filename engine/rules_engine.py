"""Match rules' `when` clauses against events, with durable-rules as the matcher.

This is the only module that imports durable-rules. Given an event (a flat mapping such as
``{"event": "award", "points": 10, "reason": "arrival"}``), `RuleMatcher.match` answers which
rules' `when` clauses hold. Each clause compiles to one single-pattern rule with no joins, no
cross-pattern references, no `$s` state rules and no timers. A rule's `if` requirement and
its effects are evaluated elsewhere, in plain Python.

Quirks of durable-rules 2.0.28 this module guards against, and why:

- Loose typing: ``"1" == 1``, ``true == 1`` and ``"abc" >= 10`` all match (a string and a
  number are compared as text, cut to the shorter length). Every event field is therefore
  posted under a property named after its type (``s_`` text, ``n_`` number, ``b_`` boolean)
  and every filter tests the property of its own type, so values of different types never
  meet. Field names become ``<tag>_<field>`` (or ``<tag>_<index>`` when the field is not a
  plain identifier), because ``.`` in a name means a nested path and ``$`` an operator.
- A fact's identity is a hash of its content unless it carries an ``id``, and re-asserting a
  stored identity fails; each assertion gets a fresh process-wide ``id``.
- Events (`post`) fire only the first matching rule; facts fire all of them, so an event is
  asserted as a fact and retracted at once, on one fixed sid per ruleset. A fact that matches
  no rule raises and is not stored, so every ruleset has a catch-all rule. `delete_state` can
  crash the process and each ruleset holds at most 1024 sids: sids are never created per call.
- Unknown operators are accepted and never match (``$ne``): ``ne`` compiles to ``$neq``. An
  expression object with several keys tests only its first key: one key per object.
- The alpha network is walked with a 64-entry stack; a fact that satisfies more than 63
  disjoint rules besides the catch-all fails with error 303. A node with 512 or more children
  loops forever (at registration or at the first assertion). Rules are therefore split into
  rulesets (shards) of at most 63 rules, grouped by event name so an event visits only the
  shards of its own name.
- Numbers: integers are 64-bit and saturate; ``1e-05`` (an exponent without a fraction, which
  is how Python writes some floats) and ``Infinity`` are parse errors; ``NaN`` is read as
  null, which then fails even ``$neq``. Float literals must be within 2**53 and have a
  fraction in their repr. Event numbers beyond 2**53 (and infinities) are posted as
  +-(2**53 + 2), which orders the same way against every literal; a float written like
  ``1e-05`` is replaced by a parseable number strictly between the literals around it, so
  every comparison keeps its outcome. NaN is rejected.
- Strings that are not valid UTF-8 (lone surrogates) make durable fail; such an event value
  cannot equal any literal, so it is not posted.
- There is no unload or replace, and registering a name twice raises: ruleset names carry a
  process-wide counter. Rulesets live as long as the process: create one `RuleMatcher` per
  content version, not per event.
- The Host starts two self-rescheduling timer threads per process; `_run` is disabled so that
  every action runs synchronously on the caller's thread, inside our lock.
- An exception in an action is swallowed into the session state (``state['exception']``);
  it is detected, cleared, and reported as `RulesEngineError`.
- durable raises its own exception types (`MessageNotHandledException`,
  ``durable_rules_engine.error``, plain `Exception`); all are converted to `RulesEngineError`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from durable import engine as _durable

__all__ = ["RuleMatcher", "RulesEngineError", "WhenSpec", "ruleset_json"]


class RulesEngineError(Exception):
    """An invalid spec or event, or a failure inside durable-rules."""


@dataclass(frozen=True)
class WhenSpec:
    """A rule's `when` clause: an event name plus filters on the event's fields.

    A filter value is a str, int, float or bool (equality, exact in type: ``1`` never equals
    ``True`` nor ``"1"``) or a comparison mapping with keys ``gte``/``gt``/``lte``/``lt``/
    ``eq``/``ne`` and numeric values, all of which must hold for a numeric field.
    """

    rule_id: str
    event: str
    filters: tuple[tuple[str, object], ...] = ()


# --- compilation -------------------------------------------------------------------------

_EVENT_FIELD: Final = "event"
_SID: Final = "match"
_SENTINEL: Final = "any"  # set on every posted fact, so the catch-all rule matches it
_CATCH_ALL: Final = "catch_all"
_MAX_RULES_PER_SHARD: Final = 63  # 64-entry match stack, one entry kept for the catch-all
_SAFE_INT: Final = 2**53
_BEYOND: Final = 2**53 + 2  # exactly representable; greater than every accepted literal
_COMPARISONS: Final = {"gte": "$gte", "gt": "$gt", "lte": "$lte", "lt": "$lt", "ne": "$neq"}
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")

_TEXT, _NUMBER, _BOOL = "s", "n", "b"

Scalar = str | int | float | bool


def _tag_of(value: Scalar) -> str:
    if isinstance(value, bool):
        return _BOOL
    return _NUMBER if isinstance(value, int | float) else _TEXT


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _durable_can_parse(number: float) -> bool:
    # durable reads an exponent only after a fraction: "1.5e-05" parses, "1e-05" does not.
    return "." in repr(number)


def _literal(where: str, value: object) -> Scalar:
    """Check the literal of a filter; return it unchanged."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if not _is_utf8(value):
            raise RulesEngineError(f"{where}: the text {value!r} is not valid UTF-8")
        return value
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise RulesEngineError(f"{where}: {value!r} is not a finite number")
        if abs(value) > _SAFE_INT:
            raise RulesEngineError(f"{where}: {value!r} is beyond 2**53")
        if isinstance(value, float) and not _durable_can_parse(value):
            raise RulesEngineError(
                f"{where}: durable-rules cannot parse {value!r} (an exponent without a fraction)"
            )
        return value
    raise RulesEngineError(
        f"{where}: a filter is a text, a number, a boolean or a comparison, not {value!r}"
    )


@dataclass
class _Field:
    """How one event field is posted: one property per type that some filter tests."""

    props: dict[str, str]  # tag -> property name
    numbers: set[float]  # numeric literals used with this field


@dataclass(frozen=True)
class _Plan:
    fields: dict[str, _Field]
    shards: dict[str, list[tuple[str, dict[str, Any]]]]  # event name -> [(label, body)]


def _property(fields: dict[str, _Field], field: str, tag: str) -> str:
    entry = fields.setdefault(field, _Field({}, set()))
    if tag not in entry.props:
        base = field if _IDENTIFIER.fullmatch(field) else str(list(fields).index(field))
        entry.props[tag] = f"{tag}_{base}"
    return entry.props[tag]


def _expressions(spec: WhenSpec, fields: dict[str, _Field]) -> list[dict[str, Any]]:
    if not isinstance(spec.rule_id, str):
        raise RulesEngineError(f"a rule id is a text, not {spec.rule_id!r}")
    rule = f"rule {spec.rule_id!r}"
    if not isinstance(spec.event, str):
        raise RulesEngineError(f"{rule}: an event name is a text, not {spec.event!r}")
    event_prop = _property(fields, _EVENT_FIELD, _TEXT)
    exprs: list[dict[str, Any]] = [{event_prop: _literal(f"{rule}, event", spec.event)}]
    for pair in spec.filters:
        if not (isinstance(pair, tuple | list) and len(pair) == 2 and isinstance(pair[0], str)):
            raise RulesEngineError(f"{rule}: a filter is a (field, value) pair, not {pair!r}")
        field, value = pair
        where = f"{rule}, field {field!r}"
        if field == _EVENT_FIELD:
            raise RulesEngineError(f"{where}: the event name is WhenSpec.event")
        if not isinstance(value, Mapping):
            literal = _literal(where, value)
            tag = _tag_of(literal)
            exprs.append({_property(fields, field, tag): literal})
            if tag == _NUMBER and isinstance(literal, int | float):
                fields[field].numbers.add(literal)
            continue
        if not value:
            raise RulesEngineError(f"{where}: empty comparison")
        prop = _property(fields, field, _NUMBER)
        for op, operand in value.items():
            if op not in _COMPARISONS and op != "eq":
                raise RulesEngineError(
                    f"{where}: unknown comparison {op!r} (use gte, gt, lte, lt, eq or ne)"
                )
            if isinstance(operand, bool) or not isinstance(operand, int | float):
                raise RulesEngineError(f"{where}: {op} needs a number, not {operand!r}")
            literal = _literal(where, operand)
            assert isinstance(literal, int | float)
            fields[field].numbers.add(literal)
            exprs.append({prop: literal} if op == "eq" else {_COMPARISONS[op]: {prop: literal}})
    return exprs


def _compile(specs: Sequence[WhenSpec]) -> _Plan:
    fields: dict[str, _Field] = {}
    by_event: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        if not isinstance(spec, WhenSpec):
            raise RulesEngineError(f"expected a WhenSpec, got {spec!r}")
        exprs = _expressions(spec, fields)
        if spec.rule_id in seen:
            raise RulesEngineError(f"rule id {spec.rule_id!r} appears twice")
        seen.add(spec.rule_id)
        expr = exprs[0] if len(exprs) == 1 else {"$and": exprs}
        by_event.setdefault(spec.event, []).append((index, expr))
    shards: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for event, rules in by_event.items():
        for start in range(0, len(rules), _MAX_RULES_PER_SHARD):
            body: dict[str, Any] = {
                f"r{index}": {"all": [{"m": expr}], "run": f"r{index}"}
                for index, expr in rules[start : start + _MAX_RULES_PER_SHARD]
            }
            body[_CATCH_ALL] = {"all": [{"m": {"$ex": {_SENTINEL: 1}}}], "run": _CATCH_ALL}
            label = f"{event}#{start // _MAX_RULES_PER_SHARD}"
            shards.setdefault(event, []).append((label, body))
    return _Plan(fields, shards)


def ruleset_json(specs: Sequence[WhenSpec]) -> dict[str, dict[str, Any]]:
    """The declarative durable-rules rulesets for `specs`, keyed by shard label.

    A label is ``"<event>#<n>"``; each value is a ruleset body: rule ``r<i>`` is the spec at
    position ``i`` and ``run`` names the rule itself (`RuleMatcher` binds its own actions).
    """
    return _bodies(_compile(specs))


def _bodies(plan: _Plan) -> dict[str, dict[str, Any]]:
    return {label: body for shards in plan.shards.values() for label, body in shards}


# --- the engine host ---------------------------------------------------------------------


class _Host(_durable.Host):
    """One per process: actions are looked up in a table; no background threads."""

    def __init__(self) -> None:
        self.pending_actions: dict[str, Callable[[Any], None]] = {}
        super().__init__()

    def _run(self) -> None:
        # The timer threads would poll every ruleset 5x/s forever; we use no timers and no
        # deferred actions, so nothing needs to run outside the caller's thread.
        return None

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        try:
            return self.pending_actions.pop(action_name)
        except KeyError:
            raise RulesEngineError(f"no action bound to {action_name!r}") from None


_LOCK: Final = threading.Lock()
_HOST: _Host | None = None
_MATCHERS = itertools.count(1)
_FACT_IDS = itertools.count(1)


def _host() -> _Host:
    global _HOST
    if _HOST is None:
        _HOST = _Host()
    return _HOST


def _describe(exc: BaseException) -> str:
    message = getattr(exc, "message", None)  # MessageNotHandledException's str() is a dict repr
    return f"{type(exc).__name__}: {message if message is not None else exc}"


def _post_number(value: float, literals: set[float]) -> float:
    """A number durable can parse that compares with every literal as `value` does."""
    if isinstance(value, float):
        if math.isnan(value):
            raise RulesEngineError("an event field is NaN, which compares with nothing")
        if math.isinf(value):
            return _BEYOND if value > 0 else -_BEYOND
    if abs(value) > _SAFE_INT:
        return _BEYOND if value > 0 else -_BEYOND
    if isinstance(value, int):
        return value
    if value.is_integer():
        return int(value)
    if _durable_can_parse(value):
        return value
    # Any parseable number strictly between the literals around `value` compares the same.
    low = max((x for x in literals if x < value), default=-math.inf)
    high = min((x for x in literals if x > value), default=math.inf)
    candidates = [math.nextafter(value, -math.inf), math.nextafter(value, math.inf)]
    if math.isfinite(low) and math.isfinite(high):
        candidates.append((low + high) / 2)
    elif math.isfinite(low):
        candidates.append(low + 1)
    elif math.isfinite(high):
        candidates.append(math.floor(high) - 1)
    else:
        candidates.append(0)
    for near in candidates:
        if low < near < high and (isinstance(near, int) or _durable_can_parse(near)):
            return near
    raise RulesEngineError(f"durable-rules cannot represent the event value {value!r}")


# --- the matcher -------------------------------------------------------------------------

_Key = tuple[tuple[str, object], ...]


class RuleMatcher:
    """Which rules' `when` clauses match an event.

    The match is a pure function of the event's content, so results are memoized, keyed by
    the typed values of the fields some rule reads (at most `cache_size` entries; the memo is
    cleared when full). `cache=False` sends every event through durable-rules. Thread-safe.
    Rulesets cannot be unloaded: build one matcher per content version, not per event.
    """

    def __init__(
        self, specs: Sequence[WhenSpec], *, cache: bool = True, cache_size: int = 65_536
    ) -> None:
        specs = tuple(specs)
        plan = _compile(specs)
        self._rule_ids: tuple[str, ...] = tuple(spec.rule_id for spec in specs)
        self._fields = plan.fields
        self._cache: dict[_Key, tuple[str, ...]] | None = {} if cache else None
        self._cache_size = cache_size
        self._fired: list[int] = []
        self._shards: dict[str, tuple[str, ...]] = {}
        bodies = _bodies(plan)
        digest = hashlib.sha256(
            json.dumps(bodies, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()[:8]
        with _LOCK:
            host = _host()
            base = f"diana_when_{next(_MATCHERS)}_{digest}"
            definitions: dict[str, dict[str, Any]] = {}
            for event, shards in plan.shards.items():
                names = []
                for _label, body in shards:
                    name = f"{base}_{len(definitions)}"
                    for rule_name, rule in body.items():
                        rule["run"] = action = f"{name}.{rule_name}"
                        host.pending_actions[action] = self._action(rule_name)
                    definitions[name] = body
                    names.append(name)
                self._shards[event] = tuple(names)
            try:
                host.register_rulesets(definitions)
            except Exception as exc:
                raise RulesEngineError(
                    f"durable-rules refused the rules: {_describe(exc)}"
                ) from exc
            finally:
                for name, body in definitions.items():
                    for rule_name in body:
                        host.pending_actions.pop(f"{name}.{rule_name}", None)

    def _action(self, rule_name: str) -> Callable[[Any], None]:
        index = -1 if rule_name == _CATCH_ALL else int(rule_name[1:])

        # durable calls a one-parameter function synchronously (two parameters = async).
        def record(c: Any) -> None:
            self._fired.append(index)

        return record

    @property
    def ruleset_names(self) -> tuple[str, ...]:
        """The names of this matcher's durable rulesets (one session each)."""
        return tuple(name for names in self._shards.values() for name in names)

    @property
    def session_id(self) -> str:
        """The one sid used in each of this matcher's rulesets."""
        return _SID

    def _encode(self, event: Mapping[str, object]) -> _Key:
        items: list[tuple[str, object]] = []
        for field, value in event.items():
            entry = self._fields.get(field)
            if entry is None:
                continue
            posted: object = value
            if isinstance(value, bool):
                prop = entry.props.get(_BOOL)
            elif isinstance(value, int | float):
                prop = entry.props.get(_NUMBER)
                if prop is not None:
                    posted = _post_number(value, entry.numbers)
            elif isinstance(value, str):
                # A text that is not UTF-8 cannot equal a literal (they all are); durable
                # would fail on it.
                prop = entry.props.get(_TEXT) if _is_utf8(value) else None
            else:
                prop = None
            if prop is not None:  # else no filter tests this field with this type of value
                items.append((prop, posted))
        items.sort(key=lambda item: item[0])
        return tuple(items)

    def match(self, event: Mapping[str, object]) -> tuple[str, ...]:
        """Rule ids whose `when` clause matches `event`, in the order of the specs."""
        name = event.get(_EVENT_FIELD)
        shards = self._shards.get(name) if isinstance(name, str) else None
        if not shards:
            return ()
        key = self._encode(event)
        cache = self._cache
        if cache is not None:
            hit = cache.get(key)
            if hit is not None:
                return hit
        with _LOCK:
            fired = self._evaluate(shards, key)
            result = tuple(self._rule_ids[i] for i in sorted(set(fired)) if i >= 0)
            if cache is not None:
                if len(cache) >= self._cache_size:
                    cache.clear()
                cache[key] = result
        return result

    def _evaluate(self, shards: tuple[str, ...], key: _Key) -> list[int]:
        host = _host()
        fired = self._fired
        fired.clear()
        for ruleset in shards:
            fact: dict[str, object] = {"id": next(_FACT_IDS), "sid": _SID, _SENTINEL: 1}
            fact.update(key)
            try:
                try:
                    state = host.assert_fact(ruleset, fact)
                finally:
                    host.retract_fact(ruleset, fact)
            except Exception as exc:
                raise RulesEngineError(
                    f"durable-rules failed on {dict(key)!r}: {_describe(exc)}"
                ) from exc
            if isinstance(state, dict) and "exception" in state:
                # The state is re-asserted after every action: clear it, or it stays.
                host.update_state(ruleset, {"sid": _SID})
                raise RulesEngineError(f"a match action failed: {state['exception']}")
        return fired
