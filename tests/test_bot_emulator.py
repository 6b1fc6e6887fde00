"""The Bot API emulator enforces Telegram's limits and speaks its error shapes, over real
HTTP (urllib for JSON and forms; aiogram itself for multipart and long polling)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from bot.testing import EmulatorThread
from bot.testing.html import html_to_plain


@pytest.fixture(scope="module")
def emu():
    with EmulatorThread(callback_timeout=0.5) as e:
        e.user(1, "Ana")
        yield e


def call(emu, method: str, token: str | None = None, form: bool = False, **params):
    url = f"{emu.base_url}/bot{token or emu.token}/{method}"
    if form:
        body = urllib.parse.urlencode({k: v if isinstance(v, str) else json.dumps(v)
                                       for k, v in params.items()}).encode()
        ctype = "application/x-www-form-urlencoded"
    else:
        body, ctype = json.dumps(params).encode(), "application/json"
    req = urllib.request.Request(url, body, {"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def ok(emu, method: str, **params):
    status, body = call(emu, method, **params)
    assert status == 200 and body["ok"], body
    return body["result"]


def refused(emu, method: str, code: int = 400, **params) -> str:
    status, body = call(emu, method, **params)
    assert status == code and body["ok"] is False and body["error_code"] == code, body
    return body["description"]


def kb(*data: str) -> dict:
    return {"inline_keyboard": [[{"text": f"b{i}", "callback_data": d}]
                                for i, d in enumerate(data)]}


def test_auth_and_unknown_method(emu):
    assert call(emu, "getMe", token="1:wrong")[0] == 401
    assert refused(emu, "noSuchMethod", 404) == "Not Found"
    me = ok(emu, "getMe")
    assert me["is_bot"] is True and me["username"] == "diana_test_bot"


def test_send_message_limits(emu):
    assert ok(emu, "sendMessage", chat_id=1, text="x" * 4096)["text"] == "x" * 4096
    assert refused(emu, "sendMessage", chat_id=1, text="x" * 4097) == \
        "Bad Request: message is too long"
    assert refused(emu, "sendMessage", chat_id=1, text="") == "Bad Request: message text is empty"
    assert refused(emu, "sendMessage", chat_id=404, text="hi") == "Bad Request: chat not found"
    # the limit counts the text after entity parsing
    html = "<b>" + "x" * 4096 + "</b>"
    assert ok(emu, "sendMessage", chat_id=1, text=html, parse_mode="HTML")["text"] == "x" * 4096
    assert "can't parse entities" in refused(emu, "sendMessage", chat_id=1, text="<b>open",
                                             parse_mode="HTML")
    assert "Unsupported start tag" in refused(emu, "sendMessage", chat_id=1,
                                              text="a <div>b</div>", parse_mode="HTML")
    # form-encoded bodies, as aiogram sends them
    assert ok(emu, "sendMessage", form=True, chat_id="1", text="form")["text"] == "form"


def test_callback_data_is_limited_in_bytes(emu):
    ok(emu, "sendMessage", chat_id=1, text="ok", reply_markup=kb("x" * 64))
    assert refused(emu, "sendMessage", chat_id=1, text="no",
                   reply_markup=kb("x" * 65)) == "Bad Request: BUTTON_DATA_INVALID"
    # 33 Cyrillic letters are 66 bytes
    assert refused(emu, "sendMessage", chat_id=1, text="no",
                   reply_markup=kb("д" * 33)) == "Bad Request: BUTTON_DATA_INVALID"
    assert refused(emu, "sendMessage", chat_id=1, text="no", reply_markup=kb("")) == \
        "Bad Request: BUTTON_DATA_INVALID"


def test_edits(emu):
    m = ok(emu, "sendMessage", chat_id=1, text="a", reply_markup=kb("1"))
    mid = m["message_id"]
    assert "message is not modified" in refused(emu, "editMessageText", chat_id=1,
                                                message_id=mid, text="a",
                                                reply_markup=kb("1"))
    edited = ok(emu, "editMessageText", chat_id=1, message_id=mid, text="b")
    assert edited["text"] == "b" and "reply_markup" not in edited  # no markup: removed
    assert "message is not modified" in refused(emu, "editMessageReplyMarkup", chat_id=1,
                                                message_id=mid)
    ok(emu, "editMessageReplyMarkup", chat_id=1, message_id=mid, reply_markup=kb("2"))
    assert emu.transcript(1)[-1].buttons()[0][0]["callback_data"] == "2"
    assert refused(emu, "editMessageText", chat_id=1, message_id=99999, text="x") == \
        "Bad Request: message to edit not found"
    user_msg = emu.send_text(1, "hello")
    assert user_msg
    mine = emu.transcript(1)[-1]
    assert refused(emu, "editMessageText", chat_id=1, message_id=mine.message_id,
                   text="x") == "Bad Request: message can't be edited"


def test_answer_callback_query(emu):
    m = ok(emu, "sendMessage", chat_id=1, text="tap", reply_markup=kb("go"))
    _, q = emu.press(1, m["message_id"], "go")
    ok(emu, "answerCallbackQuery", callback_query_id=q, text="why", show_alert=True)
    assert {k: v for k, v in emu.answer(q).items() if k != "time"} == {"text": "why",
                                                                       "show_alert": True}
    assert "query is too old" in refused(emu, "answerCallbackQuery", callback_query_id=q)
    _, q2 = emu.press(1, m["message_id"], "go")
    assert refused(emu, "answerCallbackQuery", callback_query_id=q2, text="x" * 201) == \
        "Bad Request: MESSAGE_TOO_LONG"
    time.sleep(0.6)  # callback_timeout=0.5
    assert "query is too old" in refused(emu, "answerCallbackQuery", callback_query_id=q2)
    with pytest.raises(KeyError):
        emu.press(1, m["message_id"], "not-a-button")


def test_commands_per_language(emu):
    cmds = [{"command": "start", "description": "Begin"}]
    ok(emu, "setMyCommands", commands=cmds)
    ok(emu, "setMyCommands", commands=[{"command": "start", "description": "Empezar"}],
       language_code="es")
    assert ok(emu, "getMyCommands") == cmds
    assert ok(emu, "getMyCommands", language_code="es")[0]["description"] == "Empezar"
    assert refused(emu, "setMyCommands", commands=[{"command": "Bad-Cmd",
                                                    "description": "x"}]) == \
        "Bad Request: BOT_COMMAND_INVALID"
    assert refused(emu, "setMyCommands", commands=[{"command": "x" * 33,
                                                    "description": "x"}]) == \
        "Bad Request: BOT_COMMAND_INVALID"
    assert "language code" in refused(emu, "setMyCommands", commands=cmds,
                                      language_code="spanish")
    ok(emu, "deleteMyCommands", language_code="es")
    assert ok(emu, "getMyCommands", language_code="es") == []


def test_429_and_blocked(emu):
    emu.fail_next("sendMessage", times=2, retry_after=3)
    for _ in range(2):
        status, body = call(emu, "sendMessage", chat_id=1, text="hi")
        assert status == 429 and body["parameters"] == {"retry_after": 3}
        assert body["description"] == "Too Many Requests: retry after 3"
    ok(emu, "sendMessage", chat_id=1, text="hi")
    emu.user(2, "Blocker")
    emu.block(2)
    assert refused(emu, "sendMessage", 403, chat_id=2, text="hi") == \
        "Forbidden: bot was blocked by the user"
    emu.block(2, False)
    ok(emu, "sendMessage", chat_id=2, text="hi again")


def test_get_updates_offset_timeout_and_allowed_updates(emu):
    # drain whatever earlier tests produced
    pending = ok(emu, "getUpdates", timeout=0)
    if pending:
        ok(emu, "getUpdates", offset=pending[-1]["update_id"] + 1, timeout=0)
    t0 = time.monotonic()
    assert ok(emu, "getUpdates", timeout=1) == []
    assert time.monotonic() - t0 >= 0.9
    first = emu.send_text(1, "/start")
    second = emu.send_text(1, "hello")
    got = ok(emu, "getUpdates", timeout=5)
    assert [u["update_id"] for u in got] == [first, second]
    msg = got[0]["message"]
    assert msg["entities"][0]["type"] == "bot_command" and msg["from"]["is_bot"] is False
    got = ok(emu, "getUpdates", offset=second, timeout=0)
    assert [u["update_id"] for u in got] == [second]
    assert ok(emu, "getUpdates", offset=second + 1, timeout=0) == []
    # allowed_updates filters (and is remembered)
    m = ok(emu, "sendMessage", chat_id=1, text="tap", reply_markup=kb("go"))
    emu.press(1, m["message_id"], "go")
    text_update = emu.send_text(1, "only this")
    got = ok(emu, "getUpdates", offset=second + 1, timeout=0, allowed_updates=["message"])
    assert [u["update_id"] for u in got] == [text_update]
    got = ok(emu, "getUpdates", offset=text_update + 1, timeout=0, allowed_updates=[])
    assert got == []  # the callback query was confirmed along with the offset
    # a long poll wakes up as soon as an update arrives
    t0 = time.monotonic()
    threading_send(emu, 0.3)
    got = ok(emu, "getUpdates", offset=text_update + 1, timeout=10)
    assert got and time.monotonic() - t0 < 5


def threading_send(emu, delay: float) -> None:
    import threading

    threading.Timer(delay, lambda: emu.send_text(1, "late")).start()


def test_aiogram_against_the_emulator_multipart_and_errors(emu):
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
    from aiogram.types import BufferedInputFile

    async def run() -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
        bot = Bot(emu.token, session=session)
        try:
            me = await bot.get_me()
            assert me.is_bot and me.username == "diana_test_bot"
            sent = await bot.send_photo(1, BufferedInputFile(b"\x89PNG fake", "p.png"),
                                        caption="a picture")
            assert sent.photo and sent.caption == "a picture"
            assert emu.transcript(1)[-1].photo == b"\x89PNG fake"
            with pytest.raises(TelegramBadRequest, match="message is too long"):
                await bot.send_message(1, "x" * 5000)
            emu.fail_next("sendMessage", 1, 7)
            with pytest.raises(TelegramRetryAfter) as info:
                await bot.send_message(1, "hi")
            assert info.value.retry_after == 7
        finally:
            await bot.session.close()

    asyncio.run(run())


def test_two_pollers_conflict(emu):
    import threading

    results = {}

    def first():
        results["first"] = call(emu, "getUpdates", offset=10**9, timeout=3)

    t = threading.Thread(target=first)
    t.start()
    time.sleep(0.3)
    ok(emu, "getUpdates", offset=10**9, timeout=0)
    t.join(5)
    status, body = results["first"]
    assert status == 409 and "terminated by other getUpdates request" in body["description"]


def test_html_parser():
    assert html_to_plain("<b>a</b> &lt;b&gt; &amp; <i>c</i>") == "a <b> & c"
    assert html_to_plain("5 & 6") == "5 & 6"
    for bad in ("<b>x", "x</b>", "<b><i>x</b></i>", "<p>x</p>", "a < b", "&nope;"):
        with pytest.raises(ValueError, match="can't parse entities"):
            html_to_plain(bad)
