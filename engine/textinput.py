"""Text the player types into a fragment's `input`: what is accepted, and why not.

The checks run in a fixed order, cheapest and most telling first, and the first failure
is the answer: control and format characters (never accepted: they can reorder or hide
text in a chat), length, the kinds of characters allowed, an enum's values, the pattern.
The pattern runs last, on a text already within the variable's `max_length` (at most
1,000 characters), so a huge message never reaches it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from functools import cache
from typing import Any

from engine.actions import Answer
from engine.messages import say
from engine.model import Choice, Content, Effect, Fragment, Input

# unicodedata categories per kind of character in `allowed:`
KINDS = {"letters": ("L", "M"), "digits": ("Nd",), "spaces": ("Zs",),
         "punctuation": ("P",), "symbols": ("S",)}
# Format characters an emoji needs: the zero-width joiner (👩‍💻) and the variation selectors
# are Cf/Mn; the joiner alone is let through, every other format character is refused
_JOINER = "\u200d"


@cache
def compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return None


def _kind_ok(ch: str, kinds: tuple[str, ...]) -> bool:
    cat = unicodedata.category(ch)
    if ch == _JOINER or "\ufe00" <= ch <= "\ufe0f":
        return "symbols" in kinds or "letters" in kinds
    return any(cat.startswith(prefix) for k in kinds for prefix in KINDS[k])


def problem(content: Content, ask: Input, text: str, locale: str) -> str | None:
    """None when `text` (already normalized, see `normalize`) is accepted, else why not, in
    the player's words."""
    var = content.strings[ask.into]
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs", "Co", "Cn") or (cat == "Cf" and ch != _JOINER):
            return say(locale, "input.control")
    if not text and ask.min_length > 0:
        return say(locale, "input.empty")
    if len(text) < ask.min_length:
        return say(locale, "input.short", n=ask.min_length)
    top = var.max_length if var.values is None else max(len(v) for v in var.values)
    if top is not None and len(text) > top:
        return say(locale, "input.long", n=top, have=len(text))
    if ask.allowed and not all(_kind_ok(ch, ask.allowed) for ch in text):
        names = ", ".join(say(locale, f"input.kind.{k}") for k in ask.allowed)
        return say(locale, "input.chars", kinds=names)
    default = content.manifest.default_locale
    custom = ask.invalid_text.get(locale, default) if ask.invalid_text is not None else None
    if var.values is not None and text not in var.values:
        return custom or say(locale, "input.value", values=", ".join(var.values))
    if ask.pattern is not None:
        rx = compiled(ask.pattern)
        if rx is None or rx.fullmatch(text) is None:
            return custom or say(locale, "input.pattern")
    return None


def normalize(text: str) -> str:
    """The text as it is checked and stored: NFC, surrounding white space removed."""
    return unicodedata.normalize("NFC", text).strip()


def sample_answers(content: Content, fragment: Fragment) -> list[str]:
    """What the simulator types at a fragment's input: the variable's values (an enum) or
    its initial value and samples (free text), those the input accepts."""
    ask = fragment.input
    if ask is None or ask.into not in content.strings:
        return []
    locale = content.manifest.default_locale
    return [v for v in content.strings[ask.into].domain
            if normalize(v) == v and problem(content, ask, v, locale) is None]


def answer_choice(content: Content, state: dict[str, Any], action: Answer
                  ) -> tuple[Choice | None, tuple[str, str] | None]:
    """The choice an accepted answer is taken as (the input's, storing the text first), or
    the rejection (code, message)."""
    current = state.get("fragment")
    if current is None:
        return None, ("not-started", "the story has not started yet")
    fragment = content.fragments.get(current)
    if fragment is None:
        return None, ("unknown-fragment",
                      f"this save is at `{current}`, which the story no longer has")
    if action.turn is not None and action.turn != state["turn"]:
        return None, ("stale", "that question belongs to an earlier page")
    locale = state["player"]["locale"]
    ask = fragment.input
    if ask is None or ask.into not in content.strings:
        return None, ("no-input", say(locale, "input.none"))
    text = normalize(action.text)
    why = problem(content, ask, text, locale)
    if why is not None:
        return None, ("invalid-input", why)
    store = Effect("string", target=ask.into, op="set", text=text, loc=ask.loc)
    return replace(ask.choice, effects=(store, *ask.choice.effects)), None
