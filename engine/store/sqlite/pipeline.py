"""The writer's database side: who writes each batch, and what the event loop keeps about
the batches still committing.

A batch is written by one function (rows.write: BEGIN IMMEDIATE, one executemany per
table, COMMIT) in one of two places:

- `ThreadWriter` (the default): on the aiosqlite writer connection's own thread, one
  thread hop per batch instead of one per statement. aiosqlite has no public call for
  that, so it uses `_execute` and `_conn`, present and unchanged since 0.17; `supported`
  checks them when the store opens.
- `ProcessWriter`: in a child process (rows.py run as a script) fed through a pipe, so
  that binding rows and stepping SQLite do not share the event loop's GIL.

Pipelining: while batch N commits, the event loop computes batch N+1 on top of N's (not
yet committed) records and queues it behind N. Callers are still acknowledged only after
their own batch's COMMIT, and each batch is one transaction. If N fails, every batch
queued behind it was computed on N's effects: the writer refuses them (`Discarded`) until
the event loop has seen the failure, dropped N's effects, queued those jobs again and
called `recovered()`.
"""

from __future__ import annotations

import asyncio
import pickle
import sqlite3
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite

from engine.store.batch import Batch, Job
from engine.store.errors import BatchFailed, StoreOpenError
from engine.store.sqlite.rows import FAILURES, HEADER, Discarded, Plan, Stale, frame, write

__all__ = ["Discarded", "Flight", "ProcessWriter", "Stale", "ThreadWriter", "key_collision",
           "plan_of", "supported"]


def plan_of(batch: Batch, first_lid: int) -> Plan:
    return Plan(first_lid, batch.save_rows(), batch.ledger, batch.unachieved,
                batch.achievements, batch.score_rows(), batch.events, batch.applied,
                batch.outbox)


@dataclass
class Flight:
    jobs: list[Job]
    batch: Batch
    results: list[Any]
    task: asyncio.Future = field(repr=False)


class ThreadWriter:
    """Writes each batch on the aiosqlite writer connection's own thread."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self.poisoned = False  # set on the connection's thread, cleared by the event loop

    async def start(self) -> None:
        pass

    def submit(self, plan: Plan) -> asyncio.Future:
        """Queue the batch on the connection's thread now; resolves after COMMIT."""
        return asyncio.ensure_future(self.conn._execute(self._write, self.conn._conn, plan))

    def _write(self, conn: sqlite3.Connection, plan: Plan) -> None:
        if self.poisoned:
            raise Discarded()
        try:
            write(conn, plan)
        except BaseException:
            self.poisoned = True
            raise

    def recovered(self) -> None:
        """The event loop has requeued what was computed on a failed batch."""
        self.poisoned = False

    async def execute(self, sql: str) -> None:
        await self.conn.execute(sql)

    async def close(self) -> None:
        pass  # the store closes the connection


class ProcessWriter:
    """Writes each batch in a child process of its own (rows.py run as a script).

    Why: in one process, the writer thread needs the GIL for every row it binds, and the
    event loop computing the next batch holds it; the two take turns instead of running
    side by side. In its own process the writer binds, steps and fsyncs on the other core.
    The child is started when the store opens, and again after it has died."""

    SCRIPT = str(Path(__file__).with_name("rows.py"))

    def __init__(self, path: str, synchronous: str) -> None:
        self.path = path
        self.synchronous = synchronous
        self.epoch = 0
        self.proc: asyncio.subprocess.Process | None = None
        self.waiting: deque[asyncio.Future] = deque()
        self.reader: asyncio.Task | None = None

    async def start(self) -> None:
        """Start the child unless it runs; StoreOpenError if it cannot open the database."""
        if self.reader is not None and not self.reader.done():
            return
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-I", "-S", self.SCRIPT, self.path, self.synchronous,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        try:
            kind, message = await _read_answer(proc)
        except (asyncio.IncompleteReadError, ConnectionError):
            kind, message = "error", f"it exited with status {await proc.wait()}"
        if kind != "ok":
            if proc.stdin is not None:
                proc.stdin.close()
            await proc.wait()
            raise StoreOpenError(f"{self.path}: the writer process cannot open the database"
                                 f" ({message})")
        self.proc = proc
        self.reader = asyncio.create_task(self._read(proc), name="diana-store-rows")

    def _send(self, message: tuple) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        if self.reader is None or self.reader.done():
            future.set_exception(BatchFailed("nothing was saved: the writer process is not"
                                             " running"))
            return future
        assert self.proc is not None and self.proc.stdin is not None
        self.waiting.append(future)
        self.proc.stdin.write(frame(message))
        return future

    def submit(self, plan: Plan) -> asyncio.Future:
        """Send the batch now; resolves after the child's COMMIT."""
        return self._send(("write", self.epoch, tuple(plan)))

    def recovered(self) -> None:
        self.epoch += 1

    async def execute(self, sql: str) -> None:
        await self._send(("sql", sql))

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        try:
            while True:
                kind, message = await _read_answer(proc)
                future = self.waiting.popleft()
                if future.done():
                    continue
                if kind == "ok":
                    future.set_result(None)
                else:
                    future.set_exception(FAILURES[kind](message) if kind in FAILURES else
                                         BatchFailed(f"nothing was saved: {message}"))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        code = await proc.wait()
        # What it had not answered may or may not have committed: the caller retries with
        # the same key, which replays the action if it did.
        gone = BatchFailed(f"the writer process stopped (exit status {code}); the action may"
                           " have been saved: send it again with the same key")
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(gone)

    async def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        if self.reader is not None:
            await self.reader


async def _read_answer(proc: asyncio.subprocess.Process) -> tuple[str, str]:
    assert proc.stdout is not None
    (size,) = HEADER.unpack(await proc.stdout.readexactly(HEADER.size))
    return pickle.loads(await proc.stdout.readexactly(size))


def supported(conn: aiosqlite.Connection) -> bool:
    return callable(getattr(conn, "_execute", None)) and isinstance(
        getattr(conn, "_conn", None), sqlite3.Connection)


def key_collision(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.IntegrityError) and "applied_actions.key" in str(exc)
