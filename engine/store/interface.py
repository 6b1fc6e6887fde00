"""The store interface: what the bot and the CLI need from player storage.

`SqliteStore` implements it with aiosqlite; a PostgreSQL backend would implement the same
protocol (group commit, the same tables; `reached` from a sequence).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.frozen import frozen
from engine.game import Game
from engine.migrate import Migration
from engine.state import State
from engine.step import Action, Outcome


@frozen
class ActionResult:
    """What `apply` returns. `replayed` is true when the key had already been applied: then
    nothing changed now and `outcome` is None; `summary` is the stored result either way."""

    key: str
    player: str
    ok: bool
    error: str | None  # the StepError code, or None
    message: str | None
    version: int  # save version after the action
    summary: dict[str, Any]
    replayed: bool = False
    outcome: Outcome | None = field(default=None, compare=False)
    # set when the save was first moved to the current content (engine.migrate); its
    # notice is for the player
    migration: Migration | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Resumed:
    """What `resume` returns: the player's state under the current content, and the
    migration that just moved it there (None when the save needed none)."""

    state: State
    migration: Migration | None = None

    @property
    def notice(self) -> str | None:
        return self.migration.notice if self.migration else None


@dataclass(frozen=True)
class RankEntry:
    rank: int  # 1-based
    player: str
    name: str
    score: int


@dataclass(frozen=True)
class Standing:
    board: str
    entry: RankEntry | None  # None: the player has no points on this board
    above: tuple[RankEntry, ...] = ()  # nearest first is last: ranks ascending
    below: tuple[RankEntry, ...] = ()
    total: int = 0  # players on the board


@dataclass(frozen=True)
class PlayerInfo:
    player: str
    name: str
    role: str
    locale: str
    created: float


@dataclass(frozen=True)
class Stats:
    """Aggregates over every player (`store.stats()`), for admins. Fragment and ending ids
    are those of the saves, whatever content they were made under."""

    players: int  # registered
    started: int  # whose current save has begun a playthrough
    finished: int  # who reached at least one ending (in their current save)
    actions: int  # applied player actions, ever
    active_24h: int  # players with an applied action in the last 24 hours
    actions_24h: int
    points: int  # held by all players
    at: dict[str, int] = field(default_factory=dict)  # fragment -> players there now
    # fragment -> entries by player actions, ever (every playthrough, before resets too)
    visits: dict[str, int] = field(default_factory=dict)
    visitors: dict[str, int] = field(default_factory=dict)  # fragment -> players who entered
    endings: dict[str, int] = field(default_factory=dict)  # ending fragment -> players
    achievements: dict[str, int] = field(default_factory=dict)  # id -> players holding it


class Store(Protocol):
    # Called once per committed batch with its write's seconds and its number of actions
    # (None: nobody listens). For metrics: a batch, not an action, costs one call.
    on_commit: Callable[[float, int], None] | None

    game: Game  # the content every operation runs under; change it with `swap_game`

    async def register(self, player: str, *, name: str | None = None, role: str | None = None,
                       locale: str | None = None, seed: int | None = None) -> PlayerInfo: ...

    async def player(self, player: str) -> PlayerInfo: ...

    async def state(self, player: str) -> State: ...

    async def resume(self, player: str) -> Resumed: ...

    async def apply(self, player: str, action: Action, key: str) -> ActionResult: ...

    async def grant(self, player: str, amount: int, reason: str, *, key: str | None = None,
                    actor: str = "admin") -> ActionResult: ...

    async def revoke(self, player: str, amount: int, reason: str, *, key: str | None = None,
                     actor: str = "admin") -> ActionResult: ...

    async def reset(self, player: str, *, actor: str = "admin",
                    key: str | None = None) -> ActionResult: ...

    async def export(self, player: str, *, actor: str = "admin") -> dict[str, Any]: ...

    async def delete(self, player: str, *, actor: str = "admin") -> None: ...

    async def update_player(self, player: str, *, locale: str | None = None,
                            name: str | None = None, actor: str | None = None
                            ) -> PlayerInfo: ...

    async def audit(self, actor: str, op: str, detail: dict[str, Any], *,
                    ok: bool = True) -> None: ...

    async def swap_game(self, game: Game, *, actor: str = "admin") -> Game: ...

    async def stats(self, *, when: float | None = None) -> Stats: ...

    async def top(self, kind: str = "all", n: int = 10, *,
                  when: float | None = None) -> list[RankEntry]: ...

    async def standing(self, player: str, kind: str = "all", *, around: int = 2,
                       when: float | None = None) -> Standing: ...

    async def claim_update(self, update_id: int, owner: str, lease: float) -> bool:
        """Claim a Telegram update for handling, in the database, so that copies of it
        delivered to any process are handled once: True when `owner` (host:pid) got it;
        False when it was handled already or another owner holds it and its `lease`
        (seconds) has not run out. StoreUnavailable when the database cannot be reached."""
        ...

    async def finish_update(self, update_id: int, owner: str, *, done: bool = True) -> None:
        """Mark a claimed update handled (`done`), or give the claim up so that a copy
        delivered again is handled (`done=False`: handling failed)."""
        ...

    async def ping(self) -> None:
        """Return once the database answers a read now; StoreError (StoreClosed once
        closed) otherwise. For readiness checks: it is no part of any action."""
        ...

    async def close(self) -> None: ...
