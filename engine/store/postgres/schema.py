"""Versioned schema migrations: the numbered SQL files in migrations/, applied in order and
recorded in `schema_migrations`.

Plain SQL files rather than a migration tool (Alembic, yoyo): the store has no ORM, the
SQLite side already keeps its migrations as plain SQL in order, and a dozen lines here do
what a tool would (order, record, lock) without another dependency and its configuration.
Never edit a released file; add the next number.
"""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg

from engine.store.errors import SchemaTooNew, StoreOpenError

DIRECTORY = Path(__file__).with_name("migrations")
# pg_advisory_xact_lock key ("diana" in ASCII): two processes upgrading at once take turns,
# and the second finds the first's migrations recorded.
LOCK = 0x6469616E61
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) in order."""
    found = []
    for path in sorted(DIRECTORY.iterdir()):
        m = _NAME.match(path.name)
        if m:
            found.append((int(m.group(1)), path.name, path.read_text(encoding="utf-8")))
    numbers = [v for v, _, _ in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"the migration files are not numbered 1, 2, …: {numbers}")
    return found


LATEST = len(migrations())


async def version_of(conn: asyncpg.Connection) -> int:
    """The schema version of the database: 0 before the first migration."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))


def too_new(version: int, where: str) -> SchemaTooNew | None:
    if version <= LATEST:
        return None
    return SchemaTooNew(f"{where}: the database schema is version {version}, newer than this"
                        f" program understands ({LATEST}); upgrade Diana before opening it")


async def require_current(conn: asyncpg.Connection, where: str) -> int:
    """The schema version, if this program can use it as it is; StoreOpenError otherwise."""
    version = await version_of(conn)
    if (err := too_new(version, where)) is not None:
        raise err
    if version < LATEST:
        raise StoreOpenError(f"{where}: the database schema is version {version}, this program"
                             f" needs {LATEST}; run `diana db upgrade` first")
    return version


async def upgrade(conn: asyncpg.Connection, where: str) -> tuple[int, int]:
    """Apply the pending migrations, all in one transaction (all or none of them), under an
    advisory lock. Returns (version before, version after)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
            " name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())")
        before = await version_of(conn)
        if (err := too_new(before, where)) is not None:
            raise err
        for version, name, sql in migrations():
            if version > before:
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (version, name)"
                                   " VALUES ($1, $2)", version, name)
    return before, max(before, LATEST)
