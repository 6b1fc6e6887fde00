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

    def rules_for(self, event: dict[str, Any]) -> list[Rule]:
        """Rules whose `when` matches, highest priority first, then in file order."""
        rules = [self.by_id[r] for r in self.matcher.match(event)]
        rules.sort(key=lambda r: (-r.priority, r.order))
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
