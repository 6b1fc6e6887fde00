"""What a publisher needs from a store's outbox table (engine/store/*/outbox.py implements
it in SQL), and the ordering rule both backends claim by."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple, Protocol


class Row(NamedTuple):
    id: int  # the table's order of writing
    event_id: str
    player: int
    seq: int
    subject: str
    body: str  # the event's JSON
    time: float


@dataclass(frozen=True)
class Status:
    pending: int  # not yet acknowledged by the broker
    leased: int  # of those, claimed by a publisher now
    published: int  # acknowledged, kept for replays until pruned
    oldest_pending: float | None  # the time of the oldest unsent event
    newest: float | None  # the time of the newest event
    holder: str | None = None  # SQLite: the publisher whose lease covers the whole outbox

    def lag(self, now: float) -> float:
        """Seconds the oldest unsent event has waited (0 when nothing waits)."""
        return 0.0 if self.oldest_pending is None else max(0.0, now - self.oldest_pending)


class Source(Protocol):
    async def claim(self, owner: str, limit: int, lease: float, done: list[int]
                    ) -> list[Row]:
        """Mark `done` published, then lease up to `limit` unsent events to `owner` for
        `lease` seconds: for each player, only a run of their oldest unsent events, and
        none of a player another publisher holds a lease on. (SQLite leases the whole
        outbox to one publisher at a time instead, see engine/store/sqlite/outbox.py.)"""
        ...

    async def release(self, owner: str, ids: list[int]) -> None:
        """Give back a lease early (the broker refused): they are claimed again, by this
        publisher or another."""
        ...

    async def mark(self, ids: list[int]) -> None: ...

    async def status(self) -> Status: ...

    async def since(self, when: float, after: int, limit: int) -> list[Row]:
        """Events written at or after `when`, published or not, id > `after`, in order."""
        ...

    async def prune(self, before: float) -> int:
        """Delete published events written before `before`; the number deleted."""
        ...

    async def close(self) -> None: ...


def in_order(candidates: list[Row], pending: Iterable[tuple[int, int]]) -> list[Row]:
    """Of the claimed `candidates`, those that start each player's unsent events with no gap:
    `pending` is (id, player) of every unsent event of the candidates' players up to the last
    candidate, as committed. A row another publisher holds (locked or leased) before a
    candidate makes the player's later rows wait, so per-player order holds whoever sends."""
    chosen = {r.id for r in candidates}
    blocked: set[int] = set()
    for id_, player in sorted(pending):
        if id_ not in chosen:
            blocked.add(player)
    keep = []
    for r in candidates:
        if r.player not in blocked:
            keep.append(r)
    return keep
