"""The outbox table in PostgreSQL's SQL: what the store's batch writes (INSERT) and what a
publisher reads and leases (PgOutbox, engine.outbox.source.Source).

Several publishers may claim at once: each claim is one transaction that takes the oldest
unsent rows with SELECT … FOR UPDATE SKIP LOCKED (rows another claim is taking are
skipped, not waited for), keeps of them only the runs that start each player's unsent
events (source.in_order: a player whose earlier row is being taken or is leased elsewhere
waits), and leases those to the publisher for a while. The publisher talks to the broker
after COMMIT, holding no lock; a publisher that dies leaves a lease that runs out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import asyncpg

from engine.outbox.source import Row, Status, in_order
from engine.store.errors import StoreError
from engine.store.postgres.connect import connect, shown
from engine.store.postgres.schema import version_of

__all__ = ["INSERT", "PgOutbox"]

INSERT = ("INSERT INTO outbox (event_id, player, seq, subject, time, body)"
          " VALUES ($1, $2, $3, $4, $5, $6)")
_COLUMNS = "id, event_id, player, seq, subject, body, time"
_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


class PgOutbox:
    def __init__(self, url: str, *, clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self.clock = clock
        self._conn: asyncpg.Connection | None = None
        # One connection, used by the publisher's loop and its status watch at once:
        # asyncpg runs one operation at a time on a connection.
        self._lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open(cls, url: str, **options) -> PgOutbox:
        box = cls(url, **options)
        box._conn = await connect(url)
        version = await version_of(box._conn)
        if version < 2:
            await box._conn.close()
            raise StoreError(f"DIANA_DB ({shown(url)}): the database has no outbox (schema"
                             f" version {version}, the outbox came in 2); run `diana db"
                             " upgrade`")
        return box

    async def _db(self) -> asyncpg.Connection:
        """The connection, made again if the server dropped it (a restart): the publisher
        goes on once the database is back."""
        if self._closed:
            raise StoreError("the outbox is closed")
        if self._conn is None or self._conn.is_closed():
            try:
                self._conn = await connect(self.url)
            except StoreError as exc:
                raise StoreError(f"the outbox: {exc}") from exc
        return self._conn

    async def close(self) -> None:
        self._closed = True
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()

    async def _claim(self, owner: str, limit: int, lease: float, done: list[int]) -> list[Row]:
        db = await self._db()
        now = self.clock()
        try:
            async with db.transaction():
                if done:
                    await db.execute("UPDATE outbox SET published = $1, lease = NULL,"
                                     " owner = NULL WHERE id = ANY($2::bigint[])", now, done)
                rows = [Row(*r) for r in await db.fetch(
                    f"SELECT {_COLUMNS} FROM outbox WHERE published IS NULL AND (lease IS NULL"
                    " OR lease <= $1 OR owner = $2) ORDER BY id LIMIT $3"
                    " FOR UPDATE SKIP LOCKED", now, owner, limit)]
                if not rows:
                    return []
                pending = await db.fetch(
                    "SELECT id, player FROM outbox WHERE published IS NULL"
                    " AND player = ANY($1::bigint[]) AND id <= $2",
                    list({r.player for r in rows}), rows[-1].id)
                rows = in_order(rows, [(p["id"], p["player"]) for p in pending])
                if rows:
                    await db.execute("UPDATE outbox SET lease = $1, owner = $2"
                                     " WHERE id = ANY($3::bigint[])", now + lease, owner,
                                     [r.id for r in rows])
                return rows
        except _ERRORS as exc:
            raise StoreError(f"the outbox: {exc}") from exc

    async def _mark(self, ids: list[int]) -> None:
        try:
            await (await self._db()).execute("UPDATE outbox SET published = $1, lease = NULL,"
                                     " owner = NULL WHERE id = ANY($2::bigint[])",
                                     self.clock(), list(ids))
        except _ERRORS as exc:
            raise StoreError(f"the outbox: {exc}") from exc

    async def _release(self, owner: str, ids: list[int]) -> None:
        try:
            await (await self._db()).execute("UPDATE outbox SET lease = NULL, owner = NULL"
                                     " WHERE owner = $1 AND published IS NULL"
                                     " AND id = ANY($2::bigint[])", owner, list(ids))
        except _ERRORS as exc:
            raise StoreError(f"the outbox: {exc}") from exc

    async def _status(self) -> Status:
        db = await self._db()
        try:
            pending, leased, oldest = await db.fetchrow(
                "SELECT count(*), count(*) FILTER (WHERE lease > $1), min(time) FROM outbox"
                " WHERE published IS NULL", self.clock())
            total, newest = await db.fetchrow("SELECT count(*), max(time) FROM outbox")
        except _ERRORS as exc:
            raise StoreError(f"the outbox: {exc}") from exc
        return Status(pending, leased, total - pending, oldest, newest)

    async def _since(self, when: float, after: int, limit: int) -> list[Row]:
        try:
            return [Row(*r) for r in await (await self._db()).fetch(
                f"SELECT {_COLUMNS} FROM outbox WHERE time >= $1 AND id > $2 ORDER BY id"
                " LIMIT $3", when, after, limit)]
        except _ERRORS as exc:
            raise StoreError(f"the outbox: {exc}") from exc

    async def _prune(self, before: float) -> int:
        try:
            status = await (await self._db()).execute(
                "DELETE FROM outbox WHERE time < $1 AND published IS NOT NULL", before)
        except _ERRORS as exc:
            raise StoreError(f"the outbox: {exc}") from exc
        return int(status.split()[-1])

    # ---- one operation at a time ----------------------------------------------------------

    async def claim(self, owner: str, limit: int, lease: float, done: list[int]) -> list[Row]:
        async with self._lock:
            return await self._claim(owner, limit, lease, done)

    async def mark(self, ids: list[int]) -> None:
        async with self._lock:
            await self._mark(ids)

    async def release(self, owner: str, ids: list[int]) -> None:
        async with self._lock:
            await self._release(owner, ids)

    async def status(self) -> Status:
        async with self._lock:
            return await self._status()

    async def since(self, when: float, after: int, limit: int) -> list[Row]:
        async with self._lock:
            return await self._since(when, after, limit)

    async def prune(self, before: float) -> int:
        async with self._lock:
            return await self._prune(before)
