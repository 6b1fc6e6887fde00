"""The outbox table in SQLite's SQL: what the store's batch writes (INSERT) and what a
publisher reads and leases (SqliteOutbox, engine.outbox.source.Source).

A publisher has a connection of its own (sqlite3, in a worker thread): a claim is one
short BEGIN IMMEDIATE transaction that marks the last batch published and leases the next,
so publishers in several processes take turns on the write lock like any other writer, and
never hold it while they talk to the broker. Marks are written with synchronous=NORMAL: a
mark lost to a power cut only sends events again, which the broker drops as duplicates.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from engine.outbox.source import Row, Status
from engine.store.errors import StoreError, StoreOpenError
from engine.store.sqlite.migrations import LATEST, schema_version
from engine.store.sqlite.rows import BUSY_TIMEOUT_MS
from engine.store.sqlite.rows import INSERT_OUTBOX as INSERT

__all__ = ["INSERT", "SqliteOutbox"]

_COLUMNS = "id, event_id, player, seq, subject, body, time"
_CHUNK = 500  # ids per `IN (…)`, under SQLite's bound-variable limit


class SqliteOutbox:
    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        self.clock = clock
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, **options) -> SqliteOutbox:
        box = cls(path, **options)
        await asyncio.to_thread(box._connect)
        return box

    def _connect(self) -> None:
        if not Path(self.path).exists():
            raise StoreOpenError(f"{self.path}: no such database")
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute("PRAGMA synchronous = NORMAL")
            version = schema_version(conn)
        except sqlite3.Error as exc:
            raise StoreOpenError(f"{self.path}: {exc}") from exc
        if version < 3:
            conn.close()
            raise StoreOpenError(f"{self.path}: the database has no outbox (schema version"
                                 f" {version}, the outbox came in 3); run `diana db upgrade`")
        if version > LATEST:
            conn.close()
            raise StoreOpenError(f"{self.path}: the schema is version {version}, newer than"
                                 f" this program understands ({LATEST})")
        self._conn = conn

    async def _run(self, fn, *args):
        async with self._lock:  # one sqlite3 connection: one call at a time
            try:
                return await asyncio.to_thread(fn, *args)
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: {exc}") from exc

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("the outbox is closed")
        return self._conn

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.to_thread(conn.close)

    # ---- the publisher's calls ----------------------------------------------------------

    async def claim(self, owner: str, limit: int, lease: float, done: list[int]) -> list[Row]:
        return await self._run(self._claim, owner, limit, lease, list(done))

    def _claim(self, owner: str, limit: int, lease: float, done: list[int]) -> list[Row]:
        db = self._db()
        now = self.clock()
        db.execute("BEGIN IMMEDIATE")
        try:
            _mark(db, done, now)
            rows = [Row(*r) for r in db.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE published IS NULL"
                " AND (lease IS NULL OR lease <= ? OR owner = ?) ORDER BY id LIMIT ?",
                (now, owner, limit))]
            if rows:
                # Under the write lock no other claim runs: skipping the players another
                # publisher holds a lease on is enough to keep each player's order.
                busy = {p for (p,) in db.execute(
                    "SELECT DISTINCT player FROM outbox WHERE published IS NULL"
                    " AND lease > ? AND owner <> ?", (now, owner))}
                rows = [r for r in rows if r.player not in busy]
                for part in _chunks([r.id for r in rows]):
                    db.execute(f"UPDATE outbox SET lease = ?, owner = ? WHERE id IN"
                               f" ({','.join('?' * len(part))})", (now + lease, owner, *part))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return rows

    async def mark(self, ids: list[int]) -> None:
        await self._run(self._mark_now, list(ids))

    def _mark_now(self, ids: list[int]) -> None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            _mark(db, ids, self.clock())
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    async def release(self, owner: str, ids: list[int]) -> None:
        def go() -> None:
            db = self._db()
            for part in _chunks(ids):
                db.execute(f"UPDATE outbox SET lease = NULL, owner = NULL WHERE owner = ?"
                           f" AND published IS NULL AND id IN ({','.join('?' * len(part))})",
                           (owner, *part))
        await self._run(go)

    async def status(self) -> Status:
        def go() -> Status:
            db = self._db()
            now = self.clock()
            pending, leased, oldest = db.execute(
                "SELECT count(*), count(*) FILTER (WHERE lease > ?), min(time) FROM outbox"
                " WHERE published IS NULL", (now,)).fetchone()
            (total, newest) = db.execute("SELECT count(*), max(time) FROM outbox").fetchone()
            return Status(pending, leased, total - pending, oldest, newest)
        return await self._run(go)

    async def since(self, when: float, after: int, limit: int) -> list[Row]:
        def go() -> list[Row]:
            return [Row(*r) for r in self._db().execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE time >= ? AND id > ? ORDER BY id"
                " LIMIT ?", (when, after, limit))]
        return await self._run(go)

    async def prune(self, before: float) -> int:
        def go() -> int:
            cur = self._db().execute(
                "DELETE FROM outbox WHERE time < ? AND published IS NOT NULL", (before,))
            return cur.rowcount
        return await self._run(go)


def _mark(db: sqlite3.Connection, ids: list[int], now: float) -> None:
    for part in _chunks(ids):
        db.execute(f"UPDATE outbox SET published = ?, lease = NULL, owner = NULL"
                   f" WHERE id IN ({','.join('?' * len(part))})", (now, *part))


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
