"""Bot pieces without Telegram: settings, page splitting, callback data, the `diana bot`
command's failures."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import subprocess
import sys
import weakref
from pathlib import Path

import pytest
from aiogram import methods
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods.base import Response
from aiogram.types import InlineKeyboardMarkup
from hypothesis import given
from hypothesis import strategies as st

from bot.config import ConfigError, load_config
from bot.keyboards import ChoiceCb, choice_data, screen_keyboard
from bot.telegram import (
    AnswerQuery,
    EditPage,
    SendPage,
    StripKeyboard,
    pin_response_types,
    safe,
)
from bot.testing.html import html_to_plain
from bot.views import plain_messages, split_blocks, units
from engine.model import Layout
from engine.screen import ChoiceView, Screen

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwx"


def env(**kw: str) -> dict[str, str]:
    return {"BOT_TOKEN": TOKEN, "DIANA_CONTENT": str(ROOT / "content"), **kw}


def test_config_defaults_and_values(tmp_path):
    c = load_config(env(DIANA_ADMINS="1, 22", TELEGRAM_API_BASE="http://127.0.0.1:9/",
                        DIANA_RATE_LIMIT="5/2", DIANA_LOG_LEVEL="debug", DIANA_PAGES="Edit",
                        DIANA_DURABILITY="Normal"), dotenv=tmp_path / "none")
    assert c.admins == {1, 22} and c.api_base == "http://127.0.0.1:9"
    assert (c.rate_count, c.rate_window, c.log_level) == (5, 2.0, "DEBUG")
    assert c.db == Path("diana.sqlite3") and c.pages == "edit" and c.durability == "normal"
    default = load_config(env(), dotenv=tmp_path / "none")
    assert (default.pages, default.durability) == ("new", "full")
    assert (default.http_port, default.http_host) == (None, "127.0.0.1")
    served = load_config(env(DIANA_HTTP_PORT="9100", DIANA_HTTP_HOST="0.0.0.0"),
                         dotenv=tmp_path / "none")
    assert (served.http_port, served.http_host) == (9100, "0.0.0.0")


def test_dotenv_is_read_and_environment_wins(tmp_path):
    f = tmp_path / ".env"
    f.write_text(f"# comment\nexport BOT_TOKEN='{TOKEN}'\nDIANA_ADMINS=7\n")
    c = load_config({"DIANA_CONTENT": str(ROOT / "content"), "DIANA_ADMINS": "8"}, dotenv=f)
    assert c.token == TOKEN and c.admins == {8}
    f.write_text("not a setting\n")
    with pytest.raises(ConfigError, match=r"\.env:1: expected KEY=VALUE"):
        load_config(env(), dotenv=f)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("BOT_TOKEN", "", "BOT_TOKEN is not set"),
    ("BOT_TOKEN", "nope", "BOT_TOKEN is malformed"),
    ("DIANA_ADMINS", "1,bob", "'bob' is not one"),
    ("DIANA_RATE_LIMIT", "fast", "DIANA_RATE_LIMIT"),
    ("DIANA_LOG_LEVEL", "LOUD", "DIANA_LOG_LEVEL"),
    ("DIANA_PAGES", "scroll", "DIANA_PAGES must be one of new, edit"),
    ("DIANA_DURABILITY", "off", "DIANA_DURABILITY must be one of full, normal"),
    ("DIANA_START_RETRIES", "-1", "DIANA_START_RETRIES must be a whole number"),
    ("DIANA_START_BACKOFF", "soon", "DIANA_START_BACKOFF must be seconds from 0 to 60"),
    ("DIANA_LOG_FORMAT", "xml", "DIANA_LOG_FORMAT must be one of text, json"),
    ("DIANA_HTTP_PORT", "http", "DIANA_HTTP_PORT must be a port number"),
    ("DIANA_HTTP_PORT", "70000", "DIANA_HTTP_PORT must be a port number"),
    ("DIANA_HTTP_HOST", "a b", "DIANA_HTTP_HOST must be an address"),
    ("TELEGRAM_API_BASE", "ftp://x", "TELEGRAM_API_BASE"),
    ("DIANA_CONTENT", "/nonexistent", "not a content directory"),
    ("DIANA_DB", "/nonexistent/dir/db.sqlite3", "does not exist"),
])
def test_bad_settings_fail_with_a_clear_message(tmp_path, key, value, message):
    with pytest.raises(ConfigError, match=message):
        load_config(env(**{key: value}), dotenv=tmp_path / "none")


def test_bot_run_exits_2_on_bad_settings(tmp_path):
    full = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    full["DIANA_ENV_FILE"] = str(tmp_path / "none")
    r = subprocess.run([sys.executable, "-m", "cli.main", "bot", "run"], cwd=ROOT, env=full,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "BOT_TOKEN is not set" in r.stderr


def test_bot_run_exits_2_on_broken_content(tmp_path):
    (tmp_path / "game.yaml").write_text("format: 1\nversion: 1.0.0\n")
    full = {**os.environ, **env(DIANA_CONTENT=str(tmp_path), DIANA_DB=str(tmp_path / "d.db"),
                                TELEGRAM_API_BASE="http://127.0.0.1:9"),
            "DIANA_ENV_FILE": str(tmp_path / "none")}
    r = subprocess.run([sys.executable, "-m", "cli.main", "bot", "run"], cwd=ROOT, env=full,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "error(s)" in r.stderr and "diana lint" in r.stderr


def test_split_keeps_paragraphs_and_limits():
    paras = [(f"Paragraph {i}. " + "word " * 300, False) for i in range(20)]
    parts = split_blocks([("Title <&>", True), *paras])
    assert len(parts) > 1
    assert parts[0].startswith("<b>Title &lt;&amp;&gt;</b>")
    for p in parts:
        plain = html_to_plain(p)
        assert units(plain) <= 4096
        assert all(chunk.startswith(("Paragraph", "Title")) for chunk in plain.split("\n\n"))


def test_split_cuts_an_overlong_paragraph_at_words():
    text = "emoji 😀 " * 1500  # astral characters count twice in UTF-16
    parts = split_blocks([(text, False)])
    assert len(parts) >= 3
    assert all(units(html_to_plain(p)) <= 4096 for p in parts)
    assert " ".join(html_to_plain(p) for p in parts).split() == text.split()


@pytest.mark.parametrize("line", [
    " ".join(["word"] * 3000),  # an over-long line of words: cut between words
    "x" * 9000,  # one word longer than a message: cut inside it
    "<&>" * 2500,  # escaping makes it longer than it reads
])
def test_plain_text_is_split_and_nothing_is_dropped(line):
    text = f"head\n{line}\ntail"
    parts = plain_messages(text)
    assert len(parts) >= 2
    plain = [html_to_plain(p) for p in parts]
    assert all(units(p) <= 4096 for p in plain)
    assert "".join(plain).replace("\n", "").replace(" ", "") == text.replace(
        "\n", "").replace(" ", "")
    if " " in line:
        assert all(not p.endswith("wor") for p in plain)  # whole words only


def test_callback_data_fits_and_round_trips():
    choices = tuple(ChoiceView(f"c{i}", "Долгий выбор " * 20, i % 2 == 0, "why", i)
                    for i in range(30))
    screen = Screen("f", None, "text", choices, ending="good", ending_label="Good")

    class FakeContent:
        digest = "abcdef0123"

        class manifest:
            layout = Layout(choices_per_page=98)

            class currency:
                emoji = "💋"

    kb = screen_keyboard(FakeContent, screen, 10**9, "en")  # type: ignore[arg-type]
    assert kb is not None
    rows = kb["inline_keyboard"]
    assert len(rows) == 31
    # the keyboard is Bot API JSON: aiogram's own model takes it as it is
    assert InlineKeyboardMarkup.model_validate(kb).inline_keyboard[5][0].text == rows[5][0][
        "text"]
    data = [b["callback_data"] for row in rows for b in row]
    assert all(len(d.encode()) <= 64 for d in data)
    assert ChoiceCb.unpack(data[5]) == ChoiceCb(turn=10**9, index=5, tag="abcd")
    assert rows[1][0]["text"].startswith("🔒 ")
    assert rows[-1][0]["callback_data"] == f"r:{10**9}"


@given(st.integers(0, 10**15), st.integers(0, 10**3),
       st.text("0123456789abcdef", min_size=4, max_size=4))
def test_choice_data_is_what_aiogram_packs(turn, index, tag):
    assert choice_data(turn, index, tag) == ChoiceCb(turn=turn, index=index, tag=tag).pack()


def test_response_models_outlive_garbage_collection():
    """aiogram parses every answer with Response[T], built inside a function, which
    pydantic caches weakly: unpinned, a full collection drops it and the next call rebuilds
    it (milliseconds)."""
    pin_response_types()

    def built(method: type) -> weakref.ref:
        return weakref.ref(Response[method.__returning__])

    used = (methods.SendMessage, methods.EditMessageText, methods.EditMessageReplyMarkup,
            methods.AnswerCallbackQuery, methods.GetUpdates, methods.SendPhoto, SendPage,
            EditPage, StripKeyboard, AnswerQuery)
    refs = [built(m) for m in used]
    gc.collect()
    assert all(r() is not None for r in refs)


@pytest.mark.parametrize("error", [
    TelegramBadRequest(methods.GetMe(), "Bad Request: message is not modified"),
    TelegramForbiddenError(methods.GetMe(), "Forbidden: bot was blocked by the user"),
    TelegramRetryAfter(methods.GetMe(), "Too Many Requests", 5),
    TelegramNetworkError(methods.GetMe(), "ClientConnectorError: refused"),
    TelegramServerError(methods.GetMe(), "Bad Gateway"),
])
def test_expected_bot_api_failures_are_logged_and_give_none(error, caplog):
    async def call() -> bool:
        raise error

    caplog.set_level(logging.DEBUG, "diana.bot")
    assert asyncio.run(safe(call(), "getMe")) is None
    assert "getMe" in caplog.text


def test_an_unexpected_bot_api_failure_is_not_swallowed():
    async def call() -> bool:
        raise TelegramUnauthorizedError(methods.GetMe(), "Unauthorized")

    with pytest.raises(TelegramUnauthorizedError):
        asyncio.run(safe(call(), "getMe"))
