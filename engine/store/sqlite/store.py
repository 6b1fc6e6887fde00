"""The SQLite store (aiosqlite): one writer task doing group commits.

Durability: WAL with `synchronous=FULL` by default. A caller's future is resolved only
after COMMIT has returned, so an acknowledged action survives a SIGKILL of the process
(the WAL frames are written before COMMIT returns) and, with FULL, also an OS crash or a
power loss (the WAL is fsynced at each commit; group commit pays one fsync per batch).
`durability="normal"` skips that fsync: it still survives a process kill, and loses at
most the last batches on an OS crash.

Group commit, pipelined (pipeline.py): each batch is one transaction, run as one function
on the writer connection's thread (or, with `writer="process"`, in a child process); while
it commits, the next batch is computed on top of it. A caller is still answered only after
its own batch's COMMIT; a failed batch fails or retries its own jobs and sends the batches
computed behind it round again.

Idempotency keys are not looked up before a batch: a key applied before makes the batch's
INSERT fail, and its jobs are computed again with the lookup (rare: a redelivered update).

A save made under other content is moved to the current content (engine.migrate) when it
is read (`resume`, `state`) or acted on, and written back once with a `migrate` event.

The content is swapped by `swap_game`, a job of its own: every job queued before it is
computed under the old content, every job after it under the new one, never a mix.

Any number of processes may write one database file (the bot, `diana db …`, `diana play`):
each batch takes SQLite's write lock (waiting for it up to rows.BUSY_TIMEOUT_MS),
ledger ids are taken from the database at write time (rows.py), and saves are updated
with an optimistic version check: a save another process changed fails the batch, which
drops the cache and is computed again from the committed rows, up to RETRIES times. Reads
(`state`, `resume`) may serve this process's cached copy of a save another process has
since changed; the next write to that player finds out and starts from the committed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiosqlite

from engine.game import Game
from engine.store.batch import Batch, Job, Stored
from engine.store.errors import (
    BatchFailed,
    StoreClosed,
    StoreError,
    StoreOpenError,
    UnknownPlayer,
)
from engine.store.interface import (
    RankEntry,
    Standing,
    Stats,
)
from engine.store.jobs import JobStore, outbox_game
from engine.store.jobs import fail as _fail
from engine.store.jobs import resolve as _resolve
from engine.store.limits import MAX_REASON
from engine.store.records import Record
from engine.store.sqlite import admin, leaderboard, updates
from engine.store.sqlite.checkpoint import Checkpointer
from engine.store.sqlite.connect import BUSY_TIMEOUT_MS, DURABILITY, open_error, prepare
from engine.store.sqlite.pipeline import (
    Discarded,
    Flight,
    ProcessWriter,
    Stale,
    ThreadWriter,
    key_collision,
    plan_of,
    supported,
)
from engine.store.sqlite.reads import load, stats, stored_results

__all__ = ["MAX_REASON", "WRITERS", "SqliteStore", "prepare"]

WRITERS = ("thread", "process")
# Batches computed again when another process changed their saves (or applied their keys).
RETRIES = 12


class SqliteStore(JobStore):
    """See the module docstring. Create with `await SqliteStore.open(path, game)`."""

    def __init__(self, path: str | Path, game: Game, *, durability: str = "full",
                 clock: Callable[[], float] = time.time, max_batch: int = 512,
                 cache_size: int = 100_000, pipeline: int = 2, split: bool | None = None,
                 writer: str = "thread", checkpoint_every: float = 0.25, outbox: bool = True,
                 events_game: str | None = None) -> None:
        if durability not in DURABILITY:
            raise ValueError(f"durability must be one of {', '.join(DURABILITY)}")
        if writer not in WRITERS:
            raise ValueError(f"writer must be one of {', '.join(WRITERS)}")
        if writer == "process" and str(path) == ":memory:":
            raise ValueError("an in-memory database cannot be written by another process")
        self.writer = writer
        self.path = str(path)
        self.game = game
        self.outbox_game = outbox_game(game, outbox, events_game)
        self.durability = durability
        self.clock = clock
        self.max_batch = max_batch
        self.cache_size = cache_size
        self._cache: OrderedDict[str, Record] = OrderedDict()
        self._jobs: deque[Job] = deque()
        self._wake = asyncio.Event()
        self._closing = False
        self._w: aiosqlite.Connection | None = None
        self._r: aiosqlite.Connection | None = None
        self._writer: asyncio.Task | None = None
        self._updates = updates.Ledger(self.path)
        self.pipeline = max(1, pipeline)  # batches committing or queued to commit at once
        # Halve the queue when nothing commits, to form two alternating groups: one is
        # computed while the other commits. Store bench, 2 CPUs: the writer process so is
        # 1.8x the writer thread's actions/s at 100 players; the writer thread split was
        # 0.87x unsplit, as it needs the GIL for every row while the event loop computes.
        self.split = writer == "process" if split is None else split
        self._inflight: deque[Flight] = deque()
        self._pending: dict[str, Record] = {}  # records of batches not yet committed
        self._inflight_keys: dict[str, Stored] = {}  # their idempotency keys
        self._next_lid: int | None = None  # the next ledger id (None: read it)
        self._io: ThreadWriter | ProcessWriter | None = None  # who writes the batches
        self._checkpointer = (Checkpointer(self.path, checkpoint_every)
                              if self.path != ":memory:" else None)
        self.batches = 0  # statistics, for the bench and the tests
        self.batched = 0
        self.requeued = 0  # jobs computed again after a failed batch
        # Called once per committed batch with its write's seconds and its size (metrics)
        self.on_commit: Callable[[float, int], None] | None = None

    @classmethod
    async def open(cls, path: str | Path, game: Game, **options: Any) -> SqliteStore:
        store = cls(path, game, **options)
        store._w = await prepare(path, durability=store.durability)
        if not supported(store._w):
            await store._w.close()
            raise StoreOpenError("this aiosqlite version lacks the calls the store's writer"
                                 " uses (Connection._execute, _conn); install aiosqlite 0.22")
        try:
            store._r = await aiosqlite.connect(store.path, isolation_level=None)
            await store._r.execute("PRAGMA query_only = ON")
            await store._r.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            store._io = (ThreadWriter(store._w) if store.writer == "thread" else
                         ProcessWriter(store.path, DURABILITY[store.durability]))
            await store._io.start()
        except (sqlite3.Error, OSError, StoreError) as exc:
            for conn in (store._r, store._w):
                if conn is not None:
                    await conn.close()
            if isinstance(exc, StoreError):
                raise
            if isinstance(exc, OSError):
                raise StoreOpenError(f"{store.path}: cannot start the writer process"
                                     f" ({exc})") from exc
            raise open_error(store.path, exc) from exc
        store._writer = asyncio.create_task(store._write_loop(), name="diana-store-writer")
        if store._checkpointer is not None:
            store._checkpointer.start()
        return store

    async def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._wake.set()
        if self._writer is not None:
            await self._writer
        if self._io is not None:
            await self._io.close()
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.stop)
        for conn in (self._r, self._w):
            if conn is not None:
                await conn.close()
        await self._updates.close()

    async def ping(self) -> None:
        if self._closing:
            raise StoreClosed("the store is closed")
        if self.path != ":memory:":
            # A new connection, not the open ones: they would go on reading and writing a
            # file deleted or moved away, where nothing they commit can be found again.
            await asyncio.to_thread(_probe, self.path)

    # ---- the update-id ledger (updates.py) ---------------------------------------------

    async def claim_update(self, update_id: int, owner: str, lease: float) -> bool:
        if self._closing:
            raise StoreClosed("the store is closed")
        return await self._updates.claim(update_id, owner, self.clock(), lease)

    async def finish_update(self, update_id: int, owner: str, *, done: bool = True) -> None:
        await self._updates.finish(update_id, owner, done)

    # ---- reads ------------------------------------------------------------------------

    async def stats(self, *, when: float | None = None) -> Stats:
        """Aggregates over all players (committed data; the counts are read one by one,
        not as one snapshot)."""
        return await stats(self._reader(), self._when(when))

    async def top(self, kind: str = "all", n: int = 10, *,
                  when: float | None = None) -> list[RankEntry]:
        return await leaderboard.top(self._reader(), kind, n, self._when(when))

    async def standing(self, player: str, kind: str = "all", *, around: int = 2,
                       when: float | None = None) -> Standing:
        pid = await self._player_id(player)
        return await leaderboard.standing(self._reader(), pid, kind, around, self._when(when))

    # ---- plumbing ---------------------------------------------------------------------

    def _reader_conn(self) -> aiosqlite.Connection:
        """The read connection for the writer, which still drains while closing."""
        assert self._r is not None
        return self._r

    def _reader(self) -> aiosqlite.Connection:
        if self._closing or self._r is None:
            raise StoreClosed("the store is closed")
        return self._r

    async def _submit(self, job: Job) -> Any:
        if self._closing:
            raise StoreClosed("the store is closed")
        job.future = asyncio.get_running_loop().create_future()
        self._jobs.append(job)
        self._wake.set()
        return await job.future

    async def _player_id(self, player: str) -> int:
        rec = self._cache.get(player)
        if rec is not None:
            return rec.id
        rows = await self._reader().execute_fetchall(
            "SELECT id FROM players WHERE external_id = ?", (player,))
        if not rows:
            raise UnknownPlayer(f"unknown player `{player}`")
        return rows[0][0]

    async def _record(self, player: str) -> Record:
        rec = self._cache.get(player)
        if rec is None:
            found = await load(self._reader(), [player])
            rec = found.get(player)
            if rec is None:
                raise UnknownPlayer(f"unknown player `{player}`")
        return rec

    def _publish(self, records: Iterable[Record]) -> None:
        for rec in records:
            rec.stored_version = rec.version
            self._cache[rec.external] = rec
            self._cache.move_to_end(rec.external)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    # ---- the writer -------------------------------------------------------------------

    async def _write_loop(self) -> None:
        while True:
            if not self._jobs:
                if self._inflight:
                    # Whichever comes first: the oldest batch's COMMIT (its write sets
                    # _wake, see _launch), or new jobs, computed now if the pipeline has
                    # room (those acknowledged just before often come back at once with
                    # their next action).
                    if not self._inflight[0].task.done() and len(self._inflight) < self.pipeline:
                        self._wake.clear()
                        await self._wake.wait()
                        continue
                    await self._settle()
                    continue
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._jobs[0].alone:
                while self._inflight:
                    await self._settle()
                if self._jobs and self._jobs[0].alone:  # (a failure may requeue a batch)
                    await self._alone(self._jobs.popleft())
                continue
            if len(self._inflight) >= self.pipeline:
                await self._settle()
                continue
            limit = self.max_batch
            if not self._inflight and self.pipeline > 1 and self.split:
                # Nothing is committing: take half of what waits, so the other half is
                # computed while this one commits (the batches then alternate).
                limit = min(limit, max(1, (len(self._jobs) + 1) // 2))
            jobs = []
            while self._jobs and len(jobs) < limit and not self._jobs[0].alone:
                jobs.append(self._jobs.popleft())
            try:
                await self._launch(jobs)
            except Exception as exc:  # a read failed: nothing was written
                for job in jobs:
                    self._cache.pop(job.player, None)
                _fail(jobs, _batch_error(exc))

    async def _launch(self, jobs: list[Job]) -> None:
        """Compute a batch (on top of the batches still committing) and queue its write."""
        reader = self._reader_conn()
        assert self._io is not None
        await self._io.start()  # (again, if the writer process died)
        players = list(dict.fromkeys(j.player for j in jobs))
        records: dict[str, Record] = {}
        missing = []
        for p in players:
            rec = self._pending.get(p)
            if rec is not None:
                rec = rec.copy()  # built on a batch not yet committed: check its version
                rec.stored_version = rec.version
                records[p] = rec
            elif (rec := self._cache.get(p)) is not None:
                records[p] = rec
            else:
                missing.append(p)
        if missing:
            loaded = await load(reader, missing)
            records.update(loaded)
            self._publish(loaded.values())  # committed rows: safe to cache
        stored = {k: v for j in jobs if j.key and (v := self._inflight_keys.get(j.key))
                  is not None for k in (j.key,)}
        if any(j.attempt for j in jobs):
            # Keys are not looked up ahead: a key applied before fails the batch's INSERT
            # (see pipeline._rows) and its jobs come back here with attempt = 1.
            stored.update(await stored_results(
                reader, [j.key for j in jobs if j.key and j.key not in stored]))
        if self._next_lid is None:
            rows = await reader.execute_fetchall("SELECT max(id) FROM ledger")
            self._next_lid = (rows[0][0] or 0) + 1
        self.batches += 1
        self.batched += len(jobs)
        first = self._next_lid
        batch = Batch(self.game, self.clock(), first, outbox_game=self.outbox_game)
        results = [batch.run(job, records, stored) for job in jobs]
        self._next_lid = batch.next_id
        plan = plan_of(batch, first)
        self._pending.update(batch.work)
        self._inflight_keys.update(batch.seen)
        task = self._io.submit(plan)
        task.add_done_callback(self._written)
        if self.on_commit is not None:
            task.add_done_callback(partial(self._committed, time.perf_counter(), len(jobs)))
        self._inflight.append(Flight(jobs, batch, results, task))

    def _written(self, _: asyncio.Future) -> None:
        self._wake.set()

    def _committed(self, began: float, size: int, task: asyncio.Future) -> None:
        if self.on_commit is not None and not task.cancelled() and task.exception() is None:
            self.on_commit(time.perf_counter() - began, size)

    async def _settle(self) -> None:
        """Wait for the oldest batch's COMMIT, then publish it and acknowledge its jobs."""
        flight = self._inflight.popleft()
        try:
            await flight.task
        except BaseException as exc:
            await self._failed(flight, exc)
            return
        work = flight.batch.work
        self._publish(work.values())
        for p, rec in work.items():
            if self._pending.get(p) is rec:
                del self._pending[p]
        for k, st in flight.batch.seen.items():
            if self._inflight_keys.get(k) is st:
                del self._inflight_keys[k]
        for job, result in zip(flight.jobs, flight.results, strict=True):
            _resolve(job, result)

    async def _failed(self, flight: Flight, exc: BaseException) -> None:
        """Nothing of `flight` was written; the batches behind it are discarded and their
        jobs queued again, as they were computed on its effects."""
        later = list(self._inflight)
        self._inflight.clear()
        for f in later:
            with contextlib.suppress(BaseException):
                await f.task
        self._pending.clear()
        self._inflight_keys.clear()
        self._next_lid = None
        assert self._io is not None
        self._io.recovered()
        again = [j for f in later for j in f.jobs]
        jobs = flight.jobs
        if isinstance(exc, Discarded):
            again = jobs + again
        elif (isinstance(exc, Stale) or key_collision(exc)) and (
                attempt := max(j.attempt for j in jobs)) < RETRIES:
            if isinstance(exc, Stale):
                # Another process wrote these saves: read them again, after a pause that
                # grows, so that two processes busy with one player take turns.
                self._cache.clear()
                await asyncio.sleep(random.uniform(0, min(0.2, 0.002 * 2 ** attempt)))
            for job in jobs:
                job.attempt = attempt + 1
            again = jobs + again
        else:
            for job in jobs:
                self._cache.pop(job.player, None)
            if isinstance(exc, Stale):
                exc = BatchFailed(f"nothing was saved: other processes changed these players'"
                                  f" saves {RETRIES} times while this one computed them; try"
                                  " again")
            _fail(jobs, _batch_error(exc))
        self.requeued += len(again)
        self._jobs.extendleft(reversed(again))

    # ---- operations that run alone, each in its own transaction -------------------------

    async def _alone(self, job: Job) -> None:
        w = self._w
        assert w is not None
        handler = {"register": admin.register, "reset": admin.reset,
                   "export": admin.export, "delete": admin.delete, "profile": admin.profile,
                   "audit": admin.audit, "swap": admin.swap}[job.op]
        self._next_lid = None  # a reset appends to the ledger itself
        try:
            await w.execute("BEGIN IMMEDIATE")
            try:
                result, publish = await handler(self, w, job)
                await w.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    await w.execute("ROLLBACK")
                raise
        except StoreError as exc:
            self._cache.pop(job.player, None)
            _fail([job], exc)
            return
        except Exception as exc:
            self._cache.pop(job.player, None)
            _fail([job], _batch_error(exc))
            return
        if job.op == "swap":
            self.game = job.args["game"]  # no batch is in flight: the next one uses it
        if publish is not None:
            self._publish([publish])
        _resolve(job, result)

# ---- helpers ------------------------------------------------------------------------------


def _probe(path: str) -> None:
    try:
        conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=1)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: {exc}") from exc


def _batch_error(exc: BaseException) -> StoreError:
    if isinstance(exc, StoreError):
        return exc
    text = str(exc)
    if "full" in text:
        why = "the disk (or the database's size limit) is full"
    elif "locked" in text or "busy" in text:
        why = (f"another process held the database's write lock for over"
               f" {BUSY_TIMEOUT_MS // 1000} s")
    elif "readonly" in text:
        why = "the database became read-only"
    elif "malformed" in text or "not a database" in text:
        why = "the database file is corrupted"
    else:
        why = f"{type(exc).__name__}: {text}"
    err = BatchFailed(f"nothing was saved: {why}")
    err.__cause__ = exc
    return err


