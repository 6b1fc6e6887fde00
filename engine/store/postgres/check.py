"""`diana db check` on PostgreSQL: the shared invariants (engine/store/invariants.py) on
one read-only snapshot of the database."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from engine.store.errors import StoreOpenError
from engine.store.invariants import Report, applied, balances, scores
from engine.store.postgres.connect import connect, shown
from engine.store.postgres.schema import LATEST, too_new, version_of


class _Reader:
    """Synchronous rows over an asyncpg connection, for the shared checks."""

    def __init__(self, runner: asyncio.Runner, conn: asyncpg.Connection) -> None:
        self.runner = runner
        self.conn = conn

    def execute(self, sql: str, /) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.runner.run(self.conn.fetch(sql))]


def check(url: str) -> Report:
    """Raises StoreOpenError when the database cannot be checked at all. Call it where no
    event loop runs (it runs its own)."""
    where = f"DIANA_DB ({shown(url)})"
    with asyncio.Runner() as runner:
        conn = runner.run(connect(url))
        try:
            r = Report()
            r.version = runner.run(version_of(conn))
            if (err := too_new(r.version, where)) is not None:
                raise err
            if r.version < LATEST:
                r.add(f"the schema is version {r.version}, the latest is {LATEST}: run"
                      " `diana db upgrade`")
                return r
            runner.run(conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            db = _Reader(runner, conn)
            try:
                balances(db, r)
                applied(db, r)
                scores(db, r)
            except asyncpg.PostgresError as exc:
                raise StoreOpenError(f"{where}: the check failed: {exc}") from exc
            finally:
                runner.run(conn.execute("ROLLBACK"))
            return r
        finally:
            runner.run(conn.close())
