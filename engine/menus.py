"""Menus: fragments that open from any page and return the player to the page they left.

Opening a menu (or going back) is no move through the story: no event, no effect, no visit
counted. The state remembers the page to return to in `menu_from` while the player is in a
menu (a menu's choice may lead to another menu: the page to return to stays the same); it
is None everywhere else. A menu's choices are ordinary choices: one that leads out of the
menus into the story is a move like any other, and the player is then no longer in a menu.
"""

from __future__ import annotations

from typing import Any

from engine.actions import Menu
from engine.model import Content

State = dict[str, Any]


def in_menu(content: Content, state: State) -> bool:
    f = content.fragments.get(state.get("fragment") or "")
    return f is not None and f.menu is not None


def return_point(content: Content, state: State, entering: str) -> str | None:
    """`menu_from` once the player enters `entering` from where they are: the page they
    leave for a menu, kept from menu to menu; None outside the menus."""
    target = content.fragments.get(entering)
    if target is None or target.menu is None:
        return None
    if in_menu(content, state):
        return state.get("menu_from")
    return state.get("fragment")


def menu_change(content: Content, state: State, action: Menu
                ) -> tuple[State | None, tuple[str, str] | None]:
    """The state after opening a menu or going back, or the rejection (code, message)."""
    current = state.get("fragment")
    if current is None:
        return None, ("not-started", "the story has not started yet")
    if current not in content.fragments:
        return None, ("unknown-fragment",
                      f"this save is at `{current}`, which the story no longer has")
    if action.turn is not None and action.turn != state["turn"]:
        return None, ("stale", "that button belongs to an earlier page")
    if action.menu is None:
        back = state.get("menu_from")
        if not in_menu(content, state) or back not in content.fragments:
            return None, ("unknown-menu", "there is no menu to go back from here")
        place, came_from = back, None
    else:
        target = content.fragments.get(action.menu)
        if target is None or target.menu is None:
            return None, ("unknown-menu", f"`{action.menu}` is not a menu")
        if action.menu == current:
            return None, ("unknown-menu", f"`{action.menu}` is already open")
        place, came_from = action.menu, return_point(content, state, action.menu)
    return {**state, "fragment": place, "menu_from": came_from, "turn": state["turn"] + 1,
            "content_version": content.version}, None


def inert(content: Content, menu: str) -> bool:
    """A menu nothing in can change the state: every choice stays, with no effect, cost or
    `once`, and no rule listens to its choices. Opening it and going back leaves the
    player where they were, so the simulator opens it once, not from every state."""
    f = content.fragments[menu]
    if any(c.targets or c.effects or c.cost or c.once for c in f.choices):
        return False
    return not any(r.event == "choice" and dict(r.filters).get("fragment", menu) == menu
                   for r in content.rules)
