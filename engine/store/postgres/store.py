"""The PostgreSQL store (asyncpg): the same operations and semantics as SqliteStore, for
operators who run the bot on more than one machine.

One writer task takes the queued jobs in order. Consecutive player actions, grants and
revokes form a batch: one transaction that locks the batch's saves (SELECT … FOR UPDATE,
in id order), looks up their idempotency keys, runs the pure core (batch.Batch, the same
one SQLite's writer uses) on the committed records, and writes its rows. Every other
operation runs alone in a transaction of its own, so a content swap splits the queue as
on SQLite. Any number of processes may share the database: a save locked by another
process's transaction is waited for, then read as that one committed it, so no version
check can fail; a key another process applied at the same moment fails the batch's
applied_actions insert, and the batch runs again, then replaying the key. Ledger ids are
taken from the ledger's sequence when the batch writes.

No cache: reads (`state`, `resume`, `player`) ask the database, through a small pool.

When the server goes away (a restart, a network cut), every operation fails at once with
StoreUnavailable instead of waiting: the batch in flight is rolled back or, if its COMMIT
was sent, may have landed (its keys make a retry replay it, never apply it twice). The
writer reconnects on the next job, no more often than a backoff that doubles up to
RECONNECT_MAX; the pools replace broken connections by themselves. Statements run under
a server-side statement_timeout (`statement_timeout` seconds, connect.STATEMENT_TIMEOUT by
default): a write that waits longer, on a lock another process holds or on a server in
trouble, fails with StoreUnavailable rather than holding a player for minutes.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import asyncpg

from engine.game import Game
from engine.store.batch import Batch, Job
from engine.store.errors import (
    BatchFailed,
    StoreClosed,
    StoreError,
    StoreOpenError,
    StoreUnavailable,
    UnknownPlayer,
)
from engine.store.interface import RankEntry, Standing, Stats
from engine.store.jobs import JobStore, outbox_game
from engine.store.jobs import fail as _fail
from engine.store.jobs import resolve as _resolve
from engine.store.postgres import admin, outbox, ranks, reads, updates
from engine.store.postgres.connect import STATEMENT_TIMEOUT, connect, pool, shown, store_settings
from engine.store.postgres.schema import require_current

# Batches run again after a deadlock or a key another process applied at the same moment.
RETRIES = 12
_RETRYABLE = (asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError,
              asyncpg.SerializationError)
# The server is gone or going (class 08, admin/crash shutdown, "cannot connect now"), a
# statement ran past its timeout, or the socket failed: try again in a moment. asyncpg
# raises InternalClientError ("cannot switch to state …") when a pool resets a connection
# whose socket was just reset by a restarting server.
UNAVAILABLE = (asyncpg.PostgresConnectionError, asyncpg.OperatorInterventionError,
               asyncpg.InterfaceError, asyncpg.InternalClientError, OSError, TimeoutError)
RECONNECT_MIN = 0.05  # seconds before the writer's first reconnection attempt
RECONNECT_MAX = 2.0
RECONNECT_TIMEOUT = 2.0  # one attempt: a server that is back answers at once

UPDATE_SAVE = ("UPDATE saves SET state = $1::jsonb, content_version = $2, fragment = $3,"
               " version = $4, points = $5, ledger_seq = $6, ledger_from = $7, carry_to = $8,"
               " carry = $9, updated = $10, outbox_seq = $11 WHERE player = $12"
               " AND version = $13")
INSERT_LEDGER = ("INSERT INTO ledger (id, player, seq, amount, kind, reason, cause, key, time,"
                 " turn, day, extra) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
DELETE_ACHIEVEMENT = "DELETE FROM achievements WHERE player = $1 AND achievement = $2"
INSERT_ACHIEVEMENT = "INSERT INTO achievements (player, achievement, time) VALUES ($1, $2, $3)"
INSERT_APPLIED = ("INSERT INTO applied_actions (key, player, op, ok, version, ledger, result)"
                  " VALUES ($1, $2, $3, $4, $5, $6, $7)")
LEDGER_IDS = ("SELECT nextval(pg_get_serial_sequence('ledger', 'id'))"
              " FROM generate_series(1, $1)")


class PgStore(JobStore):
    """See the module docstring. Create with `await PgStore.open(url, game)`."""

    def __init__(self, url: str, game: Game, *, clock: Callable[[], float] = time.time,
                 max_batch: int = 512, readers: int = 4, outbox: bool = True,
                 events_game: str | None = None,
                 statement_timeout: float = STATEMENT_TIMEOUT) -> None:
        self.url = url
        self.where = f"DIANA_DB ({shown(url)})"
        self.game = game
        self.outbox_game = outbox_game(game, outbox, events_game)
        self.clock = clock
        self.max_batch = max_batch
        self.readers = readers
        self.settings = store_settings(statement_timeout)
        self._jobs: deque[Job] = deque()
        self._wake = asyncio.Event()
        self._closing = False
        self._w: asyncpg.Connection | None = None
        self._pool: asyncpg.Pool | None = None
        self._writer: asyncio.Task | None = None
        self._side: asyncpg.Pool | None = None  # the update ledger and the rate limit
        self._claims = 0
        self._backoff = 0.0  # the writer's next wait before reconnecting (0: connected)
        self._retry_at = 0.0  # monotonic time before which it does not try
        self.batches = 0  # statistics, for the tests
        self.batched = 0
        self.requeued = 0  # batches run again (deadlock, a key applied meanwhile)
        # Called once per committed batch with its transaction's seconds and its size
        self.on_commit: Callable[[float, int], None] | None = None

    @classmethod
    async def open(cls, url: str, game: Game, **options: Any) -> PgStore:
        """Connect and check the schema: one this program can use as it is, else
        StoreOpenError (older: run `diana db upgrade`) or SchemaTooNew."""
        store = cls(url, game, **options)
        store._w = await connect(url, settings=store.settings)
        try:
            await require_current(store._w, store.where)
            store._pool = await pool(url, store.readers, store.settings)
            store._side = await pool(url, store.readers,
                                     {**store.settings, "synchronous_commit": "off"})
        except BaseException:
            await store._w.close()
            if store._pool is not None:
                await store._pool.close()
            raise
        store._writer = asyncio.create_task(store._write_loop(), name="diana-store-writer")
        return store

    async def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._wake.set()
        if self._writer is not None:
            await self._writer
        for p in (self._pool, self._side):
            if p is not None:
                await p.close()
        if self._w is not None and not self._w.is_closed():
            await self._w.close()

    async def ping(self) -> None:
        try:
            await self._reader().fetchval("SELECT 1", timeout=2)
        except StoreError:
            raise
        except (asyncpg.PostgresError, *UNAVAILABLE) as exc:
            raise unavailable(exc) from exc

    # ---- reads ------------------------------------------------------------------------

    async def stats(self, *, when: float | None = None) -> Stats:
        try:
            return await reads.stats(self._reader(), self._when(when))
        except UNAVAILABLE as exc:
            raise unavailable(exc) from exc

    async def top(self, kind: str = "all", n: int = 10, *,
                  when: float | None = None) -> list[RankEntry]:
        try:
            return await reads.top(self._reader(), kind, n, self._when(when))
        except UNAVAILABLE as exc:
            raise unavailable(exc) from exc

    async def standing(self, player: str, kind: str = "all", *, around: int = 2,
                       when: float | None = None) -> Standing:
        try:
            pid = await reads.player_id(self._reader(), player)
            if pid is None:
                raise UnknownPlayer(f"unknown player `{player}`")
            return await reads.standing(self._reader(), pid, kind, around, self._when(when))
        except UNAVAILABLE as exc:
            raise unavailable(exc) from exc

    # ---- several workers: the update-id ledger, the shared rate limit ------------------

    async def claim_update(self, update_id: int, owner: str, lease: float) -> bool:
        side = self._side_pool()
        now = self.clock()
        try:
            claimed = await updates.claim(side, update_id, owner, now, lease)
            self._claims += 1
            if self._claims % updates.PRUNE_EVERY == 0:
                await updates.prune(side, now)
        except UNAVAILABLE as exc:
            raise unavailable(exc) from exc
        return claimed

    async def finish_update(self, update_id: int, owner: str, *, done: bool = True) -> None:
        try:
            await updates.finish(self._side_pool(), update_id, owner, done)
        except UNAVAILABLE as exc:
            raise unavailable(exc) from exc

    async def rate_hit(self, subject: str, window: float) -> int:
        """Count one update of `subject` in the current `window`-second window shared by
        every process on this database; the window's count so far."""
        try:
            return await updates.hit(self._side_pool(), subject, self.clock(), window)
        except UNAVAILABLE as exc:
            raise unavailable(exc) from exc

    # ---- plumbing -------------------------------------------------------------------------

    def _reader(self) -> asyncpg.Pool:
        if self._closing or self._pool is None:
            raise StoreClosed("the store is closed")
        return self._pool

    def _side_pool(self) -> asyncpg.Pool:
        if self._closing or self._side is None:
            raise StoreClosed("the store is closed")
        return self._side

    async def _record(self, player: str):
        try:
            rec = (await reads.load(self._reader(), [player])).get(player)
        except UNAVAILABLE as exc:
            raise unavailable(exc) from exc
        if rec is None:
            raise UnknownPlayer(f"unknown player `{player}`")
        return rec

    async def _submit(self, job: Job) -> Any:
        if self._closing:
            raise StoreClosed("the store is closed")
        job.future = asyncio.get_running_loop().create_future()
        self._jobs.append(job)
        self._wake.set()
        return await job.future

    # ---- the writer -----------------------------------------------------------------------

    async def _write_loop(self) -> None:
        while True:
            if not self._jobs:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._jobs[0].alone:
                await self._alone(self._jobs.popleft())
                continue
            jobs = []
            while self._jobs and len(jobs) < self.max_batch and not self._jobs[0].alone:
                jobs.append(self._jobs.popleft())
            await self._batch(jobs)

    async def _connection(self) -> asyncpg.Connection:
        """The writer's connection; after it was lost, a new one, at most once per backoff
        period (StoreUnavailable meanwhile, at once: no job waits for the server)."""
        w = self._w
        if w is not None and not w.is_closed():
            return w
        now = time.monotonic()
        if now < self._retry_at:
            raise StoreUnavailable(f"{self.where}: PostgreSQL cannot be reached now; try"
                                   " again in a moment")
        try:
            self._w = await connect(self.url, timeout=RECONNECT_TIMEOUT,
                                    settings=self.settings)
        except StoreOpenError as exc:
            self._backoff = min(RECONNECT_MAX, max(RECONNECT_MIN, self._backoff * 2))
            self._retry_at = time.monotonic() + self._backoff * random.uniform(0.5, 1)
            raise StoreUnavailable(f"{exc}; try again in a moment") from exc
        self._backoff = 0.0
        return self._w

    def _lost(self) -> None:
        """The writer's connection failed: drop it (a reconnect comes with the next job)."""
        if self._w is not None:
            self._w.terminate()
        self._w = None

    async def _batch(self, jobs: list[Job]) -> None:
        try:
            w = await self._connection()
        except StoreUnavailable as exc:
            _fail(jobs, exc)
            return
        self.batches += 1
        self.batched += len(jobs)
        for attempt in range(RETRIES + 1):
            began = time.perf_counter()
            try:
                async with w.transaction():
                    results = await self._run(w, jobs)
            except _RETRYABLE as exc:
                if attempt == RETRIES:
                    _fail(jobs, batch_error(exc))
                    return
                # Another process holds these players or applied these keys: take turns.
                self.requeued += 1
                await asyncio.sleep(random.uniform(0, min(0.2, 0.002 * 2 ** attempt)))
                continue
            except UNAVAILABLE as exc:
                self._lost()
                _fail(jobs, unavailable(exc))
                return
            except Exception as exc:
                _fail(jobs, batch_error(exc))
                return
            if self.on_commit is not None:
                self.on_commit(time.perf_counter() - began, len(jobs))
            for job, result in zip(jobs, results, strict=True):
                _resolve(job, result)
            return

    async def _run(self, w: asyncpg.Connection, jobs: list[Job]) -> list[Any]:
        """One batch inside the caller's transaction: lock, compute (the pure core), write."""
        records = await reads.load(w, list(dict.fromkeys(j.player for j in jobs)), lock=True)
        stored = await reads.stored_results(w, [j.key for j in jobs if j.key])
        # ledger ids 1..n, renumbered below
        batch = Batch(self.game, self.clock(), 1, outbox_game=self.outbox_game)
        results = [batch.run(job, records, stored) for job in jobs]
        ids: list[int] = []
        if batch.ledger:
            ids = [r[0] for r in await w.fetch(LEDGER_IDS, len(batch.ledger))]
        if batch.applied:
            await w.executemany(INSERT_APPLIED, batch.applied)
        saves = batch.save_rows()
        if saves:
            await w.executemany(UPDATE_SAVE, saves)
        if batch.ledger:
            await w.executemany(INSERT_LEDGER, [(ids[row[0] - 1], *row[1:])
                                                for row in batch.ledger])
        if batch.unachieved:
            await w.executemany(DELETE_ACHIEVEMENT, batch.unachieved)
        if batch.achievements:
            await w.executemany(INSERT_ACHIEVEMENT, batch.achievements)
        if batch.events:
            await w.executemany(admin.INSERT_EVENT, batch.events)
        if batch.outbox:
            await w.executemany(outbox.INSERT, batch.outbox)
        # Last: the leaderboards' counters are shared by every worker (see ranks.py).
        await ranks.add(w, [(board, pid, delta, ids[at - 1])
                            for board, pid, delta, at in batch.score_rows()])
        return results

    async def _alone(self, job: Job) -> None:
        try:
            w = await self._connection()
            async with w.transaction():
                result, _ = await admin.HANDLERS[job.op](self, w, job)
        except StoreError as exc:
            _fail([job], exc)
            return
        except UNAVAILABLE as exc:
            self._lost()
            _fail([job], unavailable(exc))
            return
        except Exception as exc:
            _fail([job], batch_error(exc))
            return
        if job.op == "swap":
            self.game = job.args["game"]  # no batch is running: the next one uses it
        _resolve(job, result)


def unavailable(exc: BaseException) -> StoreUnavailable:
    err = StoreUnavailable(f"PostgreSQL cannot be reached now ({type(exc).__name__}:"
                           f" {str(exc).strip() or 'no detail'}); try again in a moment")
    err.__cause__ = exc
    return err


def batch_error(exc: BaseException) -> StoreError:
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, asyncpg.ConnectionDoesNotExistError | ConnectionError):
        why = ("the connection to PostgreSQL was lost; the action may have been saved: send"
               " it again with the same key")
    elif isinstance(exc, asyncpg.PostgresError):
        why = f"PostgreSQL said: {exc}"
    else:
        why = f"{type(exc).__name__}: {exc}"
    err = BatchFailed(f"nothing was saved: {why}")
    err.__cause__ = exc
    return err
