"""The lean Bot API HTTP client (bot.transport) against a scripted server on loopback:
keep-alive reuse, the ways a response can end, broken servers, time-outs, the limit."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import ClientDecodeError, TelegramBadRequest, TelegramNetworkError
from aiogram.methods import GetMe

from bot.telegram import AnswerQuery, JsonSession, SendPage, page_params
from bot.transport import HttpError, HttpPool

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwx"
OK = b'{"ok":true,"result":true}'
CLOSE = b""

# A reply script: given the request's line, headers and body, the bytes to send back, in
# writes (CLOSE among them closes the connection there); None closes it without a word.
Script = Callable[[str, dict[str, str], bytes], Awaitable[list[bytes] | None]]


def sync(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))
    return run


def reply(body: bytes = OK, status: str = "200 OK", extra: str = "") -> list[bytes]:
    return [f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n".encode() + body]


class Server:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.open = 0
        self.most_open = 0
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

    async def __aenter__(self) -> Server:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        self.base = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                line, *rest = head.decode().split("\r\n")
                headers = {k.lower(): v.strip() for k, _, v in
                           (h.partition(":") for h in rest if h)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((line, headers, body))
                parts = await self.script(line, headers, body)
                if parts is None:
                    return
                for part in parts:
                    if part == CLOSE:
                        return
                    writer.write(part)
                    await writer.drain()
                    await asyncio.sleep(0.01)
        finally:
            self.open -= 1
            writer.close()


async def ok_script(line: str, headers: dict[str, str], body: bytes) -> list[bytes]:
    return reply(b'{"ok":true,"result":' + body + b"}")


@sync
async def test_requests_reuse_one_connection_and_send_a_proper_request():
    async with Server(ok_script) as srv:
        pool = HttpPool(srv.base)
        for i in range(3):
            status, body = await pool.post("/bot1/getMe?x=1", b'{"n":%d}' % i,
                                           "application/json", 5)
            assert (status, body) == (200, b'{"ok":true,"result":{"n":%d}}' % i)
        await pool.close()
    assert srv.connections == 1
    line, headers, body = srv.requests[0]
    assert line == "POST /bot1/getMe?x=1 HTTP/1.1"
    assert headers["host"] == srv.base.removeprefix("http://")
    assert headers["content-type"] == "application/json"
    assert (headers["content-length"], body) == ("7", b'{"n":0}')


@sync
async def test_a_chunked_body_in_pieces_with_trailers():
    async def script(*_: object) -> list[bytes]:
        return [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n",
                b'{"ok\r\n', b"15;ext=1\r\n", b'":true,"result":true}\r\n', b"0\r\nX-T: 1\r\n",
                b"\r\n"]

    async with Server(script) as srv:
        pool = HttpPool(srv.base)
        assert await pool.post("/a", b"{}", "application/json", 5) == (200, OK)
        assert await pool.post("/a", b"{}", "application/json", 5) == (200, OK)
        await pool.close()
    assert srv.connections == 1


@sync
async def test_connection_close_and_a_body_up_to_the_end_of_the_stream():
    answers = iter([reply(extra="Connection: close\r\n"),
                    [b"HTTP/1.0 200 OK\r\n\r\n" + OK, CLOSE], None])

    async def script(*_: object) -> list[bytes] | None:
        parts = next(answers)
        return parts

    async with Server(script) as srv:
        pool = HttpPool(srv.base)
        assert await pool.post("/a", b"{}", "application/json", 5) == (200, OK)
        assert await pool.post("/a", b"{}", "application/json", 5) == (200, OK)
        assert srv.connections == 2  # the server said close: a new connection
        with pytest.raises(HttpError, match="closed the connection"):
            await pool.post("/a", b"{}", "application/json", 5)
        await pool.close()


@sync
async def test_an_interim_response_is_skipped_and_errors_keep_their_status():
    async def script(*_: object) -> list[bytes]:
        return [b"HTTP/1.1 100 Continue\r\n\r\n",
                *reply(b'{"ok":false,"error_code":400,"description":"Bad Request: no"}',
                       "400 Bad Request")]

    async with Server(script) as srv:
        pool = HttpPool(srv.base)
        status, body = await pool.post("/a", b"{}", "application/json", 5)
        assert status == 400 and b"no" in body
        await pool.close()


@pytest.mark.parametrize("answer, message", [
    ([b"SSH-2.0-OpenSSH\r\n\r\n"], "not an HTTP/1.x response"),
    ([b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"], "bad Content-Length"),
    ([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"], "bad chunk size"),
    ([b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{}", CLOSE], "inside the body"),
])
@sync
async def test_a_broken_answer_is_an_error_and_the_pool_recovers(answer, message):
    answers = iter([answer, reply()])

    async def script(*_: object) -> list[bytes] | None:
        parts = next(answers)
        return parts

    async with Server(script) as srv:
        pool = HttpPool(srv.base)
        with pytest.raises(HttpError, match=message):
            await pool.post("/a", b"{}", "application/json", 5)
        assert await pool.post("/a", b"{}", "application/json", 5) == (200, OK)
        assert srv.connections == 2
        await pool.close()


@sync
async def test_a_timeout_drops_the_connection():
    slow = asyncio.Event()

    async def script(*_: object) -> list[bytes]:
        if not slow.is_set():
            slow.set()
            await asyncio.sleep(1)
        return reply()

    async with Server(script) as srv:
        pool = HttpPool(srv.base)
        with pytest.raises(TimeoutError):
            await pool.post("/a", b"{}", "application/json", 0.2)
        assert await pool.post("/a", b"{}", "application/json", 5) == (200, OK)
        assert srv.connections == 2  # the timed-out one is never reused
        await pool.close()


@sync
async def test_the_limit_caps_open_connections():
    async def script(*_: object) -> list[bytes]:
        await asyncio.sleep(0.05)
        return reply()

    async with Server(script) as srv:
        pool = HttpPool(srv.base, limit=2)
        results = await asyncio.gather(*(pool.post("/a", b"{}", "application/json", 5)
                                         for _ in range(7)))
        assert results == [(200, OK)] * 7
        assert srv.most_open == 2 and srv.connections == 2
        await pool.close()


@sync
async def test_idle_connections_past_their_age_are_replaced():
    async with Server(ok_script) as srv:
        pool = HttpPool(srv.base, idle=0.05)
        await pool.post("/a", b"1", "application/json", 5)
        await asyncio.sleep(0.1)
        await pool.post("/a", b"2", "application/json", 5)
        assert srv.connections == 2
        await pool.close()


@sync
async def test_the_session_maps_answers_and_failures_to_aiogram_errors():
    async def script(line: str, *_: object) -> list[bytes]:
        if "answerCallbackQuery" in line:  # a proxy's page instead of the Bot API's JSON
            return reply(b"<html>502</html>")
        if "sendMessage" in line:
            return reply(b'{"ok":false,"error_code":400,"description":"Bad Request: chat'
                         b' not found"}', "400 Bad Request")
        return reply(b'{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"D",'
                     b'"username":"diana_bot"}}')

    async with Server(script) as srv:
        bot = Bot(TOKEN, session=JsonSession(api=TelegramAPIServer.from_base(srv.base)))
        me = await bot(GetMe())
        assert me.username == "diana_bot"
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot(SendPage(params=page_params(1, "<b>hi</b>", None)))
        line, _, body = srv.requests[-1]
        assert line == f"POST /bot{TOKEN}/sendMessage HTTP/1.1"
        assert body == b'{"chat_id":1,"text":"<b>hi</b>","parse_mode":"HTML"}'
        with pytest.raises(ClientDecodeError):
            await bot(AnswerQuery(params={"callback_query_id": "1"}))
        await bot.session.close()
    refused = Bot(TOKEN, session=JsonSession(api=TelegramAPIServer.from_base(srv.base)))
    with pytest.raises(TelegramNetworkError):
        await refused(GetMe())
    await refused.session.close()
