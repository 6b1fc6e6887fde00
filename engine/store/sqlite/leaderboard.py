"""Leaderboard queries over the maintained `scores` table.

Order on a board: score descending, then who reached it first (`reached`, the ledger id of
the entry that made the score), then the player id: every rank is distinct and stable.
Top-N walks the `scores_rank` index. Comparisons on (reached, player) are written as row
values so SQLite keeps them as index ranges (an OR would scan the whole tie group).
A player's rank is 1 + the number of players before them: players with a higher score
(`score_count` summed over the higher scores, one row per distinct score) + tied players
in earlier reached-buckets (`score_hist` rows of one score) + tied players in their own
bucket (at most 2^BUCKET_BITS index entries).
"""

from __future__ import annotations

import aiosqlite

from engine.store.interface import RankEntry, Standing
from engine.store.periods import board_for
from engine.store.sqlite.migrations import BUCKET_BITS

_ROWS = "SELECT score, reached, player FROM scores"


async def _names(conn: aiosqlite.Connection, ids: list[int]) -> dict[int, tuple[str, str]]:
    """External ids and names, looked up apart: joining in the ranking queries can make
    SQLite walk the players table instead of the `scores_rank` index."""
    if not ids:
        return {}
    rows = await conn.execute_fetchall(
        f"SELECT id, external_id, name FROM players WHERE id IN ({','.join('?' * len(ids))})",
        ids)
    return {pid: (ext, name) for pid, ext, name in rows}


def _entries(rows: list, first: int, step: int, names: dict[int, tuple[str, str]]
             ) -> list[RankEntry]:
    return [RankEntry(first + i * step, *names.get(r[2], (str(r[2]), "")), r[0])
            for i, r in enumerate(rows)]


async def top(conn: aiosqlite.Connection, kind: str, n: int, when: float) -> list[RankEntry]:
    board = board_for(kind, when)
    rows = list(await conn.execute_fetchall(
        f"{_ROWS} WHERE board = ? ORDER BY score DESC, reached, player LIMIT ?", (board, n)))
    return _entries(rows, 1, 1, await _names(conn, [r[2] for r in rows]))


async def rank_of(conn: aiosqlite.Connection, board: str, score: int, reached: int,
                  player: int) -> int:
    bucket = reached >> BUCKET_BITS
    (higher,), = await conn.execute_fetchall(
        "SELECT coalesce(sum(n), 0) FROM score_count WHERE board = ? AND score > ?",
        (board, score))
    (earlier,), = await conn.execute_fetchall(
        "SELECT coalesce(sum(n), 0) FROM score_hist"
        " WHERE board = ? AND score = ? AND bucket < ?", (board, score, bucket))
    (near,), = await conn.execute_fetchall(
        "SELECT count(*) FROM scores WHERE board = ? AND score = ? AND reached >= ?"
        " AND (reached, player) < (?, ?)", (board, score, bucket << BUCKET_BITS, reached, player))
    return 1 + higher + earlier + near


async def standing(conn: aiosqlite.Connection, player: int, kind: str, around: int,
                   when: float) -> Standing:
    board = board_for(kind, when)
    (total,), = await conn.execute_fetchall(
        "SELECT coalesce(sum(n), 0) FROM score_count WHERE board = ?", (board,))
    rows = await conn.execute_fetchall(f"{_ROWS} WHERE board = ? AND player = ?",
                                       (board, player))
    if not rows:
        return Standing(board, None, total=total)
    score, reached, pid = rows[0]
    rank = await rank_of(conn, board, score, reached, pid)
    above: list = []
    below: list = []
    if around > 0:
        # Nearest first: ties reached earlier, then strictly higher scores.
        above = list(await conn.execute_fetchall(
            f"{_ROWS} WHERE board = ? AND score = ? AND (reached, player) < (?, ?)"
            " ORDER BY reached DESC, player DESC LIMIT ?", (board, score, reached, pid, around)))
        if len(above) < around:
            above += await conn.execute_fetchall(
                f"{_ROWS} WHERE board = ? AND score > ?"
                " ORDER BY score ASC, reached DESC, player DESC LIMIT ?",
                (board, score, around - len(above)))
        below = list(await conn.execute_fetchall(
            f"{_ROWS} WHERE board = ? AND score = ? AND (reached, player) > (?, ?)"
            " ORDER BY reached, player LIMIT ?", (board, score, reached, pid, around)))
        if len(below) < around:
            below += await conn.execute_fetchall(
                f"{_ROWS} WHERE board = ? AND score < ?"
                " ORDER BY score DESC, reached, player LIMIT ?",
                (board, score, around - len(below)))
    names = await _names(conn, [pid] + [r[2] for r in (*above, *below)])
    me = _entries([rows[0]], rank, 1, names)[0]
    ups = tuple(_entries(above, rank - 1, -1, names))[::-1]
    downs = tuple(_entries(below, rank + 1, 1, names))
    return Standing(board, me, ups, downs, total)
