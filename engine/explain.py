"""Why things are as they are: locked choices, and which rule caused which award."""

from __future__ import annotations

from engine.game import Game
from engine.screen import render
from engine.state import State
from engine.step import Outcome


def explain(game: Game, state: State, last: Outcome | None = None) -> list[str]:
    lines: list[str] = []
    if state.get("fragment") in game.content.fragments:
        screen = render(game, state)
        locked = [c for c in screen.choices if not c.available]
        for c in locked:
            lines.append(f"“{c.label}” is locked: {c.reason}")
        if not locked:
            lines.append("Every choice here is open.")
    if last is None or not last.ok:
        return lines
    for f in last.firings:
        lines.append(f"rule `{f.rule}` fired on `{f.event}` (raised by {f.cause})")
    for a in last.applied:
        if a.kind in ("award", "spend"):
            sign = "+" if a.kind == "award" else "-"
            lines.append(f"{sign}{int(a.amount)} points from {a.cause}")
        elif a.kind == "unlock":
            lines.append(f"achievement `{a.target}` unlocked by {a.cause}")
    return lines
