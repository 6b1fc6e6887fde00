"""Leaderboards: order, tie-break by who reached the score first, own rank, periods, on
both backends; ranks from the maintained counts equal ranks from a full sort."""

from __future__ import annotations

import asyncio
import random
import sqlite3

import asyncpg
import pgkit
import pytest
from storekit import Clock, sample_game

from engine.store import Store, postgres
from engine.store.invariants import Report, score_counts
from engine.store.open import open_store
from engine.store.postgres import ranks
from engine.store.postgres.snapshot import snapshot
from engine.store.sqlite.check import check
from engine.store.sqlite.leaderboard import rank_of
from engine.store.sqlite.migrations import BUCKET_BITS

GAME = sample_game()


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    if request.param == "sqlite":
        yield tmp_path / "s.db"
        return
    with pgkit.scratch_database() as url:
        yield url


async def opened(db, clock) -> Store:
    return await open_store(db, GAME, durability="normal", clock=clock)


def consistent(db) -> bool:
    return (postgres.check(db) if postgres.is_url(db) else check(db)).ok


def test_ties_go_to_who_reached_the_score_first(db):
    clock = Clock()

    async def main():
        async with await opened(db, clock) as store:
            for p in "abcde":
                await store.register(p, name=p.upper())
            await store.grant("b", 10, "x")
            await store.grant("a", 10, "x")
            await store.grant("c", 20, "x")
            await store.grant("d", 5, "x")
            await store.grant("e", 5, "x")
            await store.grant("e", 5, "x")  # e reaches 10 last
            top = await store.top(n=10)
            assert [(e.rank, e.player, e.score) for e in top] == [
                (1, "c", 20), (2, "b", 10), (3, "a", 10), (4, "e", 10), (5, "d", 5)]
            assert top[0].name == "C"
            assert [e.player for e in await store.top(n=2)] == ["c", "b"]
            a = await store.standing("a", around=2)
            assert a.entry is not None and a.entry.rank == 3 and a.total == 5
            assert [(e.rank, e.player) for e in a.above] == [(1, "c"), (2, "b")]
            assert [(e.rank, e.player) for e in a.below] == [(4, "e"), (5, "d")]
            c = await store.standing("c", around=1)
            assert c.above == () and [e.player for e in c.below] == ["b"]
            # revoking moves a player down; the revoke counts as reaching the new score now
            await store.revoke("c", 10, "correction")
            assert [e.player for e in await store.top()] == ["b", "a", "e", "c", "d"]
            # spending in the story does not lower the standing; unregistered boards: empty
            assert (await store.standing("d", "week")).entry.score == 5
            await store.register("f")
            assert (await store.standing("f")).entry is None
            await store.reset("b")  # off the boards: the counts follow
            assert [e.player for e in await store.top()] == ["a", "e", "c", "d"]
            assert (await store.standing("d")).entry.rank == 4
            assert (await store.standing("a")).total == 4

    run(main())
    assert consistent(db)


def test_week_and_month_boards(db):
    clock = Clock("2025-01-29T10:00:00")  # Wednesday of ISO week 5, January

    async def main():
        async with await opened(db, clock) as store:
            await store.register("a")
            await store.register("b")
            await store.grant("a", 100, "january")
            clock.set("2025-02-01T10:00:00")  # same ISO week, new month
            await store.grant("b", 30, "february")
            assert [e.player for e in await store.top("week")] == ["a", "b"]
            assert [(e.player, e.score) for e in await store.top("month")] == [("b", 30)]
            clock.set("2025-02-04T10:00:00")  # next week
            await store.grant("b", 5, "tuesday")
            assert [(e.player, e.score) for e in await store.top("week")] == [("b", 5)]
            assert [(e.player, e.score) for e in await store.top("month")] == [("b", 35)]
            assert [(e.player, e.score) for e in await store.top("all")] == [
                ("a", 100), ("b", 35)]
            # a past period stays queryable
            jan = Clock("2025-01-15T00:00:00")()
            assert [e.player for e in await store.top("month", when=jan)] == ["a"]
            assert (await store.standing("b", "week")).entry.rank == 1
            assert (await store.standing("a", "week")).entry is None
            await store.delete("b")
            assert [e.player for e in await store.top("all")] == ["a"]

    run(main())
    assert consistent(db)


