"""The outbox table in SQLite's SQL: what the store's batch writes (INSERT) and what a
publisher reads and leases (SqliteOutbox, engine.outbox.source.Source).

One publisher sends at a time: it holds the lease on the whole outbox (the one row of
`outbox_lease`: owner, until), taken and renewed under BEGIN IMMEDIATE. Others stand by
and take it over when it runs out (a publisher that died), then start from the oldest
unmarked event; the broker drops what the dead one had sent but not marked.

Why the whole outbox rather than rows, as on PostgreSQL: on SQLite a lease is a write, and
the store's writer holds the write lock almost all the time under load (batch after
batch, each with its fsync); a publisher that took the lock for every claim waited up to
seconds for it and fell behind. Here the holder reads the unsent events without the write
lock (WAL readers never wait), keeps its place in memory, and writes only rarely: the
marks, batched in the background (a mark written late only means the event is sent again
after a crash, as a duplicate the broker drops), and the lease's renewal.
"""

from __future__ import annotations

import asyncio
import contextlib
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
MARK_EVERY = 0.2  # seconds between the background writes of marks


class SqliteOutbox:
    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        self.clock = clock
        self._r: sqlite3.Connection | None = None  # reads: never waits for the write lock
        self._w: sqlite3.Connection | None = None  # marks, the lease, pruning
        self._rlock = asyncio.Lock()  # one call at a time on each connection
        self._wlock = asyncio.Lock()
        self._until = 0.0  # this publisher's lease runs out then (0: it holds none)
        self._cursor = 0  # the last event id handed out under the lease
        self._marks: list[int] = []  # sent, to be marked by the background writer
        self._marker: asyncio.Task | None = None
        self._renewing: asyncio.Task | None = None

    @classmethod
    async def open(cls, path: str | Path, **options) -> SqliteOutbox:
        box = cls(path, **options)
        await asyncio.to_thread(box._connect)
        return box

    def _connect(self) -> None:
        if not Path(self.path).exists():
            raise StoreOpenError(f"{self.path}: no such database")
        try:
            conns = [sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                     timeout=BUSY_TIMEOUT_MS / 1000) for _ in range(2)]
            # A mark lost to a power cut only sends the event again (a dropped duplicate).
            conns[1].execute("PRAGMA synchronous = NORMAL")
            version = schema_version(conns[0])
        except sqlite3.Error as exc:
            raise StoreOpenError(f"{self.path}: {exc}") from exc
        problem = None
        if version < 3:
            problem = (f"the database has no outbox (schema version {version}, the outbox came"
                       " in 3); run `diana db upgrade`")
        elif version > LATEST:
            problem = (f"the schema is version {version}, newer than this program understands"
                       f" ({LATEST})")
        if problem is not None:
            for c in conns:
                c.close()
            raise StoreOpenError(f"{self.path}: {problem}")
        self._r, self._w = conns

    async def _read(self, fn, *args):
        async with self._rlock:
            try:
                return await asyncio.to_thread(fn, self._conn(self._r), *args)
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: {exc}") from exc

    async def _write(self, fn, *args):
        async with self._wlock:
            try:
                return await asyncio.to_thread(_transaction, self._conn(self._w), fn, *args)
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: {exc}") from exc

    @staticmethod
    def _conn(conn: sqlite3.Connection | None) -> sqlite3.Connection:
        if conn is None:
            raise StoreError("the outbox is closed")
        return conn

    async def close(self) -> None:
        for task in (self._marker, self._renewing):
            if task is not None:
                with contextlib.suppress(Exception):
                    await task
        with contextlib.suppress(StoreError):
            await self._flush_marks()
        if self._until:
            with contextlib.suppress(StoreError):
                await self._write(_give_up, self._owner)
        for conn in (self._r, self._w):
            if conn is not None:
                await asyncio.to_thread(conn.close)
        self._r = self._w = None

    # ---- the publisher's calls ----------------------------------------------------------

    _owner = ""

    async def claim(self, owner: str, limit: int, lease: float, done: list[int]) -> list[Row]:
        self._owner = owner
        if done:
            self._marks.extend(done)
            self._mark_soon()
        now = self.clock()
        if now >= self._until - lease / 3:  # (renewed well before it runs out)
            if now < self._until:
                self._renew_soon(owner, lease)  # in the background: go on sending meanwhile
            elif not await self._take(owner, lease):
                return []
        if self.clock() >= self._until:
            return []
        rows = await self._read(_pending, self._cursor, limit)
        if rows:
            self._cursor = rows[-1].id
        return rows

    async def _take(self, owner: str, lease: float) -> bool:
        """Take the lease if it is free or run out; from then on, start from the oldest
        unmarked event (another publisher may have sent some of them)."""
        holder, until = await self._read(_holder)
        if holder not in (None, owner) and until > self.clock():
            return False  # (a read first: standing by costs no write lock)
        if await self._write(_take, owner, lease, self.clock):
            self._until = self.clock() + lease
            self._cursor = 0
            return True
        return False

    def _renew_soon(self, owner: str, lease: float) -> None:
        if self._renewing is not None and not self._renewing.done():
            return

        async def renew() -> None:
            try:
                if await self._write(_take, owner, lease, self.clock):
                    self._until = self.clock() + lease
                else:
                    self._until = 0.0
            except StoreError:
                pass  # tried again at the next claim; past `until` this publisher stops

        self._renewing = asyncio.create_task(renew())

    def _mark_soon(self) -> None:
        if self._marker is not None and not self._marker.done():
            return

        async def later() -> None:
            await asyncio.sleep(MARK_EVERY)
            with contextlib.suppress(StoreError):
                await self._flush_marks()

        self._marker = asyncio.create_task(later())

    async def _flush_marks(self) -> None:
        ids, self._marks = self._marks, []
        if not ids:
            return
        try:
            await self._write(_mark, ids, self.clock())
        except StoreError:
            self._marks[:0] = ids
            raise

    async def mark(self, ids: list[int]) -> None:
        """Queued for the background writer: the publisher never waits for the write lock
        (`close` writes what is left)."""
        self._marks.extend(ids)
        self._mark_soon()

    async def release(self, owner: str, ids: list[int]) -> None:
        """The broker refused these: hand them out again from the first of them (those
        after it that were sent go again, as duplicates the broker drops)."""
        if ids:
            self._cursor = min(self._cursor, min(ids) - 1)

    async def status(self) -> Status:
        now = self.clock()

        def go(db: sqlite3.Connection) -> Status:
            pending, oldest = db.execute(
                "SELECT count(*), min(time) FROM outbox WHERE published IS NULL").fetchone()
            total, newest = db.execute("SELECT count(*), max(time) FROM outbox").fetchone()
            owner, until = _holder(db)
            holder = owner if owner is not None and until > now else None
            return Status(pending, pending if holder else 0, total - pending, oldest, newest,
                          holder)
        return await self._read(go)

    async def since(self, when: float, after: int, limit: int) -> list[Row]:
        def go(db: sqlite3.Connection) -> list[Row]:
            return [Row(*r) for r in db.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE time >= ? AND id > ? ORDER BY id"
                " LIMIT ?", (when, after, limit))]
        return await self._read(go)

    async def prune(self, before: float) -> int:
        def go(db: sqlite3.Connection) -> int:
            return db.execute("DELETE FROM outbox WHERE time < ? AND published IS NOT NULL",
                              (before,)).rowcount
        return await self._write(go)


