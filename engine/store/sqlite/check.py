"""`diana db check`: verify the invariants of a store file, read-only.

Plain sqlite3 (synchronous): the CLI needs no event loop, and reading a WAL database from
another process while the bot runs is safe.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from engine.store.errors import StoreCorrupt, StoreOpenError
from engine.store.invariants import Report, applied, balances, score_counts, scores
from engine.store.sqlite.connect import check_file, foreign, schema_of
from engine.store.sqlite.migrations import BUCKET_BITS, LATEST, check_version
from engine.store.sqlite.rows import BUSY_TIMEOUT_MS


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to a Diana database; StoreOpenError for anything else."""
    p = str(path)
    check_file(p, write=False)
    try:
        db = sqlite3.connect(f"file:{os.path.abspath(p)}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreCorrupt(f"{p}: the file is not a usable SQLite database ({exc})") from exc
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version, tables = schema_of(db)
    except sqlite3.Error as exc:
        db.close()
        raise StoreCorrupt(f"{p}: the file is not a usable SQLite database ({exc})") from exc
    why = foreign(version, tables, p)
    if why is not None:
        db.close()
        raise StoreOpenError(why)
    return db


def check(path: str | Path) -> Report:
    """Raises StoreOpenError when the file cannot be checked at all."""
    db = connect_readonly(path)
    try:
        return _check(db, str(path))
    except sqlite3.DatabaseError as exc:
        raise StoreCorrupt(f"{path}: the database is corrupted ({exc})") from exc
    finally:
        db.close()


def _check(db: sqlite3.Connection, path: str) -> Report:
    r = Report()
    r.version = db.execute("PRAGMA user_version").fetchone()[0]
    check_version(r.version, path)
    if r.version < LATEST:
        r.add(f"the schema is version {r.version}, the latest is {LATEST}: run `diana db migrate`")
        return r
    for (msg,) in db.execute("PRAGMA quick_check"):
        if msg != "ok":
            r.add(f"integrity: {msg}")
    for row in db.execute("PRAGMA foreign_key_check"):
        r.add(f"foreign key: row {row[1]} of {row[0]} points at a missing {row[2]}")
    db.execute("BEGIN")  # one snapshot for everything below
    balances(db, r)
    applied(db, r)
    score_counts(db, r, scores(db, r), BUCKET_BITS)
    db.execute("COMMIT")
    return r
