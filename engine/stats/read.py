"""Read-only SQL for `diana stats`: the rows the aggregation needs, and nothing else.

Opens the player database read-only (it never creates, migrates or writes it), so it can
run beside a bot writing the same database. The queries are the same on SQLite and on
PostgreSQL; only opening the database and checking its schema version differ. Every
failure is a `StatsReadError` with a message a person can act on.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg

from engine.stats.report import ActionEvent, PlayerRow, Rows
from engine.store.errors import SchemaTooNew, StoreError
from engine.store.invariants import Rows as RowSource
from engine.store.postgres.connect import is_url, shown
from engine.store.postgres.schema import LATEST as PG_LATEST
from engine.store.postgres.snapshot import snapshot
from engine.store.sqlite.check import connect_readonly
from engine.store.sqlite.migrations import LATEST, check_version

# The operations whose audit detail says where the player stands after them (the store's
# action and admin summaries); other events (audit notes, exports, ...) never move anyone.
PLACING = frozenset(("action", "migrate", "reset", "grant", "revoke"))


class StatsReadError(Exception):
    """The database cannot be read (missing, not SQLite, not Diana's, a newer schema)."""


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise StatsReadError(f"{what} is not valid JSON ({exc}); run `diana db check`") from exc


def read_rows(target: str | Path) -> Rows:
    """The rows of the database `target` names (an SQLite file or a postgresql:// URL),
    read in one snapshot."""
    p = str(target)
    if is_url(p):
        return _read_pg(p)
    try:
        conn = connect_readonly(p)
    except StoreError as exc:
        raise StatsReadError(str(exc)) from exc
    try:
        return _read_sqlite(conn, p)
    except sqlite3.DatabaseError as exc:
        raise StatsReadError(f"{p}: the file is not a usable Diana player database ({exc})"
                             ) from exc
    finally:
        conn.close()


def _read_pg(url: str) -> Rows:
    where = f"DIANA_DB ({shown(url)})"
    try:
        with snapshot(url) as (version, db):
            if version < PG_LATEST:
                raise StatsReadError(f"{where}: the schema is version {version}, this program"
                                     f" reads {PG_LATEST}; run `diana db upgrade`")
            return _read(db)
    except StoreError as exc:
        raise StatsReadError(str(exc)) from exc
    except asyncpg.PostgresError as exc:
        raise StatsReadError(f"{where}: not a usable Diana player database ({exc})") from exc


def _read_sqlite(conn: sqlite3.Connection, p: str) -> Rows:
    conn.execute("PRAGMA query_only = ON")
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    try:
        check_version(version, p)
    except SchemaTooNew as exc:
        raise StatsReadError(str(exc)) from exc
    if version < 1:
        raise StatsReadError(f"{p}: not a Diana player database (no schema version; create"
                             f" one with `diana db migrate --db {p}`)")
    if version < LATEST:
        raise StatsReadError(f"{p}: the schema is version {version}, this program reads"
                             f" {LATEST}; run `diana db migrate --db {p}`")
    conn.execute("BEGIN")  # one snapshot for every query below
    try:
        return _read(conn)
    finally:
        conn.execute("ROLLBACK")


def _read(conn: RowSource) -> Rows:
    """The rows, in the SQL both backends speak (JSON columns come back as text)."""
    players = []
    for pid, ext, role, created, fragment, updated, text in conn.execute(
            "SELECT p.id, p.external_id, p.role, p.created, s.fragment, s.updated, s.state"
            " FROM players p LEFT JOIN saves s ON s.player = p.id ORDER BY p.id"):
        state = _json(text, f"the save of player `{ext}`") if text is not None else {}
        if not isinstance(state, dict):
            raise StatsReadError(f"the save of player `{ext}` is not a JSON object;"
                                 " run `diana db check`")
        players.append(PlayerRow(
            pid, ext, role, created, fragment, updated,
            visited=tuple(state.get("visits") or ()),
            endings=tuple(state.get("endings") or ())))
    known = {pl.id for pl in players}
    events = []
    # Only the events of players who still exist (an erased player's trail is gone anyway).
    for eid, time, pid, op, ok, detail in conn.execute(
            "SELECT id, time, player, op, ok, detail FROM events"
            " WHERE player IS NOT NULL ORDER BY id"):
        if pid not in known:
            continue
        data = _json(detail, f"audit event {eid}")
        if not isinstance(data, dict):
            data = {}
        action = data.get("action") if op == "action" else None
        action = action if isinstance(action, dict) else {}
        fragment = data.get("fragment")
        events.append(ActionEvent(
            eid, time, pid, op, bool(ok),
            places=op in PLACING and "fragment" in data
            and (fragment is None or isinstance(fragment, str)),
            fragment=fragment if isinstance(fragment, str) else None,
            action=str(action["type"]) if action.get("type") else None,
            choice=str(action["choice"]) if action.get("choice") is not None else None))
    achievements = tuple((pid, str(a)) for pid, a in conn.execute(
        "SELECT player, achievement FROM achievements ORDER BY player, achievement"))
    return Rows(tuple(players), tuple(events), achievements)