def test_rank_matches_a_full_sort_across_buckets(tmp_path):
    """Ranks from the histograms equal ranks from sorting, with ties spread over buckets."""
    db = tmp_path / "s.db"
    run(_create(db))
    rnd = random.Random(7)
    rows = []
    reached = rnd.sample(range(1, 40 << BUCKET_BITS), 3000)
    with sqlite3.connect(db) as conn:
        conn.executemany("INSERT INTO players (id, external_id, name, role, locale, created)"
                         " VALUES (?, ?, '', 'free', 'en', 0)",
                         [(i, f"p{i}") for i in range(1, 3001)])
        for i in range(1, 3001):
            rows.append(("all", i, rnd.choice([0, 5, 5, 5, 10, 10, 20, 50]), reached[i - 1]))
        conn.executemany("INSERT INTO scores VALUES (?, ?, ?, ?)", rows)
        # move some players, as upserts do
        for i in rnd.sample(range(1, 3001), 300):
            conn.execute("UPDATE scores SET score = score + 5, reached = reached + 1"
                         " WHERE board = 'all' AND player = ?", (i,))
        final = conn.execute("SELECT score, reached, player FROM scores").fetchall()
    order = sorted(final, key=lambda r: (-r[0], r[1], r[2]))
    expected = {r[2]: i for i, r in enumerate(order, 1)}

    async def ranks():
        import aiosqlite
        async with aiosqlite.connect(db) as conn:
            return {p: await rank_of(conn, "all", s, r, p)
                    for s, r, p in rnd.sample(final, 400)}

    for player, rank in run(ranks()).items():
        assert rank == expected[player]


def test_postgres_rank_matches_a_full_sort_across_buckets():
    """The same on PostgreSQL, with the scores written and moved as the store writes them
    (ranks.add), and the counts checked against the table."""
    rnd = random.Random(7)
    reached = iter(rnd.sample(range(1, 40 << ranks.BUCKET_BITS), 3300))
    with pgkit.scratch_database() as url:

        async def fill() -> list[tuple]:
            conn = await asyncpg.connect(url)
            try:
                await conn.copy_records_to_table(
                    "players", columns=["id", "external_id", "name", "role", "locale",
                                        "created"],
                    records=[(i, f"p{i}", "", "free", "en", 0.0) for i in range(1, 3001)])
                async with conn.transaction():
                    await ranks.add(conn, [("all", i, rnd.choice([0, 5, 5, 5, 10, 10, 20, 50]),
                                            next(reached)) for i in range(1, 3001)])
                async with conn.transaction():
                    await ranks.add(conn, [("all", i, 5, next(reached))
                                           for i in rnd.sample(range(1, 3001), 300)])
                final = [tuple(r) for r in await conn.fetch(
                    "SELECT score, reached, player FROM scores")]
                order = sorted(final, key=lambda r: (-r[0], r[1], r[2]))
                expected = {r[2]: i for i, r in enumerate(order, 1)}
                for _s, _r, p in rnd.sample(final, 400):
                    total, _row, rank = await ranks.place(conn, "all", p)
                    assert (rank, total) == (expected[p], 3000)
                return final
            finally:
                await conn.close()

        final = run(fill())
        with snapshot(url) as (_, reader):
            report = Report()
            score_counts(reader, report, {("all", p): [s, r] for s, r, p in final},
                         ranks.BUCKET_BITS)
            assert report.ok, report.problems


async def _create(db):
    store = await opened(db, Clock())
    await store.close()


def test_postgres_upgrade_counts_the_scores_already_there():
    """Migration 0004 on a database with scores: its counts are what ranks.py keeps."""
    from engine.store.postgres.schema import migrations

    with pgkit.scratch_database(migrated=False) as url:

        async def at_version_1() -> None:
            conn = await asyncpg.connect(url)
            try:
                (_, name, sql), *_ = migrations()
                await conn.execute(sql)
                await conn.execute("CREATE TABLE schema_migrations (version integer PRIMARY"
                                   " KEY, name text NOT NULL, applied timestamptz NOT NULL"
                                   " DEFAULT now())")
                await conn.execute("INSERT INTO schema_migrations VALUES (1, $1)", name)
                await conn.execute("INSERT INTO players SELECT i, 'p' || i, '', 'free', 'en',"
                                   " 0 FROM generate_series(1, 500) i")
                await conn.execute("INSERT INTO scores SELECT 'all', i, i % 7,"
                                   " i * 977 FROM generate_series(1, 500) i")
            finally:
                await conn.close()

        run(at_version_1())
        assert runner_upgrade(url) == 0
        rows = pgkit.rows(url, "SELECT board, player, score, reached FROM scores")
        with snapshot(url) as (_, reader):
            report = Report()
            score_counts(reader, report, {(b, p): [s, r] for b, p, s, r in rows},
                         ranks.BUCKET_BITS)
            assert report.ok, report.problems


def runner_upgrade(url: str) -> int:
    from typer.testing import CliRunner

    from cli.main import app

    return CliRunner().invoke(app, ["db", "upgrade", "--db", url]).exit_code
