"""Reads the writer needs: players' records (save + ledger tail) and stored results."""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from engine.store.batch import Stored
from engine.store.errors import StoreCorrupt
from engine.store.records import Record, ledger_entry, load_state


async def load(conn: aiosqlite.Connection, players: list[str]) -> dict[str, Record]:
    marks = ",".join("?" * len(players))
    rows = await conn.execute_fetchall(
        "SELECT p.id, p.external_id, p.name, p.role, p.locale, p.created, s.state, s.version,"
        " s.points, s.ledger_seq, s.ledger_from FROM players p JOIN saves s ON s.player = p.id"
        f" WHERE p.external_id IN ({marks})", players)
    if not rows:
        return {}
    ids = [r[0] for r in rows]
    ledgers: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for pid, amount, reason, cause, turn, day, extra in await conn.execute_fetchall(
            "SELECT l.player, l.amount, l.reason, l.cause, l.turn, l.day, l.extra FROM ledger l"
            " JOIN saves s ON s.player = l.player"
            f" WHERE l.player IN ({','.join('?' * len(ids))}) AND l.seq > s.ledger_from"
            " ORDER BY l.player, l.seq", ids):
        ledgers[pid].append(ledger_entry(amount, reason, cause, turn, day, extra))
    out = {}
    for (pid, ext, name, role, locale, created, text, version, points, lseq, lfrom) in rows:
        try:
            state = load_state(text, ledgers[pid])
        except ValueError as exc:
            raise StoreCorrupt(f"the save of player `{ext}` does not parse: {exc}") from exc
        out[ext] = Record(pid, ext, name, role, locale, created, state, version, version,
                          points, lseq, lfrom)
    return out


async def stored_results(conn: aiosqlite.Connection, keys: list[str]) -> dict[str, Stored]:
    if not keys:
        return {}
    rows = await conn.execute_fetchall(
        "SELECT key, player, op, ok, version, result FROM applied_actions"
        f" WHERE key IN ({','.join('?' * len(keys))})", keys)
    return {k: Stored(pid, op, bool(ok), version, json.loads(result))
            for k, pid, op, ok, version, result in rows}
