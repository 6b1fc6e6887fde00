"""The actions a player can take: what the front ends pass to `step`, and their JSON form
(replay files, the store's audit trail)."""

from __future__ import annotations

from typing import Any

from engine.frozen import frozen

# ---- actions --------------------------------------------------------------------------


@frozen
class Start:
    """Begin the first playthrough (or show where the player is, if already playing)."""

    day: str | None = None  # UTC date "YYYY-MM-DD", for the daily point cap


@frozen
class Choose:
    choice: str
    turn: int | None = None  # the turn the button was shown at; a different one is stale
    day: str | None = None


@frozen
class Restart:
    day: str | None = None
    # the turn the button was shown at; a different one is stale (a double tap, or a copy
    # handled by another bot worker after the first restarted)
    turn: int | None = None


@frozen
class Answer:
    """The text the player typed for the current fragment's `input`."""

    text: str
    turn: int | None = None  # the turn the question was asked at; a different one is stale
    day: str | None = None


@frozen
class Menu:
    """Open the menu fragment `menu` from the current page, or, with None, go back from a
    menu to the page it was opened from."""

    menu: str | None
    turn: int | None = None
    day: str | None = None


Action = Start | Choose | Restart | Answer | Menu


def action_from_json(data: dict[str, Any]) -> Action:
    kind = data.get("type")
    if kind == "start":
        return Start(data.get("day"))
    if kind == "choose":
        return Choose(str(data.get("choice")), data.get("turn"), data.get("day"))
    if kind == "restart":
        return Restart(data.get("day"), data.get("turn"))
    if kind == "answer":
        return Answer(str(data.get("text", "")), data.get("turn"), data.get("day"))
    if kind == "menu":
        menu = data.get("menu")
        return Menu(None if menu is None else str(menu), data.get("turn"), data.get("day"))
    raise ValueError(f"unknown action type {kind!r}")


def action_to_json(action: Action, *, keep_text: bool = True) -> dict[str, Any]:
    """The JSON form. `keep_text=False` leaves out an answer's text, keeping its length:
    for the record of a refused answer, which must store nothing of it."""
    if isinstance(action, Answer):
        said: dict[str, Any] = ({"text": action.text} if keep_text
                                else {"length": len(action.text)})
        return {"type": "answer", **said, "turn": action.turn, "day": action.day}
    if isinstance(action, Menu):
        return {"type": "menu", "menu": action.menu, "turn": action.turn, "day": action.day}
    if isinstance(action, Choose):
        return {"type": "choose", "choice": action.choice, "turn": action.turn, "day": action.day}
    if isinstance(action, Restart) and action.turn is not None:
        return {"type": "restart", "day": action.day, "turn": action.turn}
    return {"type": "start" if isinstance(action, Start) else "restart", "day": action.day}
