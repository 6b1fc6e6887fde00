"""Outer middlewares: in-flight tracking (for draining at shutdown) and a per-user flood
limit (aiogram 3 has none built in). A throttled callback is still answered, so the
client's spinner stops; a flood is told once per window and then dropped."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import CallbackQuery, Message, TelegramObject, Update

from bot.i18n import pick_locale, t
from bot.logs import handling, note_result
from bot.service import Diana
from bot.telegram import safe

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


class FloodMiddleware(BaseMiddleware):
    """At most `count` updates per `window` seconds per user."""

    def __init__(self, diana: Diana, count: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.diana = diana
        self.count = count
        self.window = window
        self.clock = clock
        self.seen: dict[int, deque[float]] = {}
        self.warned: dict[int, float] = {}

    def allow(self, user_id: int) -> bool:
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
                self.warned.pop(uid, None)
        return True

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        user = getattr(event, "from_user", None)
        if user is None or self.allow(user.id):
            return await handler(event, data)
        note_result("rate_limited")
        self.diana.metrics.rate_limited.labels(
            "callback_query" if isinstance(event, CallbackQuery) else "message").inc()
        now = self.clock()
        first = now - self.warned.get(user.id, -1e9) > self.window
        if first:
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
