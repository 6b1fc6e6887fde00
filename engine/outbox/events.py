"""Domain events: what an applied action tells the rest of an operator's stack.

Pure: the store's batch (engine/store/batch.py) calls `from_outcome` / `from_admin` /
`from_ledger` for every applied action and writes what they return to the outbox in the
same transaction as the save. A rejected or replayed action produces none.

Each event is one JSON object, the same on the broker as in the outbox:

    {"id": "update:1001#2", "type": "points.awarded", "game": "the-velvet-door",
     "player": "tg:42", "seq": 17, "time": 1733330000.5, "key": "update:1001",
     "content_version": "1.0.0", "data": {"points": 10, "reason": "greet"}}

`id` is the action's idempotency key and the event's index in the action, so the same
action always yields the same ids (the broker de-duplicates on it); `seq` numbers a
player's events 1, 2, 3 … in the order they happened. The subject is
`diana.<game>.<type>`, e.g. `diana.the-velvet-door.points.awarded`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

# type -> what it says; one JSON Schema each in schemas/events/
TYPES: dict[str, str] = {
    "story.started": "a playthrough began (start or restart)",
    "choice.taken": "the player took a choice",
    "fragment.entered": "the player entered a fragment",
    "ending.reached": "the player entered an ending fragment",
    "points.awarded": "points were awarded (by the story, a rule or an achievement)",
    "points.spent": "points were spent (a choice's cost or a spend effect)",
    "points.granted": "an admin granted points",
    "points.revoked": "an admin took points back",
    "achievement.unlocked": "the player unlocked an achievement",
    "level.up": "the player reached a level",
    "player.reset": "an admin started the player over (balance, achievements cleared)",
}

PREFIX = "diana"
# A subject token may not hold dots, wildcards or spaces.
_TOKEN = re.compile(r"[^a-z0-9_-]+")


def slug(text: str) -> str:
    """A subject token from a game's title: `The Velvet Door` -> `the-velvet-door`."""
    token = _TOKEN.sub("-", text.lower()).strip("-")
    return token[:64] or "game"


def game_slug(content: Any) -> str:
    """The game's token in subjects: its title in the default locale, as a slug."""
    manifest = content.manifest
    title = manifest.title.get(manifest.default_locale, "") if hasattr(
        manifest.title, "get") else str(manifest.title)
    return slug(str(title))


def subject(game: str, type_: str) -> str:
    return f"{PREFIX}.{game}.{type_}"


def auto_key() -> str:
    """A key for an operation that came without one (an admin grant from the CLI): stored
    with its events, so they keep their ids whenever they are sent again."""
    return f"auto:{uuid.uuid4().hex}"


# step event type -> (event type, how its fields become `data`)
def _started(fields: dict[str, Any], cause: str) -> dict[str, Any]:
    return {"restart": cause == "restart"}


def _choice(fields: dict[str, Any], cause: str) -> dict[str, Any]:
    return {"fragment": fields["fragment"], "choice": fields["choice"]}


def _entered(fields: dict[str, Any], cause: str) -> dict[str, Any]:
    return {"fragment": fields["fragment"], "cause": cause}


def _ending(fields: dict[str, Any], cause: str) -> dict[str, Any]:
    return {"fragment": fields["fragment"], "kind": fields["kind"]}


def _points(fields: dict[str, Any], cause: str) -> dict[str, Any]:
    return {"points": int(fields["points"]), "reason": str(fields["reason"]), "cause": cause}


def _unlocked(fields: dict[str, Any], cause: str) -> dict[str, Any]:
    return {"achievement": fields["achievement"], "cause": cause}


def _level(fields: dict[str, Any], cause: str) -> dict[str, Any]:
    return {"level": int(fields["level"])}


_FROM_STEP = {
    "start": ("story.started", _started),
    "choice": ("choice.taken", _choice),
    "enter": ("fragment.entered", _entered),
    "ending": ("ending.reached", _ending),
    "award": ("points.awarded", _points),
    "spend": ("points.spent", _points),
    "unlock": ("achievement.unlocked", _unlocked),
    "level_up": ("level.up", _level),
}


def from_outcome(events: Iterable[Any]) -> list[tuple[str, dict[str, Any]]]:
    """(type, data) for the step events an operator's stack cares about, in order; flags,
    items, stats and custom events stay inside the story."""
    out = []
    for e in events:
        known = _FROM_STEP.get(e.type)
        if known is not None:
            out.append((known[0], known[1](dict(e.fields), e.cause)))
    return out


def from_admin(op: str, amount: int, reason: str, actor: str) -> list[tuple[str, dict[str, Any]]]:
    type_ = "points.granted" if op == "grant" else "points.revoked"
    return [(type_, {"points": amount, "reason": reason, "actor": actor})]


def from_reset(actor: str, previous_points: int) -> list[tuple[str, dict[str, Any]]]:
    return [("player.reset", {"actor": actor, "previous_points": previous_points})]


def from_ledger(entries: Iterable[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Points a content migration moved (engine.migrate), as awards and spends."""
    out = []
    for e in entries:
        amount = int(e["amount"])
        out.append(("points.awarded" if amount > 0 else "points.spent",
                    {"points": abs(amount), "reason": str(e["reason"]),
                     "cause": str(e["cause"])}))
    return out


def envelope(game: str, player: str, key: str, index: int, seq: int, time: float,
             content_version: str, type_: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"{key}#{index}", "type": type_, "game": game, "player": player,
            "seq": seq, "time": time, "key": key, "content_version": content_version,
            "data": data}
