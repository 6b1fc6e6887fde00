"""What a player sees at a state: the fragment's text and its choices, in their locale."""

from __future__ import annotations

from collections.abc import Callable

from engine.frozen import frozen
from engine.game import Game
from engine.messages import say
from engine.model import Choice, Content, Text
from engine.requirements import holds, level_of, reason
from engine.state import State
from engine.strings import string_value
from engine.text import interpolate


@frozen
class ChoiceView:
    id: str
    label: str
    available: bool
    reason: str | None = None
    cost: int = 0
    unaffordable: bool = False


@frozen
class Screen:
    fragment: str
    title: str | None
    text: str
    choices: tuple[ChoiceView, ...]
    ending: str | None = None
    ending_label: str | None = None
    asks: bool = False  # the fragment takes a typed answer (its `input`)
    menus: tuple[tuple[str, str], ...] = ()  # (menu id, button label) that open from here
    back: bool = False  # a menu: a back button returns to the page it was opened from


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
        if prefix == "string" and ident in content.strings:
            return string_value(content, state, ident)
        return None

    return lookup


# (id(text), locale, default locale) -> (text, its string, whether it interpolates). The
# value holds the Text itself, so its id cannot be reused by another object while cached.
_LOCALIZED: dict[tuple[int, str, str], tuple[Text, str, bool]] = {}
_LOCALIZED_MAX = 200_000


def localized(text: Text, locale: str, default: str) -> tuple[str, bool]:
    """A text's string in a locale, and whether it has anything to interpolate (memoized:
    most texts have no `{`, and `Text.get` builds a dict on every call)."""
    key = (id(text), locale, default)
    hit = _LOCALIZED.get(key)
    if hit is None:
        raw = text.get(locale, default)
        if len(_LOCALIZED) >= _LOCALIZED_MAX:
            _LOCALIZED.clear()
        hit = _LOCALIZED[key] = (text, raw, "{" in raw or "}" in raw)
    return hit[1], hit[2]


def say_text(content: Content, state: State, text: Text) -> str:
    return sayer(content, state)(text)


def sayer(content: Content, state: State) -> Callable[[Text], str]:
    """`say(text)`: texts in the player's locale, interpolated at this state. The variable
    lookup is built only if some text needs it."""
    locale = state["player"]["locale"]
    default = content.manifest.default_locale
    cache = _LOCALIZED
    lookup = None

    def say_(text: Text) -> str:
        nonlocal lookup
        hit = cache.get((id(text), locale, default))
        if hit is None:
            raw, dynamic = localized(text, locale, default)
        else:
            raw, dynamic = hit[1], hit[2]
        if not dynamic:
            return raw
        if lookup is None:
            lookup = variables(content, state, locale)
        return interpolate(raw, lookup)

    return say_


def choice_view(content: Content, state: State, fragment_id: str, c: Choice,
                say_: Callable[[Text], str] | None = None) -> ChoiceView | None:
    """The button for a choice, or None when it is absent: a `once` choice already taken,
    or a locked one (requirement or cost) declared `when_locked: hide`."""
    if c.once and f"{fragment_id}.{c.id}" in state["taken"]:
        return None
    if say_ is None:
        say_ = sayer(content, state)
    if c.requires is not None and not holds(c.requires, content, state):
        if c.when_locked == "hide":
            return None
        why = (say_(c.locked_text) if c.locked_text is not None
               else reason(c.requires, content, state, state["player"]["locale"]))
        return ChoiceView(c.id, say_(c.text), False, why, c.cost)
    if c.cost > state["points"]:
        if c.when_locked == "hide":
            return None
        if c.locked_text is not None:
            why = say_(c.locked_text)
        else:
            locale = state["player"]["locale"]
            currency = content.manifest.currency.name.get(locale,
                                                          content.manifest.default_locale)
            why = say(locale, "cost", n=c.cost, have=state["points"], currency=currency)
        return ChoiceView(c.id, say_(c.text), False, why, c.cost, unaffordable=True)
    return ChoiceView(c.id, say_(c.text), True, None, c.cost)


def render(game: Game, state: State) -> Screen:
    content = game.content
    f = content.fragments[state["fragment"]]
    say_ = sayer(content, state)
    paragraphs = []
    for p in f.text:
        if p.cond is None or holds(p.cond, content, state):
            text = say_(p.text).strip()
        elif p.otherwise is not None:
            text = say_(p.otherwise).strip()
        else:
            continue
        if text:
            paragraphs.append(text)
    return Screen(
        fragment=f.id,
        title=say_(f.title) if f.title else None,
        text="\n\n".join(paragraphs),
        choices=buttons(game, state, say_),
        ending=f.ending,
        ending_label=say(state["player"]["locale"], f"ending.{f.ending}") if f.ending else None,
        asks=f.input is not None,
        menus=tuple((m, say_(content.fragments[m].menu)) for m in content.menus
                    if m != f.id),  # type: ignore[arg-type]
        back=f.menu is not None and state.get("menu_from") in content.fragments,
    )


def buttons(game: Game, state: State, say_: Callable[[Text], str] | None = None
            ) -> tuple[ChoiceView, ...]:
    """The choices of `render(game, state)`, without the page's text (what a tap on the
    page is checked against)."""
    content = game.content
    f = content.fragments[state["fragment"]]
    if say_ is None:
        say_ = sayer(content, state)
    views = []
    for c in f.choices:
        view = choice_view(content, state, f.id, c, say_)
        if view is not None:
            views.append(view)
    return tuple(views)
