"""Operations end to end: the real bot (long polling, DIANA_HTTP_PORT set) against the Bot
API emulator. /readyz answers 503 until the story is loaded (a story file that is a FIFO
holds the load until the test writes it), and while the player database is gone; the
counters of /metrics match the updates sent."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from botkit import STORY, BotProcess, spawn_bot, start, wait_polling
from opskit import http_port, metrics, probe

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
        bot = spawn_bot(tmp, emu, content=content, DIANA_HTTP_PORT="0",
                        DIANA_RATE_LIMIT="3/60")
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


def updates(port: int) -> dict[tuple[str, str], float]:
    return {(dict(labels)["kind"], dict(labels)["result"]): value
            for (name, labels), value in metrics(port).items()
            if name == "diana_updates_total"}


def delta(after: dict, before: dict) -> dict:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


def test_metrics_count_the_updates_sent(ops):
    before = updates(ops.port)
    p, page = start(ops.bot, 502)
    n = p.count()
    p.tap(page, "Enter the library")
    p.wait_page(n)
    flood = ops.bot.player(503)
    for _ in range(5):  # the limit is 3 a minute: two are dropped
        flood.send("/help")
    expected = {("message", "ok"): 4, ("callback_query", "ok"): 1,
                ("message", "rate_limited"): 2}
    ops.bot.emu.wait_for(lambda: sum(delta(updates(ops.port), before).values()) >= 7, 30,
                         what="the updates to be counted")
    assert delta(updates(ops.port), before) == expected
    samples = metrics(ops.port)
    assert samples[("diana_rate_limited_updates_total", (("kind", "message"),))] == 2
    assert samples[("diana_step_seconds_count", ())] >= 2  # the start and the tap
    assert samples[("diana_page_seconds_count", ())] >= 2
    assert samples[("diana_store_commit_seconds_count", ())] >= 1
    assert samples[("diana_store_batch_size_sum", ())] >= 2
    info = [labels for (name, labels), v in samples.items()
            if name == "diana_content_info" and v == 1]
    assert len(info) == 1 and dict(info[0])["version"]
