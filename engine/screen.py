"""What a player sees at a state: the fragment's text and its choices, in their locale."""

from __future__ import annotations

from dataclasses import dataclass

from engine.game import Game
from engine.model import Choice, Content, Text
from engine.requirements import holds, level_of, reason
from engine.messages import say
from engine.state import State
from engine.text import interpolate


@dataclass(frozen=True)
class ChoiceView:
    id: str
    label: str
    available: bool
    reason: str | None = None
    cost: int = 0
    unaffordable: bool = False


@dataclass(frozen=True)
class Screen:
    fragment: str
    title: str | None
    text: str
    choices: tuple[ChoiceView, ...]
    ending: str | None = None
    ending_label: str | None = None


def variables(content: Content, state: State, locale: str):
    default = content.manifest.default_locale

    def lookup(name: str) -> str | None:
        if name == "player":
            return str(state["player"]["name"])
        if name == "points":
            return str(state["points"])
        if name == "currency":
            return content.manifest.currency.name.get(locale, default)
        if name == "emoji":
            return content.manifest.currency.emoji
        if name == "level":
            return str(level_of(content, state))
        if name == "level_name":
            level = content.level_for(state["earned"])
            return level.name.get(locale, default) if level else ""
        prefix, _, ident = name.partition(".")
        if prefix == "stat" and ident in content.stats:
            return str(state["stats"].get(ident, content.stats[ident].initial))
        if prefix == "item" and ident in content.items:
            return str(state["items"].get(ident, 0))
        return None

    return lookup


def say_text(content: Content, state: State, text: Text) -> str:
    locale = state["player"]["locale"]
    return interpolate(text.get(locale, content.manifest.default_locale),
                       variables(content, state, locale))


def choice_view(content: Content, state: State, fragment_id: str, c: Choice
                ) -> ChoiceView | None:
    """The button for a choice, or None when it is hidden."""
    locale = state["player"]["locale"]
    label = say_text(content, state, c.text)
    if c.once and f"{fragment_id}.{c.id}" in state["taken"]:
        return None
    if not holds(c.requires, content, state):
        if c.when_locked == "hide":
            return None
        why = (say_text(content, state, c.locked_text) if c.locked_text is not None
               else reason(c.requires, content, state, locale))  # type: ignore[arg-type]
        return ChoiceView(c.id, label, False, why, c.cost)
    if c.cost > state["points"]:
        currency = content.manifest.currency.name.get(locale, content.manifest.default_locale)
        why = say(locale, "cost", n=c.cost, have=state["points"], currency=currency)
        return ChoiceView(c.id, label, False, why, c.cost, unaffordable=True)
    return ChoiceView(c.id, label, True, None, c.cost)


def render(game: Game, state: State) -> Screen:
    content = game.content
    f = content.fragments[state["fragment"]]
    paragraphs = []
    for p in f.text:
        if p.cond is None or holds(p.cond, content, state):
            paragraphs.append(say_text(content, state, p.text))
        elif p.otherwise is not None:
            paragraphs.append(say_text(content, state, p.otherwise))
    views = (choice_view(content, state, f.id, c) for c in f.choices)
    locale = state["player"]["locale"]
    return Screen(
        fragment=f.id,
        title=say_text(content, state, f.title) if f.title else None,
        text="\n\n".join(p.strip() for p in paragraphs if p.strip()),
        choices=tuple(v for v in views if v is not None),
        ending=f.ending,
        ending_label=say(locale, f"ending.{f.ending}") if f.ending else None,
    )
