"""Talking to Telegram safely: retry after 429, and the expected failures of a game bot
(double taps, old queries, users who blocked the bot) handled as the normal events they are."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

log = logging.getLogger("diana.bot")
T = TypeVar("T")

# Bad Requests that mean "nothing to do": an identical edit (a double tap), an answer to a
# query already answered or expired, a message that is gone or too old to edit.
HARMLESS = ("message is not modified", "query is too old", "query id is invalid",
            "message to edit not found", "message can't be edited",
            "message to delete not found", "message can't be deleted")


class RetryAfterMiddleware(BaseRequestMiddleware):
    """On 429 Too Many Requests, wait `retry_after` seconds and send again (aiogram 3
    raises TelegramRetryAfter and never retries by itself)."""

    def __init__(self, attempts: int = 3, max_wait: float = 60.0) -> None:
        self.attempts = attempts
        self.max_wait = max_wait

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt == self.attempts or exc.retry_after > self.max_wait:
                    raise
                log.warning("429 on %s: retrying after %ss (attempt %d)",
                            method.__api_method__, exc.retry_after, attempt)
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")


async def safe(call: Awaitable[T], what: str = "request") -> T | None:
    """Await a Bot API call; the expected failures are logged and give None."""
    try:
        return await call
    except TelegramBadRequest as exc:
        text = exc.message.lower()
        if any(h in text for h in HARMLESS):
            log.debug("%s: %s (ignored)", what, exc.message)
        else:
            log.warning("%s refused: %s", what, exc.message)
        return None
    except TelegramForbiddenError as exc:
        log.info("%s: %s", what, exc.message)  # blocked by the user, or kicked
        return None
    except TelegramRetryAfter as exc:
        log.warning("%s: still rate limited after retries (retry after %ss)", what,
                    exc.retry_after)
        return None
    except TelegramNetworkError as exc:
        log.warning("%s: network error: %s", what, exc)
        return None
