"""Operations end to end: the real bot (long polling, DIANA_HTTP_PORT set) against the Bot
API emulator. /readyz answers 503 until the story is loaded (a story file that is a FIFO
holds the load until the test writes it), and while the player database is gone."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from botkit import STORY, BotProcess, spawn_bot, start, wait_polling
from opskit import http_port, probe

from bot.testing import EmulatorThread


@dataclass
class Ops:
    bot: BotProcess
    port: int
    before: tuple[int, dict]  # /readyz while the story was being read


@pytest.fixture(scope="module")
def ops(tmp_path_factory) -> Iterator[Ops]:
    tmp = tmp_path_factory.mktemp("ops")
    content = tmp / "content"
    shutil.copytree(STORY, content)
    story = content / "story" / "main.yaml"
    text = story.read_bytes()
    story.unlink()
    os.mkfifo(story)
    with EmulatorThread(callback_timeout=10) as emu:
        bot = spawn_bot(tmp, emu, content=content, DIANA_HTTP_PORT="0")
        try:
            port = http_port(bot)
            before = probe(port, "/readyz")
            with story.open("wb") as fifo:  # the bot's read of the story ends here
                fifo.write(text)
            wait_polling(bot)
            yield Ops(bot, port, before)
        finally:
            bot.stop()


def test_readyz_is_503_until_the_story_is_loaded(ops):
    assert ops.before == (503, {"ok": False, "reason": "the story is not loaded yet"})
    assert probe(ops.port, "/readyz") == (200, {"ok": True})


def test_healthz_answers(ops):
    assert probe(ops.port, "/healthz") == (200, {"ok": True})


def test_readyz_is_503_while_the_database_is_gone_and_200_once_back(ops):
    start(ops.bot, 501)  # the database has players in it
    away = ops.bot.db.with_name("moved.sqlite3")
    ops.bot.db.rename(away)
    try:
        status, body = probe(ops.port, "/readyz")
        assert status == 503 and body["ok"] is False
        assert body["reason"].startswith("the player database is unusable")
    finally:
        away.rename(ops.bot.db)
    assert probe(ops.port, "/readyz") == (200, {"ok": True})
