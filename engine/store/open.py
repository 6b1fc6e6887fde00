"""Which backend a database setting means: a postgresql:// (or postgres://) URL is
PostgreSQL, anything else the path of an SQLite file. The CLI's commands and the bot
open their store here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.game import Game
from engine.outbox.source import Source
from engine.store.interface import Store
from engine.store.postgres import PgStore, is_url
from engine.store.postgres.connect import connect
from engine.store.postgres.schema import LATEST as PG_LATEST
from engine.store.postgres.schema import upgrade as pg_upgrade
from engine.store.sqlite import SqliteStore, prepare
from engine.store.sqlite.migrations import LATEST as SQLITE_LATEST

# What PgStore takes of the options: durability, the writer kind and checkpoints are
# SQLite's (on PostgreSQL the server's synchronous_commit decides durability).
_PG_OPTIONS = ("clock", "max_batch", "readers", "statement_timeout", "outbox",
               "events_game")


def shown(target: str | Path) -> str:
    from engine.store.postgres.connect import shown as url_shown

    return url_shown(str(target)) if is_url(target) else str(target)


async def open_store(target: str | Path, game: Game, **options: Any) -> Store:
    """The store `target` names, open; StoreOpenError (one sentence) when it cannot be."""
    if is_url(target):
        return await PgStore.open(str(target), game,
                                  **{k: v for k, v in options.items() if k in _PG_OPTIONS})
    return await SqliteStore.open(target, game, **options)


async def upgrade(target: str | Path) -> tuple[int, int]:
    """Create the database's schema or bring it up to date: (version now, latest)."""
    if is_url(target):
        conn = await connect(str(target))
        try:
            _, now = await pg_upgrade(conn, f"DIANA_DB ({shown(target)})")
        finally:
            await conn.close()
        return now, PG_LATEST
    conn = await prepare(target)
    try:
        (version,) = await (await conn.execute("PRAGMA user_version")).fetchone()
    finally:
        await conn.close()
    return int(version), SQLITE_LATEST


async def open_outbox(target: str | Path) -> Source:
    """The outbox of the database `target` names, for a publisher or `diana events`."""
    if is_url(target):
        from engine.store.postgres.outbox import PgOutbox

        return await PgOutbox.open(str(target))
    from engine.store.sqlite.outbox import SqliteOutbox

    return await SqliteOutbox.open(target)
