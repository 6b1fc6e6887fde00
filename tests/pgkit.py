"""Scratch PostgreSQL databases for the store tests.

The server is DIANA_TEST_PG (default postgresql://postgres@127.0.0.1:5432/postgres, a
database the user may connect to); each test gets `diana_test_<random>`, created with the
schema applied and dropped afterwards. Without a server the PostgreSQL cases are skipped
with a reason that names it (`pytest -rs` lists them)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from engine.store.postgres.connect import shown
from engine.store.postgres.schema import upgrade

SERVER = os.environ.get("DIANA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def blocking(coro):
    """Run a coroutine to the end from sync code, inside a running loop or not."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def _admin() -> asyncpg.Connection:
    return await asyncpg.connect(SERVER, timeout=5)


@contextmanager
def scratch_database(*, migrated: bool = True) -> Iterator[str]:
    """The URL of a new, empty database (with the schema applied when `migrated`)."""
    name = f"diana_test_{secrets.token_hex(6)}"

    async def create() -> None:
        conn = await _admin()
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        if migrated:
            conn = await asyncpg.connect(_with_database(SERVER, name))
            try:
                await upgrade(conn, name)
            finally:
                await conn.close()

    async def drop() -> None:
        conn = await _admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    async def probe() -> None:
        await (await _admin()).close()

    try:
        blocking(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.skip(f"PostgreSQL tests skipped: no usable server at {shown(SERVER)}"
                    f" ({exc}); set DIANA_TEST_PG")
    blocking(create())
    try:
        yield _with_database(SERVER, name)
    finally:
        blocking(drop())


def count(url: str, sql: str, *args) -> int:
    """An SQLite-style query (`?` placeholders) on the database at `url`."""
    n = iter(range(1, len(args) + 1))
    text = re.sub(r"\?", lambda _: f"${next(n)}", sql)

    async def one() -> int:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval(text, *args)
        finally:
            await conn.close()

    return blocking(one())


def rows(url: str, sql: str) -> list[tuple]:
    async def fetch() -> list[tuple]:
        conn = await asyncpg.connect(url)
        try:
            return [tuple(r) for r in await conn.fetch(sql)]
        finally:
            await conn.close()

    return blocking(fetch())
