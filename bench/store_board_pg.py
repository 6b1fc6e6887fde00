"""Leaderboards over a generated PostgreSQL database (`store_bench.py --db URL`): top-10 and
a random player's own rank with two neighbours each side, through the store's own reads
(engine/store/postgres/reads.py), in a scratch database dropped afterwards."""

from __future__ import annotations

import random
import time

import asyncpg
from store_workers import create_pg, drop_pg, pct

from engine.store.postgres import ranks, reads

WHEN = 1736500000.0  # in ISO week 2025-W02
TARGET_P99_MS = 10.0


async def generate(conn: asyncpg.Connection, players: int, rnd: random.Random) -> None:
    """The same shape as the SQLite bench's board: Pareto scores (large ties at the bottom),
    a third of the players on the week's board."""
    await conn.copy_records_to_table(
        "players", columns=["id", "external_id", "name", "role", "locale", "created"],
        records=((i, f"tg:{i}", f"Player {i}", "free", "en", 0.0)
                 for i in range(1, players + 1)))
    reached = rnd.sample(range(1, 20 * players), players)

    def score() -> int:
        return int(rnd.paretovariate(1.2) * 5)

    columns = ["board", "player", "score", "reached"]
    await conn.copy_records_to_table("scores", columns=columns, records=(
        ("all", i, score(), reached[i - 1]) for i in range(1, players + 1)))
    await conn.copy_records_to_table("scores", columns=columns, records=(
        ("w:2025-W02", i, score(), reached[i - 1])
        for i in rnd.sample(range(1, players + 1), players // 3)))
    await conn.execute("SELECT setval(pg_get_serial_sequence('ledger', 'id'), $1)",
                       20 * players)
    await ranks.rebuild(conn)  # the counts a store keeps as it writes (ranks.py)
    await refresh(conn)


async def refresh(conn: asyncpg.Connection) -> None:
    for table in ("players", "scores", "score_count", "score_hist"):
        await conn.execute(f"VACUUM ANALYZE {table}")


async def bench(url: str, players: int, rounds: int) -> None:
    rnd = random.Random(1)
    scratch = await create_pg(url)
    try:
        conn = await asyncpg.connect(scratch)
        try:
            t0 = time.perf_counter()
            await generate(conn, players, rnd)
            print(f"\nleaderboards over {players:,} players on PostgreSQL (generated in"
                  f" {time.perf_counter() - t0:.1f} s)")
            for kind in ("all", "week"):
                tops: list[float] = []
                ranks: list[float] = []
                for _ in range(rounds):
                    for _ in range(200):
                        t0 = time.perf_counter()
                        await reads.top(conn, kind, 10, WHEN)
                        tops.append(time.perf_counter() - t0)
                        pid = rnd.randint(1, players)
                        t0 = time.perf_counter()
                        await reads.standing(conn, pid, kind, 2, WHEN)
                        ranks.append(time.perf_counter() - t0)
                p99 = max(pct(tops, 99), pct(ranks, 99)) * 1e3
                if kind == "all":
                    largest = await conn.fetchval("SELECT max(n) FROM score_count"
                                                  " WHERE board = 'all'")
                    print(f"largest tie group on the all-time board: {largest:,} players")
                print(f"{kind:>5}: top-10 p50 {pct(tops, 50) * 1e3:.2f} ms, p99"
                      f" {pct(tops, 99) * 1e3:.2f} ms; own rank + neighbours p50"
                      f" {pct(ranks, 50) * 1e3:.2f} ms, p99 {pct(ranks, 99) * 1e3:.2f} ms"
                      f" (target p99 < {TARGET_P99_MS:g} ms:"
                      f" {'met' if p99 < TARGET_P99_MS else 'NOT met'})", flush=True)
        finally:
            await conn.close()
    finally:
        await drop_pg(url, scratch)
