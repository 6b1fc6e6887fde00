"""Why things are as they are: locked choices, and which rule fired on which event to cause
each award, spend and unlock."""

from __future__ import annotations

from typing import Any

from engine.game import Game
from engine.screen import render
from engine.state import State
from engine.step import Outcome


def _name(game: Game, state: State, achievement: str) -> str:
    a = game.content.achievements.get(achievement)
    if a is None:
        return achievement
    return a.name.get(state["player"]["locale"], game.content.manifest.default_locale)


def _cause(cause: str, via: str | None) -> str:
    """`rule `first` on enter(fragment=hall)`, or `achievement:a (unlocked by rule …)`."""
    if not via:
        return cause
    if cause.startswith("rule:") and via.startswith(f"rule `{cause[5:]}` "):
        return via
    if cause.startswith("achievement:"):
        return f"{cause} (unlocked by {via})"
    return f"{cause} (during {via})"


def _entry(game: Game, state: State, entry: dict[str, Any]) -> str:
    currency = game.content.manifest.currency.name.get(state["player"]["locale"],
                                                       game.content.manifest.default_locale)
    sign = "+" if entry["amount"] > 0 else "−"
    why = _cause(entry["cause"], entry.get("via"))
    return f"{sign}{abs(entry['amount'])} {currency} ({entry['reason']}) from {why}"


def _unlock(game: Game, state: State, achievement: str, info: dict[str, Any] | None) -> str:
    head = f"achievement “{_name(game, state, achievement)}” (`{achievement}`)"
    if info is None:
        return f"{head} unlocked"
    return f"{head} unlocked by {_cause(info['cause'], info.get('via'))}"


def locked(game: Game, state: State) -> list[str]:
    """One line per locked choice of the current fragment, with its reason."""
    if state.get("fragment") not in game.content.fragments:
        return []
    screen = render(game, state)
    lines = [f"“{c.label}” is locked: {c.reason}" for c in screen.choices if not c.available]
    return lines or ["Every choice here is open."]


def explain(game: Game, state: State, last: Outcome | None = None) -> list[str]:
    """`why`: the locked choices here, then what the last action caused: every rule firing
    (rule, event, what raised the event) and every award, spend and unlock with the rule
    firing behind it (read from the state's ledger and unlock records of its latest turn,
    so it works on a resumed save too; only the list of firings needs `last`)."""
    lines = locked(game, state)
    if last is not None and last.ok and last.state is state:
        for f in last.firings:
            lines.append(f"rule `{f.rule}` fired on {f.detail or f.event} (raised by {f.cause})")
    turn = state.get("turn")
    lines += [_entry(game, state, e) for e in state["ledger"] if e.get("turn") == turn]
    lines += [_unlock(game, state, aid, info) for aid, info in state.get("unlocks", {}).items()
              if info.get("turn") == turn]
    return lines


def history(game: Game, state: State) -> list[str]:
    """Every achievement and every ledger entry of a state, with what caused it."""
    unlocks = state.get("unlocks", {})
    lines = [_unlock(game, state, aid, unlocks.get(aid)) for aid in state["achievements"]]
    # (an entry with no turn: the store's carried sum of older entries, see records.fold)
    lines += [f"{'earlier' if e.get('turn') is None else 'turn ' + str(e['turn'])}:"
              f" {_entry(game, state, e)}" for e in state["ledger"]]
    return lines
