"""A copy's SQLite side: read in one read transaction (WAL: a snapshot, while a bot
writes), or written in one BEGIN IMMEDIATE transaction. A target file that does not exist
is created with the current schema, and removed again if the copy does not commit."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Iterator

from engine.store.errors import StoreOpenError
from engine.store.invariants import Report, Rows, score_counts
from engine.store.sqlite.check import connect_readonly
from engine.store.sqlite.connect import check_file, foreign, open_error, prepare, schema_of
from engine.store.sqlite.migrations import BUCKET_BITS, LATEST, check_version
from engine.store.sqlite.rows import BUSY_TIMEOUT_MS
from engine.store.transfer.tables import DERIVED, Table

CHUNK = 5_000


class SqliteSide:
    kind = "sqlite"
    latest = LATEST

    def __init__(self, path: str, conn: sqlite3.Connection, *, created: bool = False) -> None:
        self.path = path
        self.where = path
        self.shown = path
        self.conn = conn
        self.created = created  # by this copy: removed if the copy does not commit

    @classmethod
    def source(cls, path: str) -> SqliteSide:
        conn = connect_readonly(path)
        conn.isolation_level = None
        conn.execute("PRAGMA query_only = ON")
        version = schema_of(conn)[0]
        check_version(version, path)
        return cls(path, conn)

    @classmethod
    def target(cls, path: str, runner: asyncio.Runner) -> SqliteSide:
        created = not os.path.exists(path)
        check_file(path, write=True)
        if created:
            # The store's own creation: the file appears complete, schema and all.
            runner.run(_create(path))
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            version, tables = schema_of(conn)
        except sqlite3.Error as exc:
            raise open_error(path, exc) from exc
        why = foreign(version, tables, path)
        if why is not None:
            conn.close()
            raise StoreOpenError(why)
        check_version(version, path)
        conn.execute("PRAGMA foreign_keys = ON")
        return cls(path, conn, created=created)

    # ---- what both roles read -----------------------------------------------------------

    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def tables(self) -> dict[str, Table]:
        out = {}
        for (name,) in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"):
            if name in DERIVED:
                continue
            info = list(self.conn.execute(f'PRAGMA table_info("{name}")'))
            columns = tuple(r[1] for r in info)
            key = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
            parents = frozenset(r[2] for r in self.conn.execute(
                f'PRAGMA foreign_key_list("{name}")'))
            out[name] = Table(name, columns, key, parents)
        return out

    def json_columns(self) -> set[tuple[str, str]]:
        return set()  # JSON is TEXT here: compared as the other side's type says

    def count(self, table: str) -> int:
        return int(self.conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])

    def chunks(self, table: Table, columns: tuple[str, ...]) -> Iterator[list[tuple]]:
        order = ", ".join(f'"{c}"' for c in table.key) or "rowid"
        cur = self.conn.execute(f"SELECT {_names(columns)} FROM \"{table.name}\""
                                f" ORDER BY {order}")
        while rows := cur.fetchmany(CHUNK):
            yield rows

    def begin_read(self) -> None:
        self.conn.execute("BEGIN")  # the snapshot starts at the first read, just below

    def rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")

    # ---- the target ---------------------------------------------------------------------

    def begin_write(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        marks = ", ".join("?" for _ in columns)
        self.conn.executemany(f'INSERT INTO "{table}" ({_names(columns)}) VALUES ({marks})',
                              rows)

    def finish_inserts(self, tables: dict[str, Table]) -> None:
        """Nothing: an INTEGER PRIMARY KEY goes on from the largest id."""

    def reader(self) -> Rows:
        return self.conn

    def extra_checks(self, report: Report, actual: dict[tuple[str, int], list[int]]) -> None:
        score_counts(self.conn, report, actual, BUCKET_BITS)

    def commit(self) -> None:
        self.conn.execute("COMMIT")


    def close(self, *, committed: bool = True) -> None:
        self.conn.close()
        if self.created and not committed:
            for leftover in (self.path, f"{self.path}-wal", f"{self.path}-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(leftover)


async def _create(path: str) -> None:
    conn = await prepare(path)
    await conn.close()


def _names(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{c}"' for c in columns)

