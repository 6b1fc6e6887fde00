"""The publisher core: lease unsent events from an outbox, send them to the broker, mark
them sent; a circuit breaker between the two.

Order: a claim hands a publisher, for each player, a run of their oldest unsent events
(source.Source.claim). They go out one player at a time in order, each event only after
the broker acknowledged the one before; different players' events go out side by side.
When an event is refused, that player's later events are not sent now: the next attempt
starts again from it, so a consumer never sees a player's events out of order.

Exactly once for consumers: an event is marked sent only after the broker acknowledged
it. A publisher that dies between the two leaves the event unmarked, under a lease that
runs out; whoever sends it again uses the same message id, which the broker drops as a
duplicate (jetstream.DUPLICATE_WINDOW is longer than LEASE).

Circuit breaker: a failed send (or a broker that does not answer) opens it; the publisher
then waits, doubling the wait up to `max_backoff`, and tries again with one claim. The
store never waits for the publisher, so while the broker is down the players' actions are
saved as fast as ever and the outbox grows; it drains when the broker is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
import socket
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from engine.outbox.jetstream import BrokerError, game_of
from engine.outbox.source import Row, Source, Status

log = logging.getLogger("diana.events")

LEASE = 30.0  # seconds a claim is held before another publisher may take it over
BATCH = 1024
RETENTION = "7d"  # how long sent events stay in the outbox for replays, by default

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def age(text: str) -> float:
    """`30m`, `12h`, `7d` as seconds; ValueError otherwise."""
    m = _AGE.match(text)
    if not m:
        raise ValueError(f"`{text}` is not an age such as 30m, 12h or 7d")
    return float(m.group(1)) * _UNIT[m.group(2)]


class Broker(Protocol):
    async def connect(self) -> None: ...

    async def ensure_stream(self, game: str) -> None: ...

    async def publish(self, subject: str, body: bytes, msg_id: str) -> bool: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


@dataclass
class Breaker:
    """Closed (sending) until a failure; then open for `wait()` seconds, doubling with
    each failure in a row up to `most`; one success closes it."""

    base: float = 0.2
    most: float = 30.0
    failures: int = 0
    until: float = 0.0

    @property
    def open(self) -> bool:
        return self.failures > 0

    def trip(self, now: float) -> float:
        self.failures += 1
        delay = min(self.most, self.base * 2 ** (self.failures - 1))
        delay *= random.uniform(0.8, 1.2)  # publishers in several processes spread out
        self.until = now + delay
        return delay

    def reset(self) -> None:
        self.failures = 0
        self.until = 0.0


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.getrandbits(32):08x}"


class Publisher:
    def __init__(self, source: Source, broker: Broker, *, batch: int = BATCH,
                 lease: float = LEASE, idle: float = 0.05, max_backoff: float = 30.0,
                 owner: str | None = None, clock: Callable[[], float] = time.time,
                 retention: float | None = None) -> None:
        self.source = source
        self.broker = broker
        self.batch = batch
        self.lease = lease
        self.idle = idle  # seconds between polls when nothing waits and nobody pokes
        self.owner = owner or owner_name()
        self.clock = clock
        # Seconds published events stay for replays; `watch` prunes older ones (None: never)
        self.retention = retention
        self.breaker = Breaker(most=max_backoff)
        self.published = 0  # events the broker took (duplicates included)
        self.duplicates = 0  # of those, the ones it already had
        self.failures = 0
        self.last_error: str | None = None
        self.status: Status | None = None  # the outbox as last read (see watch)
        self._poke = asyncio.Event()
        self._stop = asyncio.Event()
        self._done: list[int] = []  # sent, to be marked with the next claim

    # ---- control ----------------------------------------------------------------------

    def poke(self) -> None:
        """New events were committed: look now rather than at the next poll."""
        self._poke.set()

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()

    async def run(self) -> None:
        """Publish until `stop()`; never raises for a broker or database failure."""
        try:
            while not self._stop.is_set():
                if self.breaker.open:
                    await self._wait(self.breaker.until - self.clock())
                    if self._stop.is_set():
                        break
                sent = await self.once()
                # What was sent is marked with the next claim, one transaction for both,
                # when new events come soon; alone when none come.
                if (sent < self.batch and not self.breaker.open
                        and not await self._wait(self.idle)):
                    await self.flush()
        finally:
            await self.flush()

    async def _wait(self, seconds: float) -> bool:
        """Wait up to `seconds` for a poke (or stop); whether one came."""
        if seconds <= 0:
            return False
        self._poke.clear()
        try:
            await asyncio.wait_for(self._poke.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def flush(self) -> None:
        """Mark what was sent and not yet marked (it rides with the next claim otherwise)."""
        if not self._done:
            return
        try:
            await self.source.mark(self._done)
            self._done = []
        except Exception as exc:  # the database: they are sent again later, as duplicates
            self._failed(f"cannot mark events sent: {exc}")

    # ---- one round --------------------------------------------------------------------

    async def once(self) -> int:
        """One claim and its sends: the number of events the broker took."""
        try:
            rows = await self.source.claim(self.owner, self.batch, self.lease, self._done)
        except Exception as exc:
            self._failed(f"cannot read the outbox: {exc}")
            return 0
        self._done = []
        if not rows:
            if self.breaker.open:  # nothing to send: see whether the broker is back
                try:
                    await self.broker.ping()
                    self.breaker.reset()
                except BrokerError as exc:
                    self._failed(str(exc))
            return 0
        sent, error = await self.send(rows)
        self._done = sent
        if error is not None:
            left = sorted({r.id for r in rows} - set(sent))
            try:
                await self.source.release(self.owner, left)
            except Exception as exc:  # they come back when the lease runs out
                log.warning("events: cannot release leased events: %s", exc)
            self._failed(error)
        else:
            if self.breaker.open:
                log.info("events: the broker takes events again")
            self.breaker.reset()
        return len(sent)

    async def send(self, rows: list[Row]) -> tuple[list[int], str | None]:
        """Send `rows` (each player's in order); the ids the broker took, and the first
        error met (None: all taken)."""
        try:
            await self.broker.connect()
            for game in {game_of(r.subject) for r in rows}:
                await self.broker.ensure_stream(game)
        except BrokerError as exc:
            return [], str(exc)
        by_player: dict[int, list[Row]] = defaultdict(list)
        for r in rows:
            by_player[r.player].append(r)
        sent: list[int] = []
        errors: list[str] = []

        async def chain(events: list[Row]) -> None:
            for r in events:
                try:
                    dup = await self.broker.publish(r.subject, r.body.encode(), r.event_id)
                except BrokerError as exc:
                    errors.append(str(exc))
                    return  # this player's later events wait for this one
                sent.append(r.id)
                self.published += 1
                self.duplicates += dup

        await asyncio.gather(*(chain(events) for events in by_player.values()))
        return sent, errors[0] if errors else None

    def _failed(self, error: str) -> None:
        self.failures += 1
        first = not self.breaker.open
        delay = self.breaker.trip(self.clock())
        if first or error != self.last_error:
            log.warning("events: %s; trying again in %.1f s (events wait in the outbox)",
                        error, delay)
        self.last_error = error

    # ---- the outbox's size, for metrics and readiness ------------------------------------

    async def watch(self, every: float = 2.0, prune_every: float = 300.0) -> None:
        """Read the outbox's status every `every` seconds into `self.status`, and prune
        it every `prune_every` seconds, until stop."""
        pruned = 0.0
        while not self._stop.is_set():
            try:
                self.status = await self.source.status()
                now = self.clock()
                if self.retention is not None and now - pruned >= prune_every:
                    pruned = now
                    n = await self.source.prune(now - self.retention)
                    if n:
                        log.info("events: %d published events past the retention pruned", n)
            except Exception as exc:
                log.warning("events: cannot read the outbox's status: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), every)

    def lag(self) -> float:
        return self.status.lag(self.clock()) if self.status is not None else 0.0


async def replay(source: Source, broker: Broker, since: float, *,
                 batch: int = BATCH) -> tuple[int, int]:
    """Send every event written at or after `since` again, in order (published or not);
    (sent, duplicates the broker dropped because it still holds them)."""
    after, sent, dups = 0, 0, 0
    await broker.connect()
    games: set[str] = set()
    while True:
        rows = await source.since(since, after, batch)
        if not rows:
            return sent, dups
        for r in rows:
            game = game_of(r.subject)
            if game not in games:
                await broker.ensure_stream(game)
                games.add(game)
            dups += await broker.publish(r.subject, r.body.encode(), r.event_id)
            sent += 1
        after = rows[-1].id
