"""Writing one batch's rows in one transaction, and the writer process that can do it.

This module imports the standard library only: the writer process runs it as a script
(`python rows.py`), so it starts in a few tens of milliseconds, without the engine.

The writer process reads batches from stdin and answers each on stdout, in order, with
`(kind, message)`: kind "ok", or the failure as `failure()` names it (the parent turns it
back into an exception). Frames are a 4-byte big-endian length and a pickle of builtins
only (tuples, lists, str, int, float, None). It exits when stdin closes (the store
closing, or its process dying), so it never outlives the store by more than the batch it
is writing.
"""

from __future__ import annotations

import contextlib
import pickle
import signal
import sqlite3
import struct
import sys
from typing import Any, BinaryIO, NamedTuple

UPDATE_SAVE = ("UPDATE saves SET state = ?, content_version = ?, fragment = ?, version = ?,"
               " points = ?, ledger_seq = ?, ledger_from = ?, carry_to = ?, carry = ?,"
               " updated = ?, outbox_seq = ?"
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
INSERT_OUTBOX = ("INSERT INTO outbox (event_id, player, seq, subject, time, body)"
                 " VALUES (?, ?, ?, ?, ?, ?)")

HEADER = struct.Struct(">I")
# How long a connection waits for another process's write lock. Several processes may
# share one file (the bot, `diana db …`, `diana play`): each waits its turn, and only
# a lock held this long is an error.
BUSY_TIMEOUT_MS = 30_000
# The writers' own checkpoints are a backstop: checkpoint.py runs them in the background.
AUTOCHECKPOINT_PAGES = 50_000


class Stale(Exception):
    """Another process changed a save under the cache."""


class Discarded(Exception):
    """Computed on top of a batch that failed: not written, to be computed again."""


class Plan(NamedTuple):
    """The rows of one batch (see batch.Batch); first_lid: the ledger id its rows were
    numbered from (moved up at write time if the database is past it)."""

    first_lid: int
    saves: list[tuple]
    ledger: list[tuple]
    unachieved: list[tuple]
    achievements: list[tuple]
    scores: list[tuple]
    events: list[tuple]
    applied: list[tuple]
    outbox: list[tuple]  # the domain events (engine/outbox), in the save's transaction


def write(conn: sqlite3.Connection, plan: Plan) -> None:
    """The batch in one transaction, or nothing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        _rows(conn, plan)
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
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
    ledger, scores = plan.ledger, plan.scores
    if ledger:
        # Ledger ids come from the database: the batch numbered its rows from the next id
        # it knew of; if another process appended since, they move up past its rows (the
        # write lock holds them still until COMMIT). Scores keep the ids they were reached at.
        (top,) = conn.execute("SELECT max(id) FROM ledger").fetchone()
        shift = (top or 0) + 1 - plan.first_lid
        if shift > 0:
            ledger = [(row[0] + shift, *row[1:]) for row in ledger]
            scores = [(board, player, delta, at + shift) for board, player, delta, at in scores]
        conn.executemany(INSERT_LEDGER, ledger)
    if plan.unachieved:
        conn.executemany(DELETE_ACHIEVEMENT, plan.unachieved)
    if plan.achievements:
        conn.executemany(INSERT_ACHIEVEMENT, plan.achievements)
    if scores:
        conn.executemany(UPSERT_SCORE, scores)
    if plan.events:
        conn.executemany(INSERT_EVENT, plan.events)
    if plan.outbox:
        conn.executemany(INSERT_OUTBOX, plan.outbox)


# ---- the writer process ------------------------------------------------------------------

FAILURES: dict[str, type[BaseException]] = {
    "stale": Stale, "discarded": Discarded, "integrity": sqlite3.IntegrityError,
    "operational": sqlite3.OperationalError, "database": sqlite3.DatabaseError}


def failure(exc: BaseException) -> tuple[str, str]:
    """An exception as the (kind, message) the parent rebuilds with FAILURES."""
    for kind, cls in FAILURES.items():  # most specific first
        if isinstance(exc, cls):
            return kind, str(exc)
    return "error", f"{type(exc).__name__}: {exc}"


def read_frame(stream: BinaryIO) -> Any:
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        raise EOFError
    (size,) = HEADER.unpack(head)
    body = stream.read(size)
    if len(body) < size:
        raise EOFError
    return pickle.loads(body)


def frame(value: Any) -> bytes:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(body)) + body


def serve(path: str, synchronous: str, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """The first answer says whether the database opened. Then messages: ("write", epoch,
    plan), ("sql", statement). After a failed batch, every batch of the same epoch is
    refused (Discarded): it was computed on the failed one's effects. The parent starts a
    new epoch once it has requeued them."""
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in (f"busy_timeout = {BUSY_TIMEOUT_MS}", f"synchronous = {synchronous}",
                       "foreign_keys = ON", f"wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}"):
            conn.execute(f"PRAGMA {pragma}")
    except Exception as exc:
        _answer(stdout, failure(exc))
        return
    failed = -1
    answer: tuple[str, str] = ("ok", "")
    while _answer(stdout, answer):
        try:
            message = read_frame(stdin)
        except EOFError:
            break
        answer = ("ok", "")
        try:
            if message[0] == "write":
                epoch = message[1]
                if epoch <= failed:
                    raise Discarded()
                try:
                    write(conn, Plan(*message[2]))
                except BaseException:
                    failed = epoch
                    raise
            else:
                conn.execute(message[1])
        except Exception as exc:
            answer = failure(exc)
    conn.close()


def _answer(stdout: BinaryIO, answer: tuple[str, str]) -> bool:
    try:
        stdout.write(frame(answer))
        stdout.flush()
    except OSError:  # the parent is gone
        return False
    return True


if __name__ == "__main__":
    # A Ctrl-C or a stop signal meant for the whole process group is for the parent: it
    # drains its batches through this process, then closes stdin, which ends it.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    serve(sys.argv[1], sys.argv[2], sys.stdin.buffer, sys.stdout.buffer)
