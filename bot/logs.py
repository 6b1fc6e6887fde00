"""The bot's log: text (the default) or one JSON object a line (DIANA_LOG_FORMAT=json),
each line carrying the update it was written for (id, player, action key) as far as
they are known, and never a secret: the bot token, the webhook secret and a database
password are replaced wherever they would appear, messages and tracebacks alike (an
error from a library may quote a URL with the token in it)."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import orjson

REDACTED = "[redacted]"


@dataclass
class UpdateContext:
    """The update being handled (a context variable: each update runs in its own task)."""

    update_id: int
    player: str | None = None
    action: str | None = None
    result: str = "ok"  # for the metrics: ok, error, rate_limited, unhandled, duplicate
    started: float = field(default_factory=time.perf_counter)

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 1)


current: ContextVar[UpdateContext | None] = ContextVar("diana_update", default=None)


@contextlib.contextmanager
def handling(update_id: int, player: str | None) -> Iterator[UpdateContext]:
    ctx = UpdateContext(update_id, player)
    token = current.set(ctx)
    try:
        yield ctx
    finally:
        current.reset(token)


def elapsed() -> float | None:
    """Seconds since the current update arrived (None outside one)."""
    ctx = current.get()
    return None if ctx is None else time.perf_counter() - ctx.started


def note_result(result: str) -> None:
    ctx = current.get()
    if ctx is not None:
        ctx.result = result


def note_action(key: str) -> None:
    ctx = current.get()
    if ctx is not None:
        ctx.action = key


def secrets_of(token: str, db: str, webhook_secret: str | None = None) -> list[str]:
    """What must never be logged: the token (and its secret half on its own), the
    webhook secret, the database URL's password."""
    found = [token, token.partition(":")[2], webhook_secret or ""]
    with contextlib.suppress(ValueError):
        found.append(urlsplit(db).password or "")
    # Longest first, so a secret that contains another is replaced whole
    return sorted({s for s in found if len(s) >= 4}, key=len, reverse=True)


class _Scrubbing(logging.Formatter):
    def __init__(self, secrets: Iterable[str], fmt: str | None = None) -> None:
        super().__init__(fmt)
        self.secrets = list(secrets)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


class TextFormatter(_Scrubbing):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__(secrets, "%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ctx = current.get()
        if ctx is not None:
            first, nl, rest = text.partition("\n")
            where = f" [update {ctx.update_id}" + (f" {ctx.player}" if ctx.player else "") + \
                (f" {ctx.action}" if ctx.action else "") + "]"
            text = first + where + nl + rest
        return self.scrub(text)


class JsonFormatter(_Scrubbing):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.scrub(record.getMessage()),
        }
        ctx = current.get()
        if ctx is not None:
            line["update_id"] = ctx.update_id
            if ctx.player:
                line["player"] = ctx.player
            if ctx.action:
                line["action"] = ctx.action
        latency = getattr(record, "latency_ms", None)
        if latency is not None:
            line["latency_ms"] = latency
        if record.exc_info:
            line["error"] = self.scrub(self.formatException(record.exc_info))
        return orjson.dumps(line).decode()


def setup(level: str, fmt: str, secrets: Iterable[str]) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(secrets) if fmt == "json" else TextFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
