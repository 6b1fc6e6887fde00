"""A Telegram Bot API emulator: an aiohttp server on 127.0.0.1 that speaks the real HTTP
protocol (`/bot<TOKEN>/<method>`, JSON, urlencoded and multipart bodies) with Telegram's
limits and error shapes, plus a user side for tests.

    with EmulatorThread() as emu:            # a server on a free port, in its own thread
        env = {"BOT_TOKEN": emu.token, "TELEGRAM_API_BASE": emu.base_url}
        ...start the bot...
        emu.send_text(42, "/start")          # user 42 sends a command
        msg = emu.wait_for(lambda: emu.last_bot_message(42))
        emu.press(42, msg.message_id, msg.buttons()[0][0]["callback_data"])

Every user-side method is synchronous and thread-safe; the server runs in the
emulator's own event loop (`Emulator` can also be used directly inside a running loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from bot.testing.html import html_to_plain

T = TypeVar("T")

DEFAULT_TOKEN = "123456789:TEST-emulator-token-aaaaaaaaaaaaaaaa"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_ANSWER_TEXT = 200
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and"
                " reply markup are exactly the same as a current content and reply markup of"
                " the message")
QUERY_TOO_OLD = ("Bad Request: query is too old and response timeout expired or query ID is"
                 " invalid")
BLOCKED = "Forbidden: bot was blocked by the user"
SERVER_ERRORS = {500: "Internal Server Error", 502: "Bad Gateway",
                 503: "Service Unavailable", 504: "Gateway Timeout"}
UPDATE_TYPES = ("message", "edited_message", "callback_query", "inline_query",
                "my_chat_member", "chat_member", "chat_join_request")


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": False, "error_code": self.code,
                               "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class User:
    id: int
    first_name: str
    language_code: str | None = "en"
    username: str | None = None
    blocked: bool = False

    def api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        return out


@dataclass
class Message:
    """A message in a private chat as it is now (after edits)."""

    message_id: int
    chat_id: int
    sender: str  # "bot" or "user"
    date: int
    text: str | None = None  # as sent (HTML source when parse_mode is HTML)
    plain: str | None = None  # after entity parsing
    parse_mode: str | None = None
    reply_markup: dict | None = None
    caption: str | None = None
    photo: bytes | str | None = None
    edits: int = 0
    deleted: bool = False

    def buttons(self) -> list[list[dict[str, Any]]]:
        return copy.deepcopy((self.reply_markup or {}).get("inline_keyboard", []))

    def button_texts(self) -> list[str]:
        return [b["text"] for row in self.buttons() for b in row]

    def button(self, needle: str) -> dict[str, Any]:
        """The first button whose text contains `needle`."""
        for row in self.buttons():
            for b in row:
                if needle in b["text"]:
                    return b
        raise KeyError(f"no button with {needle!r} in {self.button_texts()}")

    @property
    def shown(self) -> str:
        """What the user reads: the parsed text or caption."""
        return self.plain if self.plain is not None else (self.caption or "")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int
    description: str | None = None
    time: float = field(default_factory=time.monotonic)


@dataclass
class Query:
    id: str
    user_id: int
    created: float
    answered: dict[str, Any] | None = None


class Emulator:
    """The server and the chat world. Use from one event loop, or through EmulatorThread."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, username: str = "diana_test_bot",
                 first_name: str = "Diana", callback_timeout: float = 15.0,
                 host: str = "127.0.0.1", port: int = 0,
                 setup_app: Callable[[web.Application, Emulator], None] | None = None
                 ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.username = username
        self.first_name = first_name
        self.callback_timeout = callback_timeout
        self.host = host
        self.port = port  # 0: a free one, known once started
        self.setup_app = setup_app  # more routes on the same server (bot.testing.webchat)
        self.lock = threading.RLock()
        self.users: dict[int, User] = {}
        self.chats: dict[int, list[Message]] = {}
        self.queries: dict[str, Query] = {}
        self.calls: list[Call] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.faults: dict[str, list[Any]] = {}  # method -> [remaining, retry_after, status]
        self.history: dict[int, dict[str, Any]] = {}
        self.pending: list[dict[str, Any]] = []
        self.redeliver: list[dict[str, Any]] = []  # replays, delivered whatever the offset
        self.allowed_updates: list[str] | None = None
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(100_001)
        self._query_ids = itertools.count(7_000_001)
        self._poll_generation = 0
        self.polls = 0  # getUpdates calls received (counted when they arrive)
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._closing = False
        self._outbox: asyncio.Queue[dict[str, Any]] | None = None
        self._sender: asyncio.Task | None = None
        self.deliveries: list[tuple[int, int | str]] = []  # webhook: (update_id, status)

    # ---- server -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._outbox = asyncio.Queue()
        self._sender = asyncio.create_task(self._deliver_loop())
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._file)
        if self.setup_app is not None:
            self.setup_app(app, self)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.base_url

    async def stop(self) -> None:
        self._closing = True
        if self._wake is not None:
            self._wake.set()
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _notify(self) -> None:
        if self._loop is None or self._wake is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._wake.set()
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closed
                self._loop.call_soon_threadsafe(self._wake.set)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        ctype = request.content_type
        if request.method == "POST" and request.can_read_body:
            if ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise bad("can't parse JSON body") from exc
                if not isinstance(body, dict):
                    raise bad("request body must be a JSON object")
                params.update(body)
            elif ctype == "multipart/form-data":
                files: dict[str, bytes] = {}
                reader = await request.multipart()
                async for part in reader:
                    if part.filename is not None:  # type: ignore[union-attr]
                        files[part.name or ""] = await part.read()  # type: ignore[union-attr]
                    else:
                        params[part.name or ""] = await part.text()  # type: ignore[union-attr]
                for key, value in list(params.items()):
                    if isinstance(value, str) and value.startswith("attach://"):
                        name = value[len("attach://"):]
                        if name not in files:
                            raise bad(f"file {name} not found in the request")
                        params[key] = files.pop(name)
                params.update(files)
            else:
                params.update(await request.post())
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        if token != self.token:
            with self.lock:  # recorded too: a test counts what a bot with a bad token tries
                self.calls.append(Call(method, {}, 401, "Unauthorized"))
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        handler = getattr(self, f"api_{method.lower()}", None)
        params: dict[str, Any] = {}
        try:
            params = await self._params(request)
            if handler is None:
                raise ApiError(404, "Not Found")
            self._fault(method)
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as exc:
            with self.lock:
                self.calls.append(Call(method, _loggable(params), exc.code, exc.description))
            return web.json_response(exc.body(), status=exc.code)
        with self.lock:
            self.calls.append(Call(method, _loggable(params), 200))
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"},
                                 status=404)

    def _fault(self, method: str) -> None:
        with self.lock:
            fault = self.faults.get(method.lower())
            if fault and fault[0] > 0:
                fault[0] -= 1
                status, retry = fault[2], fault[1]
                if status != 429:
                    raise ApiError(status, SERVER_ERRORS.get(status, "Internal Server Error"))
                raise ApiError(429, f"Too Many Requests: retry after {retry}",
                               {"retry_after": retry})

    # ---- helpers ----------------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.first_name,
                "username": self.username}

    def message_api(self, m: Message) -> dict[str, Any]:
        user = self.users.get(m.chat_id)
        chat = {"id": m.chat_id, "type": "private",
                "first_name": user.first_name if user else "User"}
        out: dict[str, Any] = {"message_id": m.message_id, "date": m.date, "chat": chat,
                               "from": self._bot_user() if m.sender == "bot" else
                               (user.api() if user else {"id": m.chat_id, "is_bot": False,
                                                        "first_name": "User"})}
        if m.photo is not None:
            out["photo"] = [{"file_id": f"photo-{m.message_id}",
                             "file_unique_id": f"u{m.message_id}", "width": 640,
                             "height": 480}]
            if m.caption:
                out["caption"] = m.caption
        elif m.plain is not None:
            out["text"] = m.plain
            if m.sender == "user" and m.plain.startswith("/"):
                length = len(m.plain.split()[0])
                out["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if m.edits:
            out["edit_date"] = m.date + m.edits
        if m.reply_markup and m.reply_markup.get("inline_keyboard"):
            out["reply_markup"] = copy.deepcopy(m.reply_markup)
        return out

    def _chat(self, params: dict[str, Any]) -> int:
        raw = params.get("chat_id")
        if raw in (None, ""):
            raise bad("chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError) as exc:
            raise bad("chat not found") from exc
        if chat_id not in self.users:
            raise bad("chat not found")
        if self.users[chat_id].blocked:
            raise ApiError(403, BLOCKED)
        return chat_id

    def _message(self, chat_id: int, params: dict[str, Any]) -> Message:
        try:
            message_id = int(params.get("message_id") or 0)
        except (TypeError, ValueError) as exc:
            raise bad("message to edit not found") from exc
        for m in self.chats.get(chat_id, []):
            if m.message_id == message_id and not m.deleted:
                return m
        raise bad("message to edit not found")

    @staticmethod
    def _text(params: dict[str, Any], key: str = "text", limit: int = MAX_TEXT,
              required: bool = True) -> tuple[str | None, str | None, str | None]:
        text = params.get(key)
        if text is None or text == "":
            if required:
                raise bad("message text is empty")
            return None, None, None
        text = str(text)
        mode = params.get("parse_mode") or None
        if mode is not None and str(mode).lower() == "html":
            try:
                plain = html_to_plain(text)
            except ValueError as exc:
                raise bad(str(exc)) from exc
        elif mode is None:
            plain = text
        elif str(mode).lower() in ("markdown", "markdownv2"):
            plain = text  # not validated: the bot under test uses HTML
        else:
            raise bad(f"unsupported parse_mode \"{mode}\"")
        if not plain.strip():
            raise bad("message text is empty" if key == "text" else "caption is empty")
        if len(plain) > limit:
            raise bad("message is too long" if key == "text" else "message caption is too long")
        return text, plain, mode

    @staticmethod
    def _markup(params: dict[str, Any]) -> dict | None:
        raw = params.get("reply_markup")
        if raw in (None, ""):
            return None
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError as exc:
                raise bad("can't parse reply keyboard markup JSON object") from exc
        if not isinstance(raw, dict):
            raise bad("can't parse reply keyboard markup JSON object")
        rows = raw.get("inline_keyboard")
        if rows is None:
            return raw  # other keyboard kinds are accepted as is
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad("field \"inline_keyboard\" of the InlineKeyboardMarkup should be an Array"
                      " of Arrays")
        if sum(len(r) for r in rows) > 100 or any(len(r) > 8 for r in rows):
            raise bad("reply markup is too long")
        for row in rows:
            for b in row:
                if not isinstance(b, dict) or not b.get("text"):
                    raise bad("can't parse inline keyboard button: Text buttons are unallowed"
                              " in the inline keyboard")
                data = b.get("callback_data")
                kinds = [k for k in ("callback_data", "url", "switch_inline_query", "pay",
                                     "web_app", "login_url", "callback_game",
                                     "switch_inline_query_current_chat", "copy_text")
                         if k in b]
                if len(kinds) != 1:
                    raise bad("can't parse inline keyboard button: Text buttons are unallowed"
                              " in the inline keyboard")
                if data is not None and (not isinstance(data, str) or not data
                                         or len(data.encode()) > MAX_CALLBACK_DATA):
                    raise bad("BUTTON_DATA_INVALID")
        return {"inline_keyboard": rows}

    def _new_message(self, chat_id: int, sender: str, **fields: Any) -> Message:
        m = Message(next(self._ids), chat_id, sender, int(time.time()), **fields)
        self.chats.setdefault(chat_id, []).append(m)
        return m

    # ---- Bot API methods ----------------------------------------------------------------

    def api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self._bot_user(), "can_join_groups": True,
                "can_read_all_group_messages": False, "supports_inline_queries": False,
                "can_connect_to_business": False, "has_main_web_app": False}

    def api_logout(self, params: dict[str, Any]) -> bool:
        return True

    def api_close(self, params: dict[str, Any]) -> bool:
        return True

    def api_deletewebhook(self, params: dict[str, Any]) -> bool:
        with self.lock:
            self.webhook = None
            if _bool(params.get("drop_pending_updates")):
                self.pending.clear()
        return True

    def api_setwebhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        if url and not url.startswith(("http://", "https://")):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad("secret token contains unallowed characters")
        with self.lock:
            self.webhook = {"url": url, "secret_token": secret} if url else None
            if self.webhook:
                for update in self.pending:
                    self._enqueue(update)
                self.pending.clear()
        return True

    def _enqueue(self, update: dict[str, Any]) -> None:
        assert self._loop is not None and self._outbox is not None
        item = copy.deepcopy(update)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._outbox.put_nowait(item)
        else:
            self._loop.call_soon_threadsafe(self._outbox.put_nowait, item)

    async def _deliver_loop(self) -> None:
        """Push updates to the webhook one at a time, retrying failures with backoff as
        Telegram does (the same update_id each time)."""
        assert self._outbox is not None
        async with aiohttp.ClientSession() as client:
            while True:
                update = await self._outbox.get()
                for attempt in range(6):
                    hook = self.webhook
                    if not hook:
                        with self.lock:
                            self.pending.append(update)
                        break
                    headers = {}
                    if hook.get("secret_token"):
                        headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
                    try:
                        async with client.post(hook["url"], json=update, headers=headers,
                                               timeout=aiohttp.ClientTimeout(total=10)) as r:
                            status: int | str = r.status
                    except (aiohttp.ClientError, TimeoutError) as exc:
                        status = type(exc).__name__
                    with self.lock:
                        self.deliveries.append((update["update_id"], status))
                    if isinstance(status, int) and status < 300:
                        break
                    await asyncio.sleep(0.2 * 2 ** attempt)

    def api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                    "pending_update_count": len(self.pending)}

    async def api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            offset = int(params.get("offset") or 0)
            limit = int(params.get("limit") or 100)
            timeout = float(params.get("timeout") or 0)
        except (TypeError, ValueError) as exc:
            raise bad("wrong parameter") from exc
        limit = min(max(limit, 1), 100)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str) and allowed:
            try:
                allowed = json.loads(allowed)
            except ValueError as exc:
                raise bad("can't parse allowed_updates") from exc
        with self.lock:
            if self.webhook:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is"
                                    " active; use deleteWebhook to delete the webhook first")
            if allowed is not None and allowed != "":
                self.allowed_updates = list(allowed) or None
            self._poll_generation += 1
            self.polls += 1
            generation = self._poll_generation
        deadline = time.monotonic() + min(timeout, 50)
        while True:
            with self.lock:
                if generation != self._poll_generation:
                    raise ApiError(409, "Conflict: terminated by other getUpdates request;"
                                        " make sure that only one bot instance is running")
                self._confirm(offset)
                wanted = self.allowed_updates
                ready = [u for u in self.pending
                         if wanted is None or next(k for k in u if k != "update_id") in wanted]
                if offset < 0:
                    ready = ready[offset:]
                if self.redeliver:
                    ready = [*self.redeliver, *ready]
                    self.redeliver.clear()
                if ready or time.monotonic() >= deadline or self._closing:
                    return copy.deepcopy(ready[:limit])
            assert self._wake is not None
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(),
                                       max(0.0, min(0.5, deadline - time.monotonic())))

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        elif offset < 0:
            self.pending = self.pending[offset:]

    def api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            chat_id = self._chat(params)
            text, plain, mode = self._text(params)
            markup = self._markup(params)
            m = self._new_message(chat_id, "bot", text=text, plain=plain, parse_mode=mode,
                                  reply_markup=markup)
            return self.message_api(m)

    def api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            chat_id = self._chat(params)
            photo = params.get("photo")
            if not photo:
                raise bad("there is no photo in the request")
            _raw, caption, mode = self._text(params, "caption", MAX_CAPTION, required=False)
            markup = self._markup(params)
            m = self._new_message(chat_id, "bot", caption=caption, photo=photo,
                                  reply_markup=markup, parse_mode=mode)
            return self.message_api(m)

    def api_sendchataction(self, params: dict[str, Any]) -> bool:
        with self.lock:
            self._chat(params)
        return True

    def api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            chat_id = self._chat(params)
            m = self._message(chat_id, params)
            if m.sender != "bot":
                raise bad("message can't be edited")
            text, plain, mode = self._text(params)
            markup = self._markup(params)
            if m.plain == plain and m.text == text and _keys(m.reply_markup) == _keys(markup):
                raise bad(NOT_MODIFIED)
            m.text, m.plain, m.parse_mode, m.reply_markup = text, plain, mode, markup
            m.edits += 1
            return self.message_api(m)

    def api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            chat_id = self._chat(params)
            m = self._message(chat_id, params)
            if m.sender != "bot":
                raise bad("message can't be edited")
            markup = self._markup(params)
            if _keys(m.reply_markup) == _keys(markup):
                raise bad(NOT_MODIFIED)
            m.reply_markup = markup
            m.edits += 1
            return self.message_api(m)

    def api_deletemessage(self, params: dict[str, Any]) -> bool:
        with self.lock:
            chat_id = self._chat(params)
            try:
                m = self._message(chat_id, params)
            except ApiError as exc:
                raise bad("message to delete not found") from exc
            m.deleted = True
        return True

    def api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        with self.lock:
            q = self.queries.get(str(params.get("callback_query_id") or ""))
            if (q is None or q.answered is not None
                    or time.monotonic() - q.created > self.callback_timeout):
                raise bad(QUERY_TOO_OLD)
            text = params.get("text") or ""
            if len(str(text)) > MAX_ANSWER_TEXT:
                raise bad("MESSAGE_TOO_LONG")
            q.answered = {"text": str(text), "show_alert": _bool(params.get("show_alert")),
                          "time": time.monotonic()}
        return True

    @staticmethod
    def _scope(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        if isinstance(scope, str):
            try:
                scope = json.loads(scope)
            except ValueError as exc:
                raise bad("can't parse BotCommandScope JSON object") from exc
        kind = scope.get("type") if isinstance(scope, dict) else None
        if kind not in ("default", "all_private_chats", "all_group_chats",
                        "all_chat_administrators", "chat", "chat_administrators",
                        "chat_member"):
            raise bad("wrong bot command scope type specified")
        lang = str(params.get("language_code") or "")
        if lang and not re.fullmatch(r"[a-z]{2}", lang):
            raise bad("invalid language code specified")
        key = json.dumps(scope, sort_keys=True)
        return key, lang

    def api_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if isinstance(commands, str):
            try:
                commands = json.loads(commands)
            except ValueError as exc:
                raise bad("can't parse commands JSON object") from exc
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad("commands must be an array of at most 100 BotCommand")
        for c in commands:
            if not isinstance(c, dict) or not COMMAND_RE.match(str(c.get("command", ""))):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", "")).strip()) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope(params)
        with self.lock:
            self.commands[key] = [{"command": c["command"], "description": c["description"]}
                                  for c in commands]
        return True

    def api_getmycommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        key = self._scope(params)
        with self.lock:
            return copy.deepcopy(self.commands.get(key, []))

    def api_deletemycommands(self, params: dict[str, Any]) -> bool:
        key = self._scope(params)
        with self.lock:
            self.commands.pop(key, None)
        return True

    # ---- the user side (thread-safe) ----------------------------------------------------

    def user(self, user_id: int, first_name: str = "Ana", language_code: str | None = "en",
             username: str | None = None) -> User:
        with self.lock:
            u = self.users.get(user_id)
            if u is None:
                u = self.users[user_id] = User(user_id, first_name, language_code, username)
                self.chats.setdefault(user_id, [])
            return u

    def _push(self, update: dict[str, Any]) -> int:
        with self.lock:
            update = {"update_id": next(self._update_ids), **update}
            self.history[update["update_id"]] = copy.deepcopy(update)
            if self.webhook:
                self._enqueue(update)
            else:
                self.pending.append(update)
        self._notify()
        return update["update_id"]

    def send_text(self, user_id: int, text: str) -> int:
        """The user sends a message (a command when it starts with /). Returns update_id."""
        with self.lock:
            self.user(user_id)
            m = self._new_message(user_id, "user", text=text, plain=text)
            data = self.message_api(m)
        return self._push({"message": data})

    def press(self, user_id: int, message_id: int, data: str, *, check: bool = True
              ) -> tuple[int, str]:
        """The user taps an inline button: a callback_query carrying the message. With
        check, the data must be on the message's current keyboard (as in a real client).
        Returns (update_id, callback query id)."""
        with self.lock:
            self.user(user_id)
            m = next((x for x in self.chats.get(user_id, []) if x.message_id == message_id),
                     None)
            if m is None:
                raise KeyError(f"no message {message_id} in chat {user_id}")
            if check and data not in [b.get("callback_data") for row in m.buttons()
                                      for b in row]:
                raise KeyError(f"{data!r} is not a button of message {message_id}")
            qid = str(next(self._query_ids))
            self.queries[qid] = Query(qid, user_id, time.monotonic())
            update = {"callback_query": {
                "id": qid, "from": self.users[user_id].api(), "message": self.message_api(m),
                "chat_instance": f"ci-{user_id}", "data": data}}
        return self._push(update), qid

    def replay(self, update_id: int) -> None:
        """Deliver an already delivered update again, with the same update_id, on the next
        getUpdates whatever its offset: what a bot sees when it crashed after handling an
        update but before confirming it (or when a webhook delivery is retried)."""
        with self.lock:
            if self.webhook:
                self._enqueue(self.history[update_id])
            else:
                self.redeliver.append(copy.deepcopy(self.history[update_id]))
        self._notify()

    def fail_next(self, method: str, times: int = 1, retry_after: int = 1,
                  status: int = 429) -> None:
        """The next `times` calls of `method` get 429 Too Many Requests (or `status`, a
        5xx: Telegram's side failing for a moment)."""
        with self.lock:
            self.faults[method.lower()] = [times, retry_after, status]

    def block(self, user_id: int, blocked: bool = True) -> None:
        with self.lock:
            self.user(user_id).blocked = blocked

    def transcript(self, chat_id: int) -> list[Message]:
        with self.lock:
            return [copy.deepcopy(m) for m in self.chats.get(chat_id, []) if not m.deleted]

    def bot_messages(self, chat_id: int) -> list[Message]:
        return [m for m in self.transcript(chat_id) if m.sender == "bot"]

    def last_bot_message(self, chat_id: int) -> Message | None:
        found = self.bot_messages(chat_id)
        return found[-1] if found else None

    def answer(self, query_id: str) -> dict[str, Any] | None:
        with self.lock:
            q = self.queries.get(query_id)
            return dict(q.answered) if q and q.answered else None

    def calls_of(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method.lower() == method.lower()]

    def confirmed(self, update_id: int) -> bool:
        """Whether the bot has confirmed (acknowledged through `offset`) an update."""
        with self.lock:
            return all(u["update_id"] != update_id for u in self.pending)

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0,
                 interval: float = 0.02, what: str = "condition") -> T:
        """Poll `predicate` until it returns something truthy (from a thread other than the
        emulator's loop)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(interval)


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _keys(markup: dict | None) -> Any:
    rows = (markup or {}).get("inline_keyboard") or []
    return json.dumps(rows, sort_keys=True)


def _loggable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (f"<{len(v)} bytes>" if isinstance(v, bytes) else v) for k, v in params.items()}


class EmulatorThread:
    """An Emulator serving from its own thread and event loop; a context manager."""

    def __init__(self, **options: Any) -> None:
        self.emulator = Emulator(**options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.emulator, name)

    def start(self) -> EmulatorThread:
        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.emulator.start())
            except BaseException as exc:  # reported to the starting thread
                self._error = exc
                loop.run_until_complete(self.emulator.stop())  # e.g. the port is taken
                loop.close()
                self._ready.set()
                return
            self._ready.set()
            loop.run_forever()
            loop.run_until_complete(self.emulator.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="botapi-emulator", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> EmulatorThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
