"""Player state: plain JSON-serialisable data, created here and changed only by `step`."""

from __future__ import annotations

import hashlib
from typing import Any

from engine.model import Content
from engine.strings import initial_strings

STATE_FORMAT = 1

State = dict[str, Any]


def story_state(content: Content) -> dict[str, Any]:
    """The part of the state a restart resets."""
    return {
        "fragment": None,
        "flags": sorted(f.id for f in content.flags.values() if f.initial),
        "items": {},
        "stats": {s.id: s.initial for s in content.stats.values()},
        "strings": initial_strings(content),
        "visits": {},
        "taken": [],
        "menu_from": None,  # the page a menu returns to, while the player is in one
    }


def new_state(content: Content, *, name: str = "Guest", role: str | None = None,
              locale: str | None = None, seed: int = 0) -> State:
    """A player who has not started yet. `seed` makes every random draw reproducible."""
    m = content.manifest
    return {
        "format": STATE_FORMAT,
        "content_version": m.version,
        "player": {
            "name": name,
            "role": role if role in m.roles else m.default_role,
            "locale": locale if locale in m.locales else m.default_locale,
        },
        "seed": seed,
        "draws": 0,
        "turn": 0,
        "playthrough": 0,
        "points": 0,
        "earned": 0,
        "ledger": [],
        "day": None,
        "day_points": 0,
        "achievements": [],  # ids, in the order they were unlocked
        "unlocks": {},  # id -> {cause, via, turn}: what unlocked it, for `why`
        "endings": [],
        "fired": [],
        **story_state(content),
    }


def draw(seed: int | tuple[float, ...], n: int) -> float:
    """The n-th number of the player's random stream, in [0, 1). Counter-based, so a state
    saved as JSON resumes the stream exactly.

    A tuple is a scripted stream (the simulator's: it explores every outcome of a draw by
    choosing the numbers, then finds a real seed that gives them); past its end it repeats
    its first number, or 0."""
    if isinstance(seed, tuple):
        return seed[n] if n < len(seed) else (seed[0] if seed else 0.0)
    digest = hashlib.blake2b(f"{seed}:{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def balance_matches_ledger(state: State) -> bool:
    return state["points"] == sum(e["amount"] for e in state["ledger"])
