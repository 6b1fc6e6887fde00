"""The broker: NATS JetStream through nats-py.

One stream per game, `DIANA_<GAME>` over `diana.<game>.>`, created on first use, with a
de-duplication window well past a publisher's lease: an event sent again by a publisher
that took over a dead one's lease carries the same `Nats-Msg-Id` (the event id) and is
dropped by the server, so consumers see each event once.

No reconnect buffering: nats-py would queue messages while it reconnects and send them
after the ones already lost with the old connection, out of order. A broken connection
is closed instead; the publisher's circuit breaker decides when to connect again.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import nats
from nats.errors import Error as NatsError
from nats.js.errors import BadRequestError

from engine.outbox.events import PREFIX

# Seconds within which the server drops a second message with the same id: longer than
# any lease (publisher.LEASE), so a taken-over lease never yields a duplicate.
DUPLICATE_WINDOW = 600.0
DEAD_LETTER_STREAM = "DIANA_DEAD_LETTER"
DEAD_LETTER_PREFIX = "dlq"


class BrokerError(Exception):
    """The broker did not take a message (down, slow, refused)."""


def stream_name(game: str) -> str:
    return f"DIANA_{game.upper().replace('-', '_')}"


def game_of(subject: str) -> str:
    """`diana.<game>.<kind>.<verb>` -> `<game>`."""
    parts = subject.split(".")
    if len(parts) < 3 or parts[0] != PREFIX:
        raise ValueError(f"not an event subject: {subject!r}")
    return parts[1]


async def _quiet(_: Exception) -> None:
    """nats-py logs every connection error itself; the publisher reports them instead."""


class JetStream:
    def __init__(self, url: str, *, timeout: float = 2.0, max_age: float = 0.0) -> None:
        self.url = url
        self.timeout = timeout
        self.max_age = max_age  # seconds a stream keeps messages (0: no limit)
        self._nc: Any = None
        self._js: Any = None
        self._streams: set[str] = set()

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def connect(self) -> None:
        if self.connected:
            return
        await self.close()
        try:
            self._nc = await asyncio.wait_for(nats.connect(
                self.url, allow_reconnect=False, connect_timeout=self.timeout,
                error_cb=_quiet, max_reconnect_attempts=0), self.timeout + 1)
        except (NatsError, OSError, TimeoutError) as exc:
            self._nc = None
            raise BrokerError(f"NATS at {self.url} does not answer ({_why(exc)})") from exc
        self._js = self._nc.jetstream(timeout=self.timeout)
        self._streams.clear()

    async def ensure_stream(self, game: str) -> None:
        name = stream_name(game)
        if name in self._streams:
            return
        await self._add_stream(name, [f"{PREFIX}.{game}.>"])
        self._streams.add(name)

    async def _add_stream(self, name: str, subjects: list[str]) -> None:
        await self.connect()
        try:
            await self._js.add_stream(name=name, subjects=subjects,
                                      duplicate_window=DUPLICATE_WINDOW, max_age=self.max_age)
        except BadRequestError:
            pass  # it exists with another configuration (an operator's): use it as it is
        except (NatsError, OSError, TimeoutError) as exc:
            await self.close()
            raise BrokerError(f"NATS at {self.url}: cannot create stream {name}"
                              f" ({_why(exc)})") from exc

    async def publish(self, subject: str, body: bytes, msg_id: str) -> bool:
        """Send one event and wait for the server's acknowledgement; True if the server
        already had it (a duplicate it dropped). BrokerError when it was not taken."""
        if not self.connected:
            raise BrokerError(f"NATS at {self.url} is not connected")
        try:
            ack = await self._js.publish(subject, body, headers={"Nats-Msg-Id": msg_id})
        except (NatsError, OSError, TimeoutError) as exc:
            await self.close()
            raise BrokerError(f"NATS at {self.url} did not take {subject} ({_why(exc)})"
                              ) from exc
        return bool(ack.duplicate)

    async def dead_letter(self, subject: str, body: bytes, reason: str) -> None:
        """Park a message a consumer cannot handle on `dlq.<its subject>`."""
        if DEAD_LETTER_STREAM not in self._streams:
            await self._add_stream(DEAD_LETTER_STREAM, [f"{DEAD_LETTER_PREFIX}.>"])
            self._streams.add(DEAD_LETTER_STREAM)
        try:
            await self._js.publish(f"{DEAD_LETTER_PREFIX}.{subject}", body,
                                   headers={"Diana-Reason": reason[:200]})
        except (NatsError, OSError, TimeoutError) as exc:
            await self.close()
            raise BrokerError(f"NATS at {self.url}: cannot dead-letter ({_why(exc)})") from exc

    async def ping(self) -> None:
        """Return once the server answers a round trip now; BrokerError otherwise."""
        if not self.connected:
            await self.connect()
        try:
            await self._nc.flush(timeout=self.timeout)
        except (NatsError, OSError, TimeoutError) as exc:
            await self.close()
            raise BrokerError(f"NATS at {self.url} does not answer ({_why(exc)})") from exc

    @property
    def client(self) -> Any:
        """The nats-py client, for subscriptions (tail, the sink)."""
        return self._nc

    @property
    def js(self) -> Any:
        return self._js

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            with contextlib.suppress(NatsError, OSError, TimeoutError):
                await asyncio.wait_for(nc.close(), self.timeout)


def _why(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
