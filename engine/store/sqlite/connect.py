"""Opening a database file: checks, pragmas, migrations, clear errors."""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from pathlib import Path

import aiosqlite

from engine.store.errors import StoreCorrupt, StoreError, StoreOpenError, StoreReadOnly
from engine.store.sqlite.migrations import LATEST, check_version, pending, statements
from engine.store.sqlite.rows import AUTOCHECKPOINT_PAGES, BUSY_TIMEOUT_MS

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


async def prepare(path: str | Path, *, durability: str = "full",
                  migrate: bool = True) -> aiosqlite.Connection:
    """Open a writer connection: checks, pragmas, migrations. Raises StoreOpenError."""
    p = str(path)
    if p != ":memory:":
        check_file(p, write=True)
        if not os.path.exists(p):
            await create(p)
    try:
        conn = await aiosqlite.connect(p, isolation_level=None)
    except sqlite3.Error as exc:
        raise open_error(p, exc) from exc
    try:
        # The busy timeout first: every statement after it waits for another process's lock.
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # Before anything writes (WAL mode is written into the file): is it Diana's?
        await identify(conn, p)
        await configure(conn, p, durability)
        await upgrade(conn, p, migrate)
    except StoreError:
        await conn.close()
        raise
    except sqlite3.Error as exc:
        await conn.close()
        raise open_error(p, exc) from exc
    return conn


def check_file(p: str, *, write: bool) -> None:
    """What can be told of the path before SQLite opens (and maybe creates) it."""
    if os.path.isdir(p):
        raise StoreOpenError(f"{p}: is a directory; give the path of a database file")
    exists = os.path.exists(p)
    if not write and not exists:
        raise StoreOpenError(f"{p}: no such database file")
    # No write bit counts as read-only even for root, whom os.access lets write anything.
    if write and exists and (not os.access(p, os.W_OK) or not os.stat(p).st_mode & 0o222):
        raise StoreReadOnly(f"{p}: the database file is read-only; the store needs to"
                            " write it")
    # The store never leaves an empty file behind (see create), so one is damage: a
    # truncated copy, or a file made by something else.
    if exists and os.path.getsize(p) == 0:
        raise StoreCorrupt(f"{p}: empty file, not a Diana database; restore it from a"
                           " backup, or delete it to start a new database")
    if write:
        parent = os.path.dirname(os.path.abspath(p))
        if not os.path.isdir(parent):
            raise StoreOpenError(f"{p}: the directory {parent} does not exist")
        if not os.access(parent, os.W_OK) or not os.stat(parent).st_mode & 0o222:
            raise StoreReadOnly(f"{p}: the directory {parent} is not writable (SQLite needs"
                                " it for the -wal and -shm files)")


def foreign(version: int, tables: set[str], path: str) -> str | None:
    """Why a file with this schema version and these tables is not a Diana database, or
    None. A file with no schema version is new only if it holds no tables at all."""
    if version != 0 or not tables:
        return None
    if "saves" in tables and "ledger" not in tables:
        return (f"{path}: this file holds the save slots of an older `diana play` (no schema"
                " version), which this version cannot read; move it aside"
                f" (`mv {path} {path}.old`) or use another --db file")
    shown = ", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else "")
    return (f"{path}: an SQLite database of another program (tables: {shown}), not a Diana"
            " database; use another --db file")


def schema_of(db: sqlite3.Connection) -> tuple[int, set[str]]:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return int(version), tables


async def identify(conn: aiosqlite.Connection, p: str) -> None:
    version = (await (await conn.execute("PRAGMA user_version")).fetchone())[0]
    check_version(version, p)
    if version == 0:
        rows = await conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table'")
        why = foreign(version, {r[0] for r in rows}, p)
        if why is not None:
            raise StoreOpenError(why)


async def create(p: str) -> None:
    """A new database appears complete or not at all: made under a private name, then
    linked into place. Another process that creates the same file at the same moment
    wins the link; this one then opens theirs."""
    tmp = f"{p}.new-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        conn = await aiosqlite.connect(tmp, isolation_level=None)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await configure(conn, tmp, "full")
            await upgrade(conn, tmp, True)
        finally:
            await conn.close()
        with contextlib.suppress(FileExistsError):  # another process was first
            os.link(tmp, p)
    except sqlite3.Error as exc:
        raise open_error(p, exc) from exc
    except OSError as exc:
        raise StoreOpenError(f"{p}: cannot create the database ({exc.strerror})") from exc
    finally:
        for leftover in (tmp, f"{tmp}-wal", f"{tmp}-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)


async def configure(conn: aiosqlite.Connection, p: str, durability: str) -> None:
    mode = (await (await conn.execute("PRAGMA journal_mode = WAL")).fetchone())[0]
    if p != ":memory:" and str(mode).lower() != "wal":
        raise StoreOpenError(f"{p}: cannot switch the database to WAL mode ({mode})")
    await conn.execute(f"PRAGMA synchronous = {DURABILITY[durability]}")
    await conn.execute("PRAGMA foreign_keys = ON")
    # The store checkpoints in the background (checkpoint.py); this is the backstop.
    await conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")


async def upgrade(conn: aiosqlite.Connection, p: str, migrate: bool) -> None:
    """Read the schema version and apply the migrations under the write lock, so that two
    processes opening one file at once see either none or all of each migration."""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        await identify(conn, p)  # again: another process may have changed it since
        version = (await (await conn.execute("PRAGMA user_version")).fetchone())[0]
        if migrate:
            for v, sql in pending(version):
                for statement in statements(sql):
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version = {v}")
        elif version < LATEST:
            raise StoreOpenError(f"{p}: the schema is version {version}, this program needs"
                                 f" {LATEST}; run `diana db migrate --db {p}`")
        await conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            await conn.execute("ROLLBACK")
        raise
