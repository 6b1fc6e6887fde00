"""How a page's choices fit Telegram's buttons: labels longer than a button shows, and more
choices than a readable keyboard holds (game.yaml's `layout`). Presentation only: which
choices exist, their order and what they do come from the engine's screen."""

from __future__ import annotations

from engine.lint.limits import MAX_LABEL
from engine.model import Layout
from engine.screen import ChoiceView

ELLIPSIS = "…"
# A cut label keeps at least this many characters of its own, however long the lock, the
# number and the cost around it (so the button says something of the choice).
MIN_ROOM = 12


def cut(label: str, limit: int) -> str:
    """`label`, or its start cut at a word boundary and an ellipsis, in at most `limit`
    characters. A first word longer than that is cut inside it."""
    if len(label) <= limit:
        return label
    window = label[:limit - len(ELLIPSIS) + 1]  # a space just past the room is a boundary
    at = window.rfind(" ")
    head = window[:at] if at > 0 else window[:limit - len(ELLIPSIS)]
    return head.rstrip(" ,;:.—-") + ELLIPSIS


def decorate(label: str, cost: int, available: bool, emoji: str) -> str:
    """A button's text: the label, with a lock when the choice is locked and its cost."""
    text = label if available else f"🔒 {label}"
    if cost:
        text += f" · {cost} {emoji}".rstrip()
    return text


def too_long(choices: tuple[ChoiceView, ...], emoji: str) -> bool:
    return any(len(decorate(c.label, c.cost, c.available, emoji)) > MAX_LABEL
               for c in choices)


def numbered(layout: Layout, choices: tuple[ChoiceView, ...], emoji: str) -> bool:
    """Whether the page lists its choices in its text and numbers its buttons: only a page
    with a label too long for its button, and only when the game asks for it."""
    return layout.long_labels == "numbered" and too_long(choices, emoji)


def button_text(c: ChoiceView, number: int | None, emoji: str) -> str:
    """The text of a choice's button within MAX_LABEL characters: its number (when the page
    lists its choices), its label cut at a word if need be, its lock and cost."""
    prefix = f"{number}. " if number is not None else ""
    whole = decorate(prefix + c.label, c.cost, c.available, emoji)
    if len(whole) <= MAX_LABEL:
        return whole
    room = max(MAX_LABEL - (len(whole) - len(c.label)), MIN_ROOM)
    return decorate(prefix + cut(c.label, room), c.cost, c.available, emoji)


def choice_list(choices: tuple[ChoiceView, ...], emoji: str) -> str:
    """The page's choices in full, one numbered line each, as its buttons are numbered."""
    return "\n".join(f"{i}. {decorate(c.label, c.cost, c.available, emoji)}"
                     for i, c in enumerate(choices, 1))


def page_count(n: int, per_page: int) -> int:
    return max(1, -(-n // per_page))


def window(n: int, per_page: int, page: int) -> tuple[int, range]:
    """The keyboard page shown (an out-of-range one is clamped) and the positions of the
    choices on it."""
    page = min(max(page, 0), page_count(n, per_page) - 1)
    return page, range(page * per_page, min(n, (page + 1) * per_page))
