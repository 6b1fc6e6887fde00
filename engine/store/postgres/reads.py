"""Reads: players' records (save + ledger tail), stored results, statistics and the
leaderboards, in PostgreSQL's SQL. The records are those of engine.store.records, so the
pure core (batch.Batch) works on them as it does for SQLite."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from engine.store.batch import Stored
from engine.store.errors import StoreCorrupt
from engine.store.interface import RankEntry, Standing, Stats
from engine.store.periods import board_for
from engine.store.postgres import ranks
from engine.store.records import Record, carried, ledger_entry, load_state

Conn = asyncpg.Connection | asyncpg.Pool


async def load(conn: Conn, players: list[str], *, lock: bool = False) -> dict[str, Record]:
    """The players' committed records; with `lock`, their saves stay locked (FOR UPDATE)
    until the caller's transaction ends, taken in id order so that two batches sharing
    players never wait on each other in a cycle."""
    rows = await conn.fetch(
        "SELECT p.id, p.external_id, p.name, p.role, p.locale, p.created, s.state::text,"
        " s.version, s.points, s.ledger_seq, s.ledger_from, s.carry_to, s.carry, s.outbox_seq"
        " FROM players p JOIN saves s ON s.player = p.id"
        " WHERE p.external_id = ANY($1::text[]) ORDER BY p.id"
        + (" FOR UPDATE OF s" if lock else ""), players)
    if not rows:
        return {}
    ids = [r[0] for r in rows]
    ledgers: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for pid, amount, reason, cause, turn, day, extra in await conn.fetch(
            "SELECT l.player, l.amount, l.reason, l.cause, l.turn, l.day, l.extra FROM ledger l"
            " JOIN saves s ON s.player = l.player WHERE l.player = ANY($1::bigint[])"
            " AND l.seq > greatest(s.ledger_from, s.carry_to) ORDER BY l.player, l.seq", ids):
        ledgers[pid].append(ledger_entry(amount, reason, cause, turn, day, extra))
    out = {}
    for (pid, ext, name, role, locale, created, text, version, points, lseq, lfrom, cto,
         carry, oseq) in rows:
        ledger = ledgers[pid]
        if cto > lfrom:
            ledger.insert(0, carried(carry, cto - lfrom))
        else:
            cto, carry = lfrom, 0
        try:
            state = load_state(text, ledger)
        except ValueError as exc:
            raise StoreCorrupt(f"the save of player `{ext}` does not parse: {exc}") from exc
        out[ext] = Record(pid, ext, name, role, locale, created, state, version, version,
                          points, lseq, lfrom, cto, carry, oseq)
    return out


async def stored_results(conn: Conn, keys: list[str]) -> dict[str, Stored]:
    if not keys:
        return {}
    rows = await conn.fetch("SELECT key, player, op, ok, version, result FROM applied_actions"
                            " WHERE key = ANY($1::text[])", keys)
    return {k: Stored(pid, op, bool(ok), version, json.loads(result))
            for k, pid, op, ok, version, result in rows}


async def player_id(conn: Conn, player: str) -> int | None:
    return await conn.fetchval("SELECT id FROM players WHERE external_id = $1", player)


async def stats(conn: Conn, now: float) -> Stats:
    async def one(sql: str, *args: Any) -> int:
        return int(await conn.fetchval(sql, *args) or 0)

    async def counts(sql: str) -> dict[str, int]:
        return {str(k): int(n) for k, n in await conn.fetch(sql)}

    day = now - 86_400
    visits: dict[str, int] = {}
    visitors: dict[str, int] = {}
    for fid, total, n in await conn.fetch(
            "SELECT detail->>'fragment' f, count(*), count(DISTINCT player) FROM events"
            " WHERE op = 'action' AND ok = 1 AND detail->'events' ? 'enter'"
            " AND detail->>'fragment' IS NOT NULL GROUP BY f"):
        visits[str(fid)], visitors[str(fid)] = int(total), int(n)
    return Stats(
        players=await one("SELECT count(*) FROM players"),
        started=await one("SELECT count(*) FROM saves"
                          " WHERE coalesce((state->>'playthrough')::bigint, 0) > 0"),
        finished=await one("SELECT count(*) FROM saves WHERE jsonb_typeof(state->'endings')"
                           " = 'array' AND jsonb_array_length(state->'endings') > 0"),
        actions=await one("SELECT count(*) FROM events WHERE op = 'action' AND ok = 1"),
        active_24h=await one("SELECT count(DISTINCT player) FROM events WHERE time > $1"
                             " AND op = 'action' AND ok = 1", day),
        actions_24h=await one("SELECT count(*) FROM events WHERE time > $1 AND op = 'action'"
                              " AND ok = 1", day),
        points=await one("SELECT sum(points) FROM saves"),
        at=await counts("SELECT fragment, count(*) FROM saves WHERE fragment IS NOT NULL"
                        " GROUP BY fragment"),
        visits=visits,
        visitors=visitors,
        endings=await counts(
            "SELECT e, count(DISTINCT s.player) FROM saves s,"
            " jsonb_array_elements_text(CASE WHEN jsonb_typeof(s.state->'endings') = 'array'"
            " THEN s.state->'endings' ELSE '[]' END) e GROUP BY e"),
        achievements=await counts("SELECT achievement, count(*) FROM achievements"
                                  " GROUP BY achievement"),
    )


# ---- leaderboards: score descending, then who reached it first, then the player id ------

_ROWS = "SELECT s.score, s.reached, s.player, p.external_id, p.name FROM scores s" \
        " JOIN players p ON p.id = s.player"


def _entries(rows: list, first: int, step: int) -> list[RankEntry]:
    return [RankEntry(first + i * step, r[3], r[4], r[0]) for i, r in enumerate(rows)]


async def top(conn: Conn, kind: str, n: int, when: float) -> list[RankEntry]:
    board = board_for(kind, when)
    rows = await conn.fetch(f"{_ROWS} WHERE s.board = $1"
                            " ORDER BY s.score DESC, s.reached, s.player LIMIT $2", board, n)
    return _entries(list(rows), 1, 1)


async def standing(conn: Conn, player: int, kind: str, around: int, when: float) -> Standing:
    """Two round trips: the player's place (ranks.place), then the neighbours."""
    board = board_for(kind, when)
    total, me, rank = await ranks.place(conn, board, player)
    if me is None:
        return Standing(board, None, total=total)
    score, reached, pid = me[0], me[1], me[2]
    above: list = []
    below: list = []
    if around > 0:
        # Nearest first: ties reached earlier, then strictly higher scores (and the same
        # below). Each branch is one range of the scores_rank index (an OR of the two would
        # scan the whole tie group); all four in one statement, told apart by `side`.
        rows = await conn.fetch(
            f"(SELECT 1 AS side, * FROM ({_ROWS} WHERE s.board = $1 AND s.score = $2"
            " AND (s.reached, s.player) < ($3, $4)"
            " ORDER BY s.reached DESC, s.player DESC LIMIT $5) a)"
            f" UNION ALL (SELECT 2, * FROM ({_ROWS} WHERE s.board = $1 AND s.score > $2"
            " ORDER BY s.score, s.reached DESC, s.player DESC LIMIT $5) b)"
            f" UNION ALL (SELECT 3, * FROM ({_ROWS} WHERE s.board = $1 AND s.score = $2"
            " AND (s.reached, s.player) > ($3, $4) ORDER BY s.reached, s.player LIMIT $5) c)"
            f" UNION ALL (SELECT 4, * FROM ({_ROWS} WHERE s.board = $1 AND s.score < $2"
            " ORDER BY s.score DESC, s.reached, s.player LIMIT $5) d)",
            board, score, reached, pid, around)
        by_side: dict[int, list] = {1: [], 2: [], 3: [], 4: []}
        for r in rows:
            by_side[r[0]].append(tuple(r)[1:])
        # (score, reached, player, …): each side nearest first (UNION ALL keeps no order)
        by_side[1].sort(key=lambda r: (r[1], r[2]), reverse=True)
        by_side[2].sort(key=lambda r: (-r[0], r[1], r[2]), reverse=True)
        by_side[3].sort(key=lambda r: (r[1], r[2]))
        by_side[4].sort(key=lambda r: (-r[0], r[1], r[2]))
        above = (by_side[1] + by_side[2])[:around]
        below = (by_side[3] + by_side[4])[:around]
    entry = _entries([me], rank, 1)[0]
    ups = tuple(_entries(above, rank - 1, -1))[::-1]
    downs = tuple(_entries(below, rank + 1, 1))
    return Standing(board, entry, ups, downs, total)
