"""Reads: players' records (save + ledger tail) and stored results for the writer, and the
admins' aggregate statistics."""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from engine.store.batch import Stored
from engine.store.errors import StoreCorrupt
from engine.store.interface import Stats
from engine.store.records import Record, carried, ledger_entry, load_state


async def load(conn: aiosqlite.Connection, players: list[str]) -> dict[str, Record]:
    marks = ",".join("?" * len(players))
    rows = await conn.execute_fetchall(
        "SELECT p.id, p.external_id, p.name, p.role, p.locale, p.created, s.state, s.version,"
        " s.points, s.ledger_seq, s.ledger_from, s.carry_to, s.carry, s.outbox_seq FROM players p"
        " JOIN saves s ON s.player = p.id"
        f" WHERE p.external_id IN ({marks})", players)
    if not rows:
        return {}
    ids = [r[0] for r in rows]
    ledgers: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for pid, amount, reason, cause, turn, day, extra in await conn.execute_fetchall(
            "SELECT l.player, l.amount, l.reason, l.cause, l.turn, l.day, l.extra FROM ledger l"
            " JOIN saves s ON s.player = l.player"
            f" WHERE l.player IN ({','.join('?' * len(ids))})"
            " AND l.seq > max(s.ledger_from, s.carry_to)"
            " ORDER BY l.player, l.seq", ids):
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


async def stored_results(conn: aiosqlite.Connection, keys: list[str]) -> dict[str, Stored]:
    if not keys:
        return {}
    rows = await conn.execute_fetchall(
        "SELECT key, player, op, ok, version, result FROM applied_actions"
        f" WHERE key IN ({','.join('?' * len(keys))})", keys)
    return {k: Stored(pid, op, bool(ok), version, json.loads(result))
            for k, pid, op, ok, version, result in rows}


async def stats(conn: aiosqlite.Connection, now: float) -> Stats:
    async def one(sql: str, args: tuple = ()) -> int:
        rows = await conn.execute_fetchall(sql, args)
        return int(rows[0][0] or 0)

    async def counts(sql: str) -> dict[str, int]:
        return {str(k): int(n) for k, n in await conn.execute_fetchall(sql)}

    day = now - 86_400
    visits: dict[str, int] = {}
    visitors: dict[str, int] = {}
    # Arrivals, from the audit trail: every playthrough counts (a save's own visits are
    # those of its current playthrough only). One scan of the action events.
    for fid, total, n in await conn.execute_fetchall(
            "SELECT json_extract(detail, '$.fragment') f, count(*), count(DISTINCT player)"
            " FROM events WHERE op = 'action' AND ok = 1 AND EXISTS (SELECT 1 FROM"
            " json_each(detail, '$.events') WHERE value = 'enter') AND f IS NOT NULL"
            " GROUP BY f"):
        visits[str(fid)], visitors[str(fid)] = int(total), int(n)
    return Stats(
        players=await one("SELECT count(*) FROM players"),
        started=await one("SELECT count(*) FROM saves"
                          " WHERE json_extract(state, '$.playthrough') > 0"),
        finished=await one("SELECT count(*) FROM saves"
                           " WHERE json_array_length(state, '$.endings') > 0"),
        actions=await one("SELECT count(*) FROM events WHERE op = 'action' AND ok = 1"),
        active_24h=await one("SELECT count(DISTINCT player) FROM events WHERE time > ?"
                             " AND op = 'action' AND ok = 1", (day,)),
        actions_24h=await one("SELECT count(*) FROM events WHERE time > ? AND op = 'action'"
                              " AND ok = 1", (day,)),
        points=await one("SELECT sum(points) FROM saves"),
        at=await counts("SELECT fragment, count(*) FROM saves WHERE fragment IS NOT NULL"
                        " GROUP BY fragment"),
        visits=visits,
        visitors=visitors,
        endings=await counts("SELECT e.value, count(DISTINCT s.player) FROM saves s,"
                             " json_each(s.state, '$.endings') e GROUP BY e.value"),
        achievements=await counts("SELECT achievement, count(*) FROM achievements"
                                  " GROUP BY achievement"),
    )
