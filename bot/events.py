"""The bot's own event publisher (DIANA_EVENTS=nats://…): the engine's publisher
(engine/outbox/publisher.py) run as a task beside the bot, woken by each store commit,
with its lag in /metrics and its broker in /readyz.

It shares nothing with the players' path but the database: the store never waits for it,
so a broker that is down only makes the outbox grow (the circuit breaker backs off).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from bot.config import Config
from bot.startup import StartupError
from engine.outbox.jetstream import JetStream
from engine.outbox.publisher import Publisher
from engine.store import Store, StoreError
from engine.store.open import open_outbox

log = logging.getLogger("diana.bot")


@dataclass
class Stream:
    publisher: Publisher
    tasks: list[asyncio.Task]
    broker: JetStream
    probe: JetStream  # /readyz's own connection, so a probe never races a publish

    async def close(self) -> None:
        self.publisher.stop()
        for task in self.tasks:
            with contextlib.suppress(Exception):
                await task
        await self.broker.close()
        await self.probe.close()
        await self.publisher.source.close()


async def start_events(config: Config, store: Store, health: Any, metrics: Any
                       ) -> Stream | None:
    if config.events is None:
        return None
    try:
        source = await open_outbox(config.db)
    except StoreError as exc:
        raise StartupError(str(exc)) from exc
    broker = JetStream(config.events)
    publisher = Publisher(source, broker, retention=config.events_retention)
    before = store.on_commit

    def committed(seconds: float, size: int) -> None:
        if before is not None:
            before(seconds, size)
        publisher.poke()

    store.on_commit = committed
    tasks = [asyncio.create_task(publisher.run(), name="diana-events-publisher"),
             asyncio.create_task(publisher.watch(), name="diana-events-watch")]
    probe = JetStream(config.events)
    if health is not None:
        health.broker = probe
    if metrics is not None:
        metrics.watch_outbox(publisher.lag, lambda: float(
            publisher.status.pending if publisher.status else 0))
    log.info("events: publishing the outbox to %s", config.events)
    return Stream(publisher, tasks, broker, probe)
