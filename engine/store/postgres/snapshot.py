"""One read-only snapshot of a PostgreSQL database for synchronous callers (`diana db
check`, `diana stats`, `diana db copy`): the shared row-reading code (engine/store/
invariants.py, engine/stats/read.py) runs on it as it does on an sqlite3 connection."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg

from engine.store.postgres.connect import connect, shown
from engine.store.postgres.schema import too_new, version_of


class Reader:
    """Synchronous rows over an asyncpg connection: `execute(sql)` as sqlite3 has it (no
    parameters: the shared readers need none)."""

    def __init__(self, runner: asyncio.Runner, conn: asyncpg.Connection) -> None:
        self.runner = runner
        self.conn = conn

    def execute(self, sql: str, /) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.runner.run(self.conn.fetch(sql))]

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)


@contextmanager
def snapshot(url: str) -> Iterator[tuple[int, Reader]]:
    """(schema version, reader) inside one REPEATABLE READ READ ONLY transaction; the
    reader is only for a schema this program understands (SchemaTooNew otherwise, before
    anything is read). StoreOpenError when the server cannot be reached. Call it where no
    event loop runs (it runs its own)."""
    where = f"DIANA_DB ({shown(url)})"
    with asyncio.Runner() as runner:
        conn = runner.run(connect(url))
        try:
            version = runner.run(version_of(conn))
            if (err := too_new(version, where)) is not None:
                raise err
            runner.run(conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            try:
                yield version, Reader(runner, conn)
            finally:
                runner.run(conn.execute("ROLLBACK"))
        finally:
            runner.run(conn.close())
