"""The bot with its own event publisher (DIANA_EVENTS) against a private NATS server:
events reach the stream, /readyz follows the broker, and while the broker is down the bot
keeps answering, the outbox grows (/metrics says so) and drains once it is back."""

from __future__ import annotations

import asyncio

from botkit import spawn_bot, start, wait_polling
from eventkit import check_stream, outbox, pending
from natskit import nats_server, stream_events, wait_for
from opskit import http_port, metrics, probe

from bot.testing import EmulatorThread
from engine.outbox.events import slug
from engine.outbox.jetstream import stream_name


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