# ---- in the worker thread ------------------------------------------------------------------


def _transaction(db: sqlite3.Connection, fn, *args):
    db.execute("BEGIN IMMEDIATE")
    try:
        result = fn(db, *args)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return result


def _pending(db: sqlite3.Connection, after: int, limit: int) -> list[Row]:
    return [Row(*r) for r in db.execute(
        f"SELECT {_COLUMNS} FROM outbox WHERE published IS NULL AND id > ? ORDER BY id"
        " LIMIT ?", (after, limit))]


def _holder(db: sqlite3.Connection) -> tuple[str | None, float]:
    row = db.execute("SELECT owner, until FROM outbox_lease").fetchone()
    return (row[0], row[1]) if row else (None, 0.0)


def _take(db: sqlite3.Connection, owner: str, lease: float, clock) -> bool:
    now = clock()
    return db.execute("INSERT INTO outbox_lease VALUES (1, ?, ?) ON CONFLICT (one) DO UPDATE"
                      " SET owner = excluded.owner, until = excluded.until"
                      " WHERE outbox_lease.owner IS NULL OR outbox_lease.owner = excluded.owner"
                      " OR outbox_lease.until <= ?", (owner, now + lease, now)).rowcount == 1


def _give_up(db: sqlite3.Connection, owner: str) -> None:
    db.execute("UPDATE outbox_lease SET owner = NULL, until = 0 WHERE owner = ?", (owner,))


def _mark(db: sqlite3.Connection, ids: list[int], now: float) -> None:
    for i in range(0, len(ids), _CHUNK):
        part = ids[i:i + _CHUNK]
        db.execute(f"UPDATE outbox SET published = ? WHERE id IN ({','.join('?' * len(part))})",
                   (now, *part))
