"""Opening a database file: checks, pragmas, migrations, clear errors."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import aiosqlite

from engine.store.errors import StoreCorrupt, StoreError, StoreOpenError, StoreReadOnly
from engine.store.migrations import LATEST, check_version, pending, script
from engine.store.rows import AUTOCHECKPOINT_PAGES

DURABILITY = {"full": "FULL", "normal": "NORMAL"}


def open_error(path: str, exc: sqlite3.Error) -> StoreOpenError:
    text = str(exc)
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreReadOnly(f"{path}: cannot write the database ({text}); check the file and"
                             " directory permissions")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreCorrupt(f"{path}: the file is not a usable SQLite database ({text});"
                            " restore it from a backup")
    return StoreOpenError(f"{path}: cannot open the database ({text})")


def default_seed(player: str) -> int:
    return int.from_bytes(hashlib.blake2b(player.encode(), digest_size=4).digest(), "big")


async def prepare(path: str | Path, *, durability: str = "full",
                  migrate: bool = True) -> aiosqlite.Connection:
    """Open a writer connection: checks, pragmas, migrations. Raises StoreOpenError."""
    p = str(path)
    if p != ":memory:":
        # No write bit counts as read-only even for root, who os.access would let write.
        if os.path.exists(p) and (not os.access(p, os.W_OK)
                                  or not os.stat(p).st_mode & 0o222):
            raise StoreReadOnly(f"{p}: the database file is read-only; the store needs to"
                                " write it")
        parent = os.path.dirname(os.path.abspath(p))
        if not os.access(parent, os.W_OK):
            raise StoreReadOnly(f"{p}: the directory {parent} is not writable (SQLite needs"
                                " it for the -wal and -shm files)")
    try:
        conn = await aiosqlite.connect(p, isolation_level=None)
    except sqlite3.Error as exc:
        raise open_error(p, exc) from exc
    try:
        version = (await (await conn.execute("PRAGMA user_version")).fetchone())[0]
        check_version(version, p)
        await conn.execute("PRAGMA busy_timeout = 5000")
        mode = (await (await conn.execute("PRAGMA journal_mode = WAL")).fetchone())[0]
        if p != ":memory:" and str(mode).lower() != "wal":
            raise StoreOpenError(f"{p}: cannot switch the database to WAL mode ({mode})")
        await conn.execute(f"PRAGMA synchronous = {DURABILITY[durability]}")
        await conn.execute("PRAGMA foreign_keys = ON")
        # The store checkpoints in the background (checkpoint.py); this is the backstop.
        await conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
        if version == 0:
            await refuse_legacy(conn, p)
        if migrate:
            for v, sql in pending(version):
                await conn.executescript(script(v, sql))
        elif version < LATEST:
            raise StoreOpenError(f"{p}: the schema is version {version}, this program needs"
                                 f" {LATEST}; run `diana db migrate --db {p}`")
    except StoreError:
        await conn.close()
        raise
    except sqlite3.Error as exc:
        await conn.close()
        raise open_error(p, exc) from exc
    return conn


async def refuse_legacy(conn: aiosqlite.Connection, path: str) -> None:
    rows = await conn.execute_fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'saves'")
    if rows:
        raise StoreOpenError(f"{path}: this file holds the save slots of an older `diana play`"
                             " (no schema version), which this version cannot read; move it"
                             f" aside (`mv {path} {path}.old`) or use another --db file")
