"""Liveness and readiness over HTTP: /healthz answers while the process runs; /readyz
only once the story is loaded and while the player database answers (503 with a short
JSON reason otherwise). The webhook server has both; in polling mode a small server
serves them when DIANA_HTTP_PORT is set, started before the story is read so that an
orchestrator sees "not ready" rather than nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from bot.config import Config
from bot.startup import StartupError
from engine.outbox.jetstream import BrokerError
from engine.store import Store, StoreError

log = logging.getLogger("diana.bot")

# A database that takes longer than this to answer one read is as good as unreachable
# for a player waiting on a page.
PING_TIMEOUT = 2.0

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Health:
    """What the bot has got so far: set as it starts, read by /readyz."""

    def __init__(self) -> None:
        self.content_loaded = False
        self.store: Store | None = None
        # the event broker, when the bot runs a publisher (DIANA_EVENTS); has ping()
        self.broker: Any = None

    async def problem(self) -> str | None:
        """Why the bot cannot serve players now, or None when it can."""
        if not self.content_loaded:
            return "the story is not loaded yet"
        if self.store is None:
            return "the player database is not open"
        try:
            await asyncio.wait_for(self.store.ping(), PING_TIMEOUT)
        except TimeoutError:
            return f"the player database did not answer within {PING_TIMEOUT:g}s"
        except StoreError as exc:
            return f"the player database is unusable: {exc}"
        if self.broker is not None:
            try:
                await asyncio.wait_for(self.broker.ping(), PING_TIMEOUT)
            except TimeoutError:
                return f"the event broker did not answer within {PING_TIMEOUT:g}s"
            except BrokerError as exc:
                return f"the event broker is unreachable: {exc}"
        return None


def add_routes(app: web.Application, health: Health,
               extra: dict[str, Route] | None = None) -> None:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(_: web.Request) -> web.Response:
        problem = await health.problem()
        if problem is not None:
            return web.json_response({"ok": False, "reason": problem}, status=503)
        return web.json_response({"ok": True})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    for path, route in (extra or {}).items():
        app.router.add_get(path, route)


@asynccontextmanager
async def http_server(config: Config, health: Health,
                      extra: dict[str, Route] | None = None) -> AsyncIterator[None]:
    """The polling mode's server, when DIANA_HTTP_PORT is set; nothing otherwise."""
    if config.http_port is None:
        yield
        return
    app = web.Application()
    add_routes(app, health, extra)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.http_host, config.http_port)
        try:
            await site.start()
        except OSError as exc:
            raise StartupError(f"DIANA_HTTP_PORT: cannot listen on {config.http_host}:"
                               f"{config.http_port} ({exc.strerror or exc})") from exc
        port = runner.addresses[0][1]  # the one picked when 0 was asked
        log.info("http: /healthz /readyz on http://%s:%d", config.http_host, port)
        yield
    finally:
        await runner.cleanup()
