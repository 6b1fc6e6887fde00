"""The update-id ledger on SQLite (schema version 4): the same claims as on PostgreSQL
(postgres/updates.py), so that a bot restarted over a running one, or a replay after a
crash, handles each update once.

On a connection of its own with synchronous=NORMAL: a claim lost in an OS crash costs at
most one duplicate message (actions stay exactly-once by their own keys, written by the
store's writer), and it must not pay the writer's fsync on every update."""

from __future__ import annotations

import asyncio
import sqlite3

import aiosqlite

from engine.store.errors import StoreError
from engine.store.sqlite.connect import BUSY_TIMEOUT_MS

KEEP = 3 * 24 * 3600.0
PRUNE_EVERY = 2000

CLAIM = ("INSERT INTO handled_updates AS h (update_id, owner, until, done, time)"
         " VALUES (?1, ?2, ?3, 0, ?4) ON CONFLICT (update_id) DO UPDATE"
         " SET owner = excluded.owner, until = excluded.until"
         " WHERE NOT h.done AND h.until < excluded.time RETURNING update_id")
FINISH = "UPDATE handled_updates SET done = 1 WHERE update_id = ? AND owner = ?"
RELEASE = "DELETE FROM handled_updates WHERE update_id = ? AND owner = ? AND NOT done"
PRUNE = "DELETE FROM handled_updates WHERE time < ?"


async def connect(path: str) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA synchronous = NORMAL")
    return conn


async def claim(conn: aiosqlite.Connection, update_id: int, owner: str, now: float,
                lease: float) -> bool:
    cur = await conn.execute(CLAIM, (update_id, owner, now + lease, now))
    row = await cur.fetchone()
    await cur.close()
    return row is not None


async def finish(conn: aiosqlite.Connection, update_id: int, owner: str, done: bool) -> None:
    await conn.execute(FINISH if done else RELEASE, (update_id, owner))


async def prune(conn: aiosqlite.Connection, now: float) -> None:
    await conn.execute(PRUNE, (now - KEEP,))


class Ledger:
    """The claims of one store: on their own connection, opened on first use. An
    in-memory database has no other process to share them with: a dict serves."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        self._opening = asyncio.Lock()
        self._memory: dict[int, bool] = {}  # update id -> done
        self._claims = 0

    async def _connection(self) -> aiosqlite.Connection:
        async with self._opening:
            if self._conn is None:
                self._conn = await connect(self.path)
            return self._conn

    async def claim(self, update_id: int, owner: str, now: float, lease: float) -> bool:
        if self.path == ":memory:":
            if update_id in self._memory:
                return False
            self._memory[update_id] = False
            return True
        try:
            conn = await self._connection()
            claimed = await claim(conn, update_id, owner, now, lease)
            self._claims += 1
            if self._claims % PRUNE_EVERY == 0:
                await prune(conn, now)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot record the update: {exc}") from exc
        return claimed

    async def finish(self, update_id: int, owner: str, done: bool) -> None:
        if self.path == ":memory:":
            if done:
                self._memory[update_id] = True
            elif self._memory.get(update_id) is False:
                del self._memory[update_id]
            return
        try:
            await finish(await self._connection(), update_id, owner, done)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot record the update: {exc}") from exc

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
