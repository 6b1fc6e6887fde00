"""A compiled story: the content plus its rules compiled into durable-rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.model import Content, Rule
from engine.rules_engine import RuleMatcher, WhenSpec


def when_specs(content: Content) -> list[WhenSpec]:
    return [
        WhenSpec(
            rule.id,
            rule.event,
            tuple((k, dict(v) if isinstance(v, tuple) else v) for k, v in rule.filters),
        )
        for rule in content.rules
    ]


@dataclass(frozen=True)
class Game:
    content: Content
    matcher: RuleMatcher
    by_id: dict[str, Rule] = field(default_factory=dict)

    ordered: dict[tuple[str, ...], tuple[Rule, ...]] = field(default_factory=dict)
    # (event type, fields) -> rules, in front of the matcher; False sends every event to it
    memo: bool = True
    seen: dict[tuple[str, tuple[tuple[str, Any], ...]], tuple[Rule, ...]] = field(
        default_factory=dict)

    def rules_for(self, event: Any) -> tuple[Rule, ...]:
        """Rules whose `when` matches an event (an object with `type` and `fields`, or a
        mapping with an `event` key), highest priority first, then in file order.

        The match is a pure function of the event, so it is memoized per (type, fields).
        Within one event type the engine gives each field one type (a flag's `value` is
        always a bool, counts and points are numbers), so Python's `1 == True == 1.0` key
        equality cannot mix up values the matcher tells apart."""
        if not self.by_id:
            return ()
        if isinstance(event, dict):
            return self._lookup(event)
        key = (event.type, event.fields)
        if self.memo:
            hit = self.seen.get(key)
            if hit is not None:
                return hit
        rules = self._lookup({"event": event.type, **dict(event.fields)})
        if self.memo:
            if len(self.seen) >= 65_536:
                self.seen.clear()
            self.seen[key] = rules
        return rules

    def _lookup(self, event: dict[str, Any]) -> tuple[Rule, ...]:
        ids = self.matcher.match(event)
        rules = self.ordered.get(ids)
        if rules is None:
            rules = tuple(sorted((self.by_id[r] for r in ids), key=lambda r: (-r.priority,
                                                                               r.order)))
            self.ordered[ids] = rules
        return rules


_CACHE: dict[str, Game] = {}


def compile_game(content: Content) -> Game:
    """Compile once per content digest: durable-rules cannot unload a ruleset, so
    recompiling the same content would only leak."""
    game = _CACHE.get(content.digest)
    if game is None:
        game = Game(content, RuleMatcher(when_specs(content)), {r.id: r for r in content.rules})
        if content.digest:
            _CACHE[content.digest] = game
    return game
