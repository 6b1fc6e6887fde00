"""The leaderboards' counts on PostgreSQL (score_count, score_hist: migration 0004), kept by
the writers, and a player's rank read from them.

Order on a board: score descending, then who reached it first (`reached`, the ledger id),
then the player id. A player's rank is 1 + the players before them: those with a higher
score (score_count summed over the higher scores: one row per distinct score) + tied
players in earlier reached-buckets (score_hist rows of that score) + tied players in
their own bucket (at most 2^BUCKET_BITS index entries of scores_rank).

Every change to `scores` goes through here. The counter rows of popular scores are hot:
each transaction changes them in one statement per table, in sorted order, as its last
writes, so concurrent workers queue on them briefly (until COMMIT) and never deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import asyncpg

# As 0004_score_counts.sql. SQLite's is 12; here 14 made a rank over 1,000,000 players
# about 3x faster (p50 0.8 ms instead of 2.3 ms): fewer histogram rows to sum, and the
# longer count within a bucket stays an index-only range (bench/store_board_pg.py).
BUCKET_BITS = 14

Conn = asyncpg.Connection | asyncpg.Pool
# (board, score, reached, +1 | -1): a player arriving at or leaving a place on a board
Change = tuple[str, int, int, int]


async def add(c: asyncpg.Connection, rows: list[tuple[str, int, int, int]]) -> None:
    """Add (board, player, delta, reached) to the players' scores, and count the moves.
    One row per (board, player)."""
    if not rows:
        return
    boards, players, deltas, reached = (list(x) for x in zip(*rows, strict=True))
    # The players' saves are locked by the caller: nobody else changes these scores now.
    old = await c.fetch(
        "SELECT s.board, s.player, s.score, s.reached FROM scores s"
        " JOIN unnest($1::text[], $2::bigint[]) AS k(board, player) USING (board, player)",
        boards, players)
    await c.execute(
        "INSERT INTO scores (board, player, score, reached)"
        " SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[])"
        " ON CONFLICT (board, player) DO UPDATE SET score = scores.score + excluded.score,"
        " reached = excluded.reached", boards, players, deltas, reached)
    before = {(b, p): (s, r) for b, p, s, r in old}
    changes: list[Change] = []
    for board, player, delta, at in rows:
        was = before.get((board, player))
        score = delta
        if was is not None:
            changes.append((board, was[0], was[1], -1))
            score += was[0]
        changes.append((board, score, at, 1))
    await count(c, changes)


async def forget(c: asyncpg.Connection, player: int) -> None:
    """Take the player off every board (a reset, an erasure)."""
    gone = await c.fetch("DELETE FROM scores WHERE player = $1 RETURNING board, score,"
                         " reached", player)
    await count(c, [(b, s, r, -1) for b, s, r in gone])


async def count(c: asyncpg.Connection, changes: Iterable[Change]) -> None:
    counts: dict[tuple[str, int], int] = defaultdict(int)
    hist: dict[tuple[str, int, int], int] = defaultdict(int)
    for board, score, reached, d in changes:
        counts[(board, score)] += d
        hist[(board, score, reached >> BUCKET_BITS)] += d
    rows = sorted((k, n) for k, n in counts.items() if n)
    if rows:
        await c.execute(
            "INSERT INTO score_count (board, score, n)"
            " SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])"
            " ON CONFLICT (board, score) DO UPDATE SET n = score_count.n + excluded.n",
            [k[0] for k, _ in rows], [k[1] for k, _ in rows], [n for _, n in rows])
    cells = sorted((k, n) for k, n in hist.items() if n)
    if cells:
        await c.execute(
            "INSERT INTO score_hist (board, score, bucket, n)"
            " SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[])"
            " ON CONFLICT (board, score, bucket) DO UPDATE SET n = score_hist.n + excluded.n",
            [k[0] for k, _ in cells], [k[1] for k, _ in cells], [k[2] for k, _ in cells],
            [n for _, n in cells])


async def rebuild(c: asyncpg.Connection) -> None:
    """The counts from the scores table (after a bulk load such as `diana db copy`)."""
    await c.execute("DELETE FROM score_count")
    await c.execute("DELETE FROM score_hist")
    await c.execute("INSERT INTO score_count SELECT board, score, count(*) FROM scores"
                    " GROUP BY board, score")
    await c.execute(f"INSERT INTO score_hist SELECT board, score, reached >> {BUCKET_BITS},"
                    f" count(*) FROM scores GROUP BY board, score, reached >> {BUCKET_BITS}")


async def place(conn: Conn, board: str, player: int
                ) -> tuple[int, tuple[int, int, int, str, str] | None, int]:
    """(players on the board, the player's row as reads._ROWS gives it or None, their
    rank), in one round trip: 1 + players with a higher score (score_count) + tied players
    in earlier buckets (score_hist) + tied players before them in their own bucket."""
    row = await conn.fetchrow(
        "WITH me AS (SELECT s.score, s.reached, s.player, p.external_id, p.name"
        "   FROM scores s JOIN players p ON p.id = s.player"
        "   WHERE s.board = $1 AND s.player = $2)"
        " SELECT (SELECT coalesce(sum(n), 0) FROM score_count WHERE board = $1),"
        " me.score, me.reached, me.player, me.external_id, me.name,"
        " (SELECT coalesce(sum(n), 0) FROM score_count c WHERE c.board = $1"
        "   AND c.score > me.score)"
        " + (SELECT coalesce(sum(n), 0) FROM score_hist h WHERE h.board = $1"
        f"   AND h.score = me.score AND h.bucket < me.reached >> {BUCKET_BITS})"
        " + (SELECT count(*) FROM scores s WHERE s.board = $1 AND s.score = me.score"
        f"   AND s.reached >= (me.reached >> {BUCKET_BITS}) << {BUCKET_BITS}"
        "   AND (s.reached, s.player) < (me.reached, me.player))"
        " FROM (SELECT 1) one LEFT JOIN me ON true", board, player)
    total = int(row[0])
    if row[1] is None:
        return total, None, 0
    return total, tuple(row[1:6]), 1 + int(row[6])
