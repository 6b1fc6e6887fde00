"""Prometheus metrics, served at /metrics (docs/ops/metrics.md lists them). Each bot has
its own registry rather than the library's global one, so that a process holds exactly
one bot's numbers and the tests can build as many as they like."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)

from engine.game import Game

# From a 5 ms page (a tap in memory, durability normal) to a 10 s one (Telegram slow,
# a retry after a 429)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# The store's batches hold 1 to max_batch (512) actions
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        process_collector.ProcessCollector(registry=r)
        platform_collector.PlatformCollector(registry=r)
        gc_collector.GCCollector(registry=r)
        self.updates = Counter("diana_updates", "Updates handled, by kind (message,"
                               " callback_query, ...) and result (ok, error, rate_limited,"
                               " unhandled).", ["kind", "result"], registry=r)
        self.rate_limited = Counter("diana_rate_limited_updates", "Updates dropped by the"
                                    " per-user flood limit, by kind.", ["kind"], registry=r)
        self.duplicates = Counter("diana_duplicate_updates", "Copies of updates skipped:"
                                  " handled already, or being handled by another worker.",
                                  registry=r)
        self.rate_limit_failures = Counter("diana_rate_limit_failures", "Updates let"
                                           " through because the shared rate-limit counter"
                                           " could not be reached.", registry=r)
        self.unavailable = Counter("diana_store_unavailable", "Updates answered \"try again"
                                   " in a moment\" because the database could not be"
                                   " reached.", registry=r)
        self.errors = Counter("diana_errors", "Errors by code: a store refusal's code"
                              " (stale, locked, cannot-afford, ...) or `exception` for an"
                              " update whose handler failed.", ["code"], registry=r)
        self.page = Histogram("diana_page_seconds", "From an update's arrival to its page"
                              " sent.", buckets=LATENCY_BUCKETS, registry=r)
        self.step = Histogram("diana_step_seconds", "One action applied by the store:"
                              " queued, stepped, committed.", buckets=LATENCY_BUCKETS,
                              registry=r)
        self.commit = Histogram("diana_store_commit_seconds", "One store batch written and"
                                " committed.", buckets=LATENCY_BUCKETS, registry=r)
        self.batch = Histogram("diana_store_batch_size", "Actions per store batch.",
                               buckets=BATCH_BUCKETS, registry=r)
        self.outbox_lag = Gauge("diana_outbox_lag_seconds", "How long the oldest event not"
                                " yet sent to the broker has waited (0: none waits; read"
                                " every 2 s by the bot's publisher).", registry=r)
        self.outbox_pending = Gauge("diana_outbox_pending", "Events in the outbox not yet"
                                    " sent to the broker.", registry=r)
        self.content = Gauge("diana_content_info", "The story being played: 1 for its"
                             " version and digest.", ["version", "digest"], registry=r)

    def committed(self, seconds: float, size: int) -> None:
        """The store's hook: one call per batch."""
        self.commit.observe(seconds)
        self.batch.observe(size)

    def watch_outbox(self, lag: Callable[[], float], pending: Callable[[], float]) -> None:
        """Read the outbox's lag and size from the publisher at each scrape."""
        self.outbox_lag.set_function(lag)
        self.outbox_pending.set_function(pending)

    def content_loaded(self, game: Game) -> None:
        self.content.clear()
        self.content.labels(game.content.version, game.content.digest[:12]).set(1)

    async def route(self, _: web.Request) -> web.Response:
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
