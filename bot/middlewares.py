"""Outer middlewares: in-flight tracking (for draining at shutdown), the update-id ledger
(each update handled once, whichever process its copies reach) and a per-user flood limit
(aiogram 3 has none built in). A throttled callback is still answered, so the client's
spinner stops; a flood is told once per window and then dropped."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import CallbackQuery, Message, TelegramObject, Update

from bot.i18n import pick_locale, t
from bot.logs import handling, note_result
from bot.ratelimit import Limiter
from bot.service import Diana
from bot.telegram import safe
from engine.store import StoreError

log = logging.getLogger("diana.bot")
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class InflightMiddleware(BaseMiddleware):
    """Tracks the update for the drain at shutdown, and for the log: its id and player on
    every line written while it is handled, and one line with its latency at the end."""

    def __init__(self, diana: Diana) -> None:
        self.diana = diana

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        user = None
        if isinstance(event, Update):
            inner = event.message or event.callback_query
            user = inner.from_user if inner is not None else None
        update_id = event.update_id if isinstance(event, Update) else 0
        with self.diana.inflight(), \
                handling(update_id, self.diana.player_id(user.id) if user else None) as ctx:
            try:
                result = await handler(event, data)
                if result is UNHANDLED:
                    ctx.result = "unhandled"
                return result
            except BaseException:
                ctx.result = "error"
                raise
            finally:
                kind = event.event_type if isinstance(event, Update) else "other"
                self.diana.metrics.updates.labels(kind, ctx.result).inc()
                log.info("update %s handled in %.1f ms", update_id, ctx.elapsed_ms(),
                         extra={"latency_ms": ctx.elapsed_ms()})


# How long a claim on an update holds off its copies. Handling takes milliseconds (seconds
# under load or with the database away); a worker killed mid-update leaves its claim
# until then, and a copy arriving later is handled. Longer than any handler would be
# safer against doubles, shorter loses less after a crash: actions are exactly-once by
# their own keys whatever this is, so it only decides about duplicate messages.
LEASE = 10.0


class UpdateLedgerMiddleware(BaseMiddleware):
    """Handles an update only once its id is claimed in the database (the store's
    update-id ledger): a copy delivered again, to this process or another, is skipped.
    A failed update's claim is given up, so that a copy delivered later is handled."""

    def __init__(self, diana: Diana, lease: float = LEASE) -> None:
        self.diana = diana
        self.lease = lease
        # host:pid, and a few random bytes: a container's process restarted in place has
        # the same host name and pid as the one that died holding claims
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        store, uid = self.diana.store, event.update_id
        # The database away (StoreUnavailable) fails the update here, answered "try again
        # in a moment": handled unclaimed, a copy handled elsewhere could be shown twice.
        claimed = await store.claim_update(uid, self.owner, self.lease)
        if not claimed:
            note_result("duplicate")
            self.diana.metrics.duplicates.inc()
            log.info("update %s was handled already or is being handled elsewhere", uid)
            return None
        try:
            result = await handler(event, data)
        except BaseException:
            await self._finish(uid, done=False)
            raise
        await self._finish(uid, done=True)
        return result

    async def _finish(self, update_id: int, done: bool) -> None:
        try:
            await self.diana.store.finish_update(update_id, self.owner, done=done)
        except StoreError as exc:  # the claim runs out by itself
            log.warning("update %s: could not record it as %s: %s", update_id,
                        "handled" if done else "failed", exc)


class FloodMiddleware(BaseMiddleware):
    """At most so many updates per window per user, as `limiter` counts them."""

    def __init__(self, diana: Diana, limiter: Limiter, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.diana = diana
        self.limiter = limiter
        self.window = window
        self.clock = clock
        self.warned: dict[int, float] = {}

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        user = getattr(event, "from_user", None)
        if user is None or await self.limiter.allow(user.id):
            return await handler(event, data)
        note_result("rate_limited")
        self.diana.metrics.rate_limited.labels(
            "callback_query" if isinstance(event, CallbackQuery) else "message").inc()
        now = self.clock()
        first = now - self.warned.get(user.id, -1e9) > self.window
        if first:
            if len(self.warned) > 50_000:  # forget users warned long ago
                self.warned = {u: w for u, w in self.warned.items()
                               if now - w <= self.window}
            self.warned[user.id] = now
            log.info("flood from user %s: dropping updates for a while", user.id)
        m = self.diana.game.content.manifest
        locale = pick_locale(user.language_code, m.locales, m.default_locale)
        text = t(locale, "flood")
        if isinstance(event, CallbackQuery):
            await safe(event.answer(text if first else None), "answerCallbackQuery(flood)")
        elif isinstance(event, Message) and first:
            await safe(event.answer(text), "sendMessage(flood)")
        return None
