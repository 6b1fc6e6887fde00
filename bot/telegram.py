"""Talking to Telegram safely: retry after 429, and the expected failures of a game bot
(double taps, old queries, users who blocked the bot) handled as the normal events they are."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from http import HTTPStatus
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import orjson
from aiogram import Bot, methods
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

from bot.transport import HttpError, HttpPool

log = logging.getLogger("diana.bot")
T = TypeVar("T")

# Bad Requests that mean "nothing to do": an identical edit (a double tap), an answer to a
# query already answered or expired, a message that is gone or too old to edit.
HARMLESS = ("message is not modified", "query is too old", "query id is invalid",
            "message to edit not found", "message can't be edited",
            "message to delete not found", "message can't be deleted")


_PINNED: dict[str, type] = {}


def pin_response_types() -> None:
    """Keep every `Response[T]` a Bot API call parses its answer with alive.

    aiogram builds `Response[method.__returning__]` inside `check_response` on every call;
    pydantic caches parametrised models in a WeakValueDictionary, and one built inside a
    function is held only by its own reference cycles. So each full garbage collection
    dropped them all, and the next call of each kind rebuilt its model (measured: 5-15 ms
    each, about one call in 17 under load, the main source of the bot's latency spikes).
    Holding them makes every call a cache hit."""
    if _PINNED:
        return
    for method in (*(getattr(methods, name) for name in methods.__all__), JsonCall):
        if isinstance(method, type) and issubclass(method, TelegramMethod) \
                and method is not TelegramMethod:
            key = repr(method.__returning__)
            if key not in _PINNED:
                _PINNED[key] = Response[method.__returning__]


class JsonCall(TelegramMethod[dict[str, Any] | bool]):
    """A hot Bot API call whose parameters the bot builds as JSON itself, answered as JSON.

    A tap makes three calls (answer, page, strip). As aiogram methods each was validated by
    pydantic, keyboard included, then turned back into JSON by aiogram's serialiser
    (measured: the bot's CPU per update fell from 0.89 to 0.73 ms without them, at 100
    players). The answer stays JSON too: the page's sender needs only its message_id."""

    __returning__ = dict[str, Any] | bool
    __api_method__ = ""

    params: dict[str, Any]


class SendPage(JsonCall):
    __api_method__ = "sendMessage"


class EditPage(JsonCall):
    __api_method__ = "editMessageText"


class StripKeyboard(JsonCall):
    __api_method__ = "editMessageReplyMarkup"


class EditKeyboard(JsonCall):
    """Another keyboard page of the same choices (more…, back) in place of the shown one."""

    __api_method__ = "editMessageReplyMarkup"


class AnswerQuery(JsonCall):
    __api_method__ = "answerCallbackQuery"


def page_params(chat_id: int, text: str, keyboard: dict[str, Any] | None,
                message_id: int | None = None) -> dict[str, Any]:
    """sendMessage (or, with message_id, editMessageText) of an HTML page."""
    params: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
    if message_id is not None:
        params["message_id"] = message_id
    if keyboard is not None:
        params["reply_markup"] = keyboard
    return params


# What JsonCall and aiogram's answerCallbackQuery return.
RAW_RESULTS = frozenset({bool, dict[str, Any] | bool})


class NotBotApiAnswer(ClientDecodeError):
    """An answer with an error status whose body is not the Bot API's JSON."""

    def __init__(self, status: int, decode: ClientDecodeError) -> None:
        super().__init__(f"HTTP {status}, not Bot API JSON", decode.original, decode.data)
        self.status = status


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


class JsonSession(AiohttpSession):
    """aiogram's aiohttp session, sending each call as one JSON body instead of form
    fields that each hold JSON (measured: 80 µs rather than 215 µs to encode a page with
    its keyboard), over the lean keep-alive client of bot.transport. Calls that upload a
    file keep aiogram's multipart form and aiohttp."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(json_loads=orjson.loads, **kwargs)
        self._pool: HttpPool | None = None
        self._targets: dict[tuple[str, str], str] = {}

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType],
                           timeout: int | None = None) -> TelegramType:
        if isinstance(method, JsonCall):
            payload = method.params
        else:
            files: dict[str, Any] = {}
            payload = {}
            for key, value in method.model_dump(warnings=False).items():
                value = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
                if value is not None:
                    payload[key] = value
            if files:
                return await super().make_request(bot, method, timeout)
        pool, target = self._route(bot.token, method.__api_method__)
        try:
            status, raw = await pool.post(target, orjson.dumps(payload), "application/json",
                                          self.timeout if timeout is None else timeout)
        except TimeoutError as exc:
            raise TelegramNetworkError(method=method, message="Request timeout error") from exc
        except (HttpError, OSError) as exc:
            raise TelegramNetworkError(method=method,
                                       message=f"{type(exc).__name__}: {exc}") from exc
        if status == 200 and method.__returning__ in RAW_RESULTS:
            # The answer is used as JSON: no need for aiogram's Response model. Anything
            # unexpected goes on to check_response, which raises aiogram's errors.
            with contextlib.suppress(orjson.JSONDecodeError):
                data = orjson.loads(raw)
                if isinstance(data, dict) and data.get("ok") is True and "result" in data:
                    return cast(TelegramType, data["result"])
        try:
            response = self.check_response(bot=bot, method=method, status_code=status,
                                           content=raw.decode("utf-8", "replace"))
        except ClientDecodeError as exc:
            # A proxy's or a web server's page, not the Bot API's JSON: a 5xx is Telegram
            # (or its proxy) failing for a moment like any 5xx; any other status, a wrong URL.
            if status >= 500:
                raise TelegramServerError(method=method, message=_phrase(status)) from exc
            if status != 200:
                raise NotBotApiAnswer(status, exc) from exc
            raise
        return cast(TelegramType, response.result)

    def _route(self, token: str, name: str) -> tuple[HttpPool, str]:
        target = self._targets.get((token, name))
        if self._pool is None or target is None:
            url = urlsplit(self.api.api_url(token=token, method=name))
            if self._pool is None:
                self._pool = HttpPool(f"{url.scheme}://{url.netloc}",
                                      limit=self._connector_init["limit"])
            target = self._targets[(token, name)] = (url.path or "/") + (
                f"?{url.query}" if url.query else "")
        return self._pool, target

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        await super().close()


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
    except TelegramServerError as exc:  # a 5xx: Telegram's side is down for a moment
        log.warning("%s: Telegram server error: %s", what, exc.message)
        return None
