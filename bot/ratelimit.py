"""The per-user rate limit's counters: in this process (one bot on SQLite), or in the
database shared by every worker (PostgreSQL), so that a player whose updates are spread
over N workers still gets `count` per window, not N times that.

The shared one fails open: when the database cannot count, updates are let through
(the flood limit protects the bot, it must not lock players out while the database is
away; their actions then fail on their own with "try again in a moment"). Each such
update is counted in diana_rate_limit_failures; the first of an outage is logged."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from bot.metrics import Metrics
from engine.store import StoreError

log = logging.getLogger("diana.bot")


class Limiter(Protocol):
    async def allow(self, user_id: int) -> bool: ...


class MemoryLimiter:
    """At most `count` updates in any `window` seconds per user (a sliding log)."""

    def __init__(self, count: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.count = count
        self.window = window
        self.clock = clock
        self.seen: dict[int, deque[float]] = {}

    async def allow(self, user_id: int) -> bool:
        now = self.clock()
        times = self.seen.setdefault(user_id, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        if len(times) >= self.count:
            return False
        times.append(now)
        if len(self.seen) > 50_000:  # forget idle users
            for uid in [u for u, q in self.seen.items() if not q or now - q[-1] > self.window]:
                self.seen.pop(uid, None)
        return True


class Counter(Protocol):
    async def rate_hit(self, subject: str, window: float) -> int: ...


class SharedLimiter:
    """At most `count` updates per user in each fixed `window`-second window, counted in
    the database (PgStore.rate_hit). A fixed window lets up to twice `count` through
    across a window's edge: enough against floods, at one statement per update."""

    def __init__(self, counter: Counter, count: int, window: float,
                 metrics: Metrics) -> None:
        self.counter = counter
        self.count = count
        self.window = window
        self.metrics = metrics
        self.failing = False

    async def allow(self, user_id: int) -> bool:
        try:
            hits = await self.counter.rate_hit(f"tg:{user_id}", self.window)
        except StoreError as exc:
            self.metrics.rate_limit_failures.inc()
            if not self.failing:
                self.failing = True
                log.warning("rate limit: the shared counter cannot be reached (%s); letting"
                            " updates through until it can", exc)
            return True
        if self.failing:
            self.failing = False
            log.info("rate limit: the shared counter answers again")
        return hits <= self.count
