"""Helpers for the event-stream tests: a store on either backend, a load of player actions,
and the outbox's rows."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from pgkit import rows as pg_rows
from pgkit import scratch_database
from storekit import next_action, sample_game

from engine.store.open import open_store, upgrade
from engine.store.postgres import is_url

BACKENDS = ["sqlite", "postgres"]


@contextlib.contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    """An empty database with the current schema: an SQLite path or a PostgreSQL URL."""
    if kind == "postgres":
        with scratch_database() as url:
            yield url
        return
    path = str(tmp / "diana.sqlite3")
    asyncio.run(upgrade(path))
    yield path


async def play(target: str, players: int, actions: int, *, seed: int = 1, prefix: str = "k",
               between=None) -> dict[str, list]:
    """`players` players take `actions` actions each, interleaved; returns the results by
    key. `between(i)` is awaited after the i-th round (a test's hook: kill the broker)."""
    game = sample_game()
    rng = random.Random(seed)
    store = await open_store(target, game)
    results: dict[str, list] = {}
    try:
        names = [f"p{i}" for i in range(players)]
        for name in names:
            await store.register(name)
        for i in range(actions):
            async def one(name: str, i: int = i) -> None:
                state = await store.state(name)
                key = f"{prefix}:{name}:{i}"
                result = await store.apply(name, next_action(game, state, rng.randrange(3)),
                                           key)
                results[key] = [result]
            await asyncio.gather(*(one(n) for n in names))
            if between is not None:
                await between(i)
    finally:
        await store.close()
    return results


def outbox(target: str) -> list[dict]:
    """Every event in the outbox, in the order written."""
    sql = "SELECT body FROM outbox ORDER BY id"
    if is_url(target):
        return [json.loads(r[0]) for r in pg_rows(target, sql)]
    with contextlib.closing(sqlite3.connect(target)) as db:
        return [json.loads(r[0]) for r in db.execute(sql)]


def pending(target: str) -> int:
    sql = "SELECT count(*) FROM outbox WHERE published IS NULL"
    if is_url(target):
        return pg_rows(target, sql)[0][0]
    with contextlib.closing(sqlite3.connect(target)) as db:
        return db.execute(sql).fetchone()[0]


def lease_owner(target: str) -> str | None:
    """SQLite: the publisher holding the outbox's lease now (PostgreSQL leases rows)."""
    if is_url(target):
        return None
    with contextlib.closing(sqlite3.connect(target)) as db:
        row = db.execute("SELECT owner, until FROM outbox_lease").fetchone()
    return row[0] if row is not None and row[0] is not None and row[1] > time.time() else None


def check_stream(stream: list[dict], written: list[dict]) -> None:
    """Every written event arrived exactly once (ids), each player's in seq order."""
    ids = [e["id"] for e in stream]
    assert len(ids) == len(set(ids)), "an event arrived twice"
    assert set(ids) == {e["id"] for e in written}
    last: dict[str, int] = {}
    for e in stream:
        assert e["seq"] == last.get(e["player"], 0) + 1, (e, last.get(e["player"]))
        last[e["player"]] = e["seq"]
