"""The webhook's request handler: a body is checked to be an Update (size, JSON, an
object, the Update's shape) before the dispatcher sees it. A body that is not one is
answered 400 (413 when too large) with one warning naming what was wrong, and nothing
reaches the handlers or the database; aiogram's own handler answered 500 with a
traceback, or 200 and a background task that failed unseen."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from aiogram import Bot
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

log = logging.getLogger("diana.bot")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# An update is at most a few tens of KB (a 4096-character message, its entities, a reply
# it quotes); ten times that leaves room and bounds what a request can make the bot hold.
MAX_UPDATE_BYTES = 256 * 1024


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number",
            bool: "a boolean", type(None): "null"}.get(type(value), type(value).__name__)


def _first_problem(exc: ValidationError) -> str:
    """`loc: message` of the first error (without the input, which may be large)."""
    errors = exc.errors(include_url=False, include_input=False)
    if not errors:
        return str(exc).splitlines()[0]
    first = errors[0]
    loc = ".".join(str(part) for part in first["loc"]) or "the update"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{loc}: {first['msg']}{more}"


class UpdateRequestHandler(SimpleRequestHandler):
    """aiogram's handler for one bot, with the body checked before it is handled (in the
    background, as aiogram does: Telegram gets its answer at once)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, handle_in_background=True, **kwargs)

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), bot):
            return web.Response(body="Unauthorized", status=401)
        size = request.content_length
        if size is not None and size > MAX_UPDATE_BYTES:
            return self.refuse(request, 413, f"a body of {size} bytes, larger than the"
                                             f" {MAX_UPDATE_BYTES} an update may have")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:  # no Content-Length (chunked), and too long
            return self.refuse(request, 413, f"a body larger than the {MAX_UPDATE_BYTES}"
                                             " bytes an update may have")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return self.refuse(request, 400, f"the body is not JSON ({exc})")
        if not isinstance(data, dict):
            return self.refuse(request, 400, f"the body is not a JSON object but {_kind(data)}")
        try:
            update = Update.model_validate(data, context={"bot": bot})
        except ValidationError as exc:
            return self.refuse(request, 400, f"the body is not an Update: {_first_problem(exc)}")
        task = asyncio.create_task(self._feed(bot, update))
        self._background_feed_update_tasks.add(task)
        task.add_done_callback(self._done)
        return web.json_response({})

    async def _feed(self, bot: Bot, update: Update) -> None:
        result = await self.dispatcher.feed_update(bot, update, **self.data)
        if isinstance(result, TelegramMethod):
            await self.dispatcher.silent_call_request(bot=bot, result=result)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._background_feed_update_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The dispatcher's error handler saw handler failures already: this is the rest
            exc = task.exception()
            log.error("webhook: an update failed outside its handlers: %s", exc, exc_info=exc)

    @staticmethod
    def refuse(request: web.Request, status: int, why: str) -> web.Response:
        log.warning("webhook: refused a request from %s (%d): %s", request.remote, status, why)
        return web.json_response({"ok": False, "description": why}, status=status)
