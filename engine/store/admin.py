"""What the operations that run alone decide, the same on every backend: the new player's
state, a reset, a profile change, an export's document, a content swap's event. Pure
functions over records; each backend (sqlite/admin.py, postgres/admin.py) reads, locks and
writes the rows in its own SQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.game import Game
from engine.model import Manifest
from engine.state import State, new_state
from engine.store.errors import AdminError
from engine.store.interface import ActionResult, PlayerInfo
from engine.store.records import Record, ledger_entry

MAX_NAME = 64


def info(rec: Record) -> PlayerInfo:
    return PlayerInfo(rec.external, rec.name, rec.role, rec.locale, rec.created)


def registered(game: Game, args: dict[str, Any]) -> State:
    """A new player's state, from the register job's arguments."""
    return new_state(game.content, name=args["name"], role=args["role"],
                     locale=args["locale"], seed=args["seed"])


def register_detail(state: State) -> dict[str, Any]:
    p = state["player"]
    return {"name": p["name"], "role": p["role"], "locale": p["locale"]}


@dataclass(frozen=True)
class Reset:
    """A reset worked out: the ledger entry that clears the balance (None when there was
    nothing to clear; the record's ledger_seq is already its seq), the summary the caller,
    the audit event and the applied action share, and the result."""

    entry: dict[str, Any] | None
    summary: dict[str, Any]
    result: ActionResult


def reset(game: Game, rec: Record, *, actor: str, key: str | None,
          seed: int | None) -> Reset:
    """Start the player over on `rec` (changed in place: new state, points 0, the ledger
    window moved past the clearing entry, version + 1)."""
    old = rec.state
    state = new_state(game.content, name=rec.name, role=rec.role, locale=rec.locale,
                      seed=old["seed"] if seed is None else seed)
    # The turn counter keeps running: a turn never repeats in a save, so a button (or any
    # Choose) from before the reset can never line up with a turn after it.
    state["turn"] = old["turn"]
    entry = None
    if rec.points:
        rec.ledger_seq += 1
        entry = ledger_entry(-rec.points, "reset", f"admin:{actor}", old["turn"], old["day"])
    rec.ledger_from = rec.carry_to = rec.ledger_seq
    rec.carry = 0
    rec.state, rec.points = state, 0
    rec.version += 1
    summary = {"op": "reset", "ok": True, "error": None, "message": None,
               "turn": state["turn"], "fragment": None, "points": 0,
               "ledger": 1 if entry else 0, "actor": actor,
               "previous_points": old["points"]}
    result = ActionResult(key or "", rec.external, True, None, None, rec.version, summary)
    return Reset(entry, summary, result)


@dataclass(frozen=True)
class Profile:
    state: State  # the save's new state (a new object: states are shared)
    changes: dict[str, Any]  # field -> {"from": …, "to": …}, for the audit event


def profile(manifest: Manifest, rec: Record, *, locale: str | None,
            name: str | None) -> Profile | None:
    """A player's new locale and/or name checked (AdminError when refused); None when
    nothing changes."""
    if locale is not None and locale not in manifest.locales:
        raise AdminError(f"unknown locale `{locale}`: the story has"
                         f" {', '.join(manifest.locales)}")
    if name is not None:
        name = " ".join(str(name).split())
        if not name or len(name) > MAX_NAME:
            raise AdminError(f"a name has 1 to {MAX_NAME} characters")
    person = dict(rec.state["player"])
    changes: dict[str, Any] = {}
    for field, value in (("locale", locale), ("name", name)):
        if value is not None and value != person.get(field):
            changes[field] = {"from": person.get(field), "to": value}
            person[field] = value
    if not changes:
        return None
    return Profile({**rec.state, "player": person}, changes)


def apply_profile(rec: Record, change: Profile) -> None:
    """The record once the change is written (its version already moved on)."""
    person = change.state["player"]
    rec.state, rec.name, rec.locale = change.state, person["name"], person["locale"]


def export_document(rec: Record, ledger: list[dict[str, Any]],
                    achievements: list[dict[str, Any]], scores: list[dict[str, Any]],
                    events: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything stored about a player: the rows as read, events' details as JSON text."""
    return {
        "format": 1,
        "player": {"id": rec.external, "name": rec.name, "role": rec.role,
                   "locale": rec.locale, "created": rec.created},
        "save": {"version": rec.version, "points": rec.points, "state": rec.state},
        "ledger": ledger,
        "achievements": achievements,
        "scores": scores,
        "events": [{**e, "detail": json.loads(e["detail"])} for e in events],
    }


# The export's queries: the same columns and order on both backends ("?" is the player id;
# a backend rewrites the placeholder for its driver).
EXPORT_LEDGER = ("SELECT seq, amount, kind, reason, cause, key, time, turn, day, extra"
                 " FROM ledger WHERE player = ? ORDER BY seq")
EXPORT_ACHIEVEMENTS = ("SELECT achievement, time FROM achievements WHERE player = ?"
                       " ORDER BY time, achievement")
EXPORT_SCORES = "SELECT board, score, reached FROM scores WHERE player = ? ORDER BY board"


def swap_detail(game: Game, new: Game, actor: str) -> dict[str, Any]:
    old, to = game.content, new.content
    return {"actor": actor, "from": old.version, "from_digest": old.digest,
            "to": to.version, "to_digest": to.digest}
