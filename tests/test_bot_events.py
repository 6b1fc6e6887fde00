"""The bot with its own event publisher (DIANA_EVENTS) against a private NATS server:
events reach the stream, /readyz follows the broker, and while the broker is down the bot
keeps answering, the outbox grows (/metrics says so) and drains once it is back."""

from __future__ import annotations

import asyncio
from pathlib import Path

from botkit import spawn_bot, start, wait_polling
from eventkit import check_stream, outbox, pending
from natskit import nats_server, stream_events, wait_for
from opskit import http_port, metrics, probe

from bot.testing import EmulatorThread
from engine.outbox.events import slug
from engine.outbox.jetstream import stream_name

ROOT = Path(__file__).resolve().parent.parent


def test_the_bot_publishes_and_rides_out_a_broker_outage(tmp_path):
    with nats_server(tmp_path) as server, EmulatorThread(callback_timeout=10) as emu:
        bot = spawn_bot(tmp_path, emu, DIANA_HTTP_PORT="0", DIANA_EVENTS=server.url)
        try:
            port = http_port(bot)
            wait_polling(bot)
            start(bot, 601)
            written = outbox(str(bot.db))
            assert written and {e["player"] for e in written} == {"tg:601"}
            assert written[0]["game"] == "the-test-house"
            stream = stream_name(written[0]["game"])
            assert wait_for(lambda: pending(str(bot.db)) == 0, 20)
            assert probe(port, "/readyz") == (200, {"ok": True})

            server.kill()
            status, body = probe(port, "/readyz")
            assert status == 503 and body["reason"].startswith("the event broker")
            start(bot, 602)  # the bot still answers: the player gets a page
            assert pending(str(bot.db)) > 0  # and its events wait in the outbox

            def lagging() -> bool:
                return metrics(port)[("diana_outbox_pending", ())] > 0
            assert wait_for(lagging, 15, every=0.5), "the outbox gauge did not move"

            server.start()
            assert wait_for(lambda: pending(str(bot.db)) == 0, 30), "no drain"
            assert wait_for(lambda: probe(port, "/readyz")[0] == 200, 10)
            written = outbox(str(bot.db))
            assert {e["player"] for e in written} == {"tg:601", "tg:602"}
            check_stream(asyncio.run(stream_events(server.url, stream)), written)
            assert {e["game"] for e in written} == {slug("The Test House")}
        finally:
            bot.stop()


def test_the_event_settings_are_checked_at_start(tmp_path):
    import pytest

    from bot.config import ConfigError, load_config

    base = {"BOT_TOKEN": "1:" + "a" * 30, "DIANA_CONTENT": str(ROOT / "content"),
            "DIANA_DB": str(tmp_path / "db.sqlite3")}
    config = load_config({**base, "DIANA_EVENTS": "nats://127.0.0.1:4222",
                          "DIANA_EVENTS_RETENTION": "12h"}, dotenv=tmp_path / "none")
    assert (config.events, config.events_retention, config.outbox) == (
        "nats://127.0.0.1:4222", 12 * 3600, True)
    assert load_config(base, dotenv=tmp_path / "none").events is None
    for bad, said in ((("DIANA_EVENTS", "redis://x"), "DIANA_EVENTS must be a NATS URL"),
                      (("DIANA_OUTBOX", "maybe"), "DIANA_OUTBOX must be on or off"),
                      (("DIANA_EVENTS_RETENTION", "forever"), "DIANA_EVENTS_RETENTION")):
        with pytest.raises(ConfigError, match=said):
            load_config({**base, bad[0]: bad[1]}, dotenv=tmp_path / "none")
    with pytest.raises(ConfigError, match="needs the outbox"):
        load_config({**base, "DIANA_EVENTS": "nats://h:4222", "DIANA_OUTBOX": "off"},
                    dotenv=tmp_path / "none")
