"""The writer's database side: one whole group commit as one function on the connection's
thread, and what the event loop keeps about the batches still committing.

aiosqlite runs every call of a connection on that connection's own thread, in order. The
writer hands it one function per batch (BEGIN … executemany per table … COMMIT): one
thread hop per batch instead of one per statement. aiosqlite (the declared dependency)
has no public call for that, so `submit` uses its `_execute` and `_conn`, present and
unchanged since 0.17; `supported` checks them when the store opens.

Pipelining: while batch N commits on that thread, the event loop computes batch N+1 on
top of N's (not yet committed) records and queues it behind N. Callers are still
acknowledged only after their own batch's COMMIT, and each batch is one transaction. If
N fails, every batch queued behind it was computed on N's effects: the `Guard` makes them
refuse to run (`Discarded`) until the event loop has seen the failure, dropped N's
effects and queued those jobs again.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from engine.store.batch import Batch, Job


class Stale(Exception):
    """Another writer changed a save (or the ledger) under the cache."""


class Discarded(Exception):
    """Computed on top of a batch that failed: not written, to be computed again."""


@dataclass
class Guard:
    poisoned: bool = False  # set on the connection's thread, cleared by the event loop


@dataclass
class Plan:
    """The rows of one batch (see Batch); first_lid: its first ledger id."""

    first_lid: int
    saves: list[tuple]
    ledger: list[tuple]
    unachieved: list[tuple]
    achievements: list[tuple]
    scores: list[tuple]
    events: list[tuple]
    applied: list[tuple]

    @classmethod
    def of(cls, batch: Batch, first_lid: int) -> Plan:
        return cls(first_lid, batch.save_rows(), batch.ledger, batch.unachieved,
                   batch.achievements, batch.score_rows(), batch.events, batch.applied)


@dataclass
class Flight:
    jobs: list[Job]
    batch: Batch
    results: list[Any]
    task: asyncio.Future = field(repr=False)


UPDATE_SAVE = ("UPDATE saves SET state = ?, content_version = ?, fragment = ?, version = ?,"
               " points = ?, ledger_seq = ?, ledger_from = ?, updated = ?"
               " WHERE player = ? AND version = ?")
INSERT_LEDGER = ("INSERT INTO ledger (id, player, seq, amount, kind, reason, cause, key, time,"
                 " turn, day, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
DELETE_ACHIEVEMENT = "DELETE FROM achievements WHERE player = ? AND achievement = ?"
INSERT_ACHIEVEMENT = "INSERT INTO achievements VALUES (?, ?, ?)"
UPSERT_SCORE = ("INSERT INTO scores (board, player, score, reached) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (board, player) DO UPDATE SET score = score + excluded.score,"
                " reached = excluded.reached")
INSERT_EVENT = ("INSERT INTO events (time, player, op, key, ok, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)")
INSERT_APPLIED = ("INSERT INTO applied_actions (key, player, op, ok, version, ledger, result)"
                  " VALUES (?, ?, ?, ?, ?, ?, ?)")


def write(conn: sqlite3.Connection, plan: Plan, guard: Guard) -> None:
    """Runs on the connection's thread: the batch in one transaction, or nothing."""
    if guard.poisoned:
        raise Discarded()
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            _rows(conn, plan)
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
    except BaseException:
        guard.poisoned = True
        raise


def _rows(conn: sqlite3.Connection, plan: Plan) -> None:
    # Idempotency keys first: a key applied before (not looked up, see SqliteStore) fails
    # the batch here, before anything else is written.
    if plan.applied:
        conn.executemany(INSERT_APPLIED, plan.applied)
    if plan.saves:
        cur = conn.executemany(UPDATE_SAVE, plan.saves)
        if cur.rowcount != len(plan.saves):
            raise Stale("a save changed under the cache")
    if plan.ledger:
        (top,) = conn.execute("SELECT max(id) FROM ledger").fetchone()
        if (top or 0) >= plan.first_lid:
            raise Stale("the ledger grew under the cache")
        conn.executemany(INSERT_LEDGER, plan.ledger)
    if plan.unachieved:
        conn.executemany(DELETE_ACHIEVEMENT, plan.unachieved)
    if plan.achievements:
        conn.executemany(INSERT_ACHIEVEMENT, plan.achievements)
    if plan.scores:
        conn.executemany(UPSERT_SCORE, plan.scores)
    if plan.events:
        conn.executemany(INSERT_EVENT, plan.events)


def supported(conn: aiosqlite.Connection) -> bool:
    return callable(getattr(conn, "_execute", None)) and isinstance(
        getattr(conn, "_conn", None), sqlite3.Connection)


def submit(conn: aiosqlite.Connection, plan: Plan, guard: Guard) -> asyncio.Future:
    """Queue `write` on the connection's thread now; the future resolves after COMMIT."""
    raw = conn._conn
    return asyncio.ensure_future(conn._execute(write, raw, plan, guard))


def key_collision(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.IntegrityError) and "applied_actions.key" in str(exc)
