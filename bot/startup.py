"""The bot's first calls to Telegram at start, turned into one clear sentence when they
fail: a refused token, an unreachable or wrong TELEGRAM_API_BASE. Failures that can pass
by themselves (network errors, 5xx, 429) are retried with a doubling backoff, a bounded
number of times (DIANA_START_RETRIES, DIANA_START_BACKOFF); a refused token never is."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import User

from bot.config import Config
from bot.telegram import NotBotApiAnswer
from bot.transport import HttpError

log = logging.getLogger("diana.bot")
T = TypeVar("T")

MAX_BACKOFF = 30.0  # seconds: the doubling stops here
MAX_RETRY_AFTER = 60  # a 429 asking for a longer wait is given up at once
REQUEST_TIMEOUT = 15  # seconds for each start call (aiogram's default is 60)


class StartupError(Exception):
    """The bot cannot start (bad content, unusable database, Telegram refuses or cannot be
    reached); the message says why in one sentence."""


def api_name(config: Config) -> str:
    return (f"TELEGRAM_API_BASE {config.api_base}" if config.api_base
            else "Telegram (https://api.telegram.org; set TELEGRAM_API_BASE for another)")


def _reason(exc: TelegramNetworkError) -> str:
    """What the network said, in a few words."""
    cause = exc.__cause__
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, TimeoutError) or "timeout" in exc.message.lower():
        return "no answer in time"
    if isinstance(cause, socket.gaierror):
        return f"host not found: {cause.strerror or cause}"
    if isinstance(cause, ssl.SSLError):
        return f"TLS failed: {cause.reason or cause}"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror[:1].lower() + cause.strerror[1:]
    if isinstance(cause, HttpError):
        return str(cause)
    return exc.message


def _status(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def _server_status(description: str) -> str:
    """A 5xx as "503 Service Unavailable": the Bot API's error names the status only by its
    phrase."""
    for status in HTTPStatus:
        if status >= 500 and status.phrase.lower() == description.strip().lower():
            return _status(status)
    return f"a server error ({description})"


async def call(config: Config, make: Callable[[], Awaitable[T]], what: str) -> T:
    """Await `make()` (a Bot API call made at start), retrying what can pass by itself;
    anything else, or the last transient failure, is a StartupError."""
    delay = config.start_backoff
    attempts = config.start_retries + 1
    where = api_name(config)
    for attempt in range(1, attempts + 1):
        detail = ""
        try:
            return await make()
        except TelegramUnauthorizedError as exc:
            raise StartupError("BOT_TOKEN was refused by Telegram (401 Unauthorized); check"
                               " the token from @BotFather") from exc
        except TelegramNotFound as exc:
            raise StartupError(f"BOT_TOKEN or {where} is wrong: {what} answered 404 Not"
                               " Found; check the token from @BotFather"
                               + (" and the URL" if config.api_base else "")) from exc
        except NotBotApiAnswer as exc:
            raise StartupError(f"{where} does not answer as the Bot API does ({what}:"
                               f" HTTP {_status(exc.status)}, not Bot API JSON); check the"
                               " URL") from exc
        except ClientDecodeError as exc:
            raise StartupError(f"{where} does not answer as the Bot API does ({what}:"
                               f" {exc.message})") from exc
        except TelegramNetworkError as exc:
            clause, detail, wait = "is unreachable", _reason(exc), delay
            advice = "" if config.api_base else "check the network"
        except TelegramRetryAfter as exc:
            clause = f"kept answering {what} with 429 Too Many Requests"
            detail, advice = f"retry after {exc.retry_after} s", "try again later"
            if exc.retry_after > MAX_RETRY_AFTER:
                raise StartupError(f"{where} {clause} ({detail}); {advice}") from exc
            wait = max(delay, float(exc.retry_after))
        except TelegramServerError as exc:
            clause, wait = f"answered {_server_status(exc.message)}", delay
            advice = "Telegram may be down for a moment: try again later"
        except TelegramAPIError as exc:
            raise StartupError(f"{where} refused {what}: {exc.message}") from exc
        if attempt == attempts:
            break
        log.debug("%s: %s %s%s; retrying in %.2g s (attempt %d of %d)", what, where, clause,
                  f" ({detail})" if detail else "", wait, attempt, attempts)
        await asyncio.sleep(wait)
        delay = min(delay * 2, MAX_BACKOFF)
    tried = f"{attempts} attempt{'s' if attempts > 1 else ''}"
    raise StartupError(f"{where} {clause} ({detail + '; ' if detail else ''}{tried})"
                       + (f"; {advice}" if advice else ""))


async def check_telegram(bot: Bot, config: Config) -> User:
    """getMe: is the token accepted, and does the API base answer?"""
    return await call(config, lambda: bot.get_me(request_timeout=REQUEST_TIMEOUT), "getMe")
