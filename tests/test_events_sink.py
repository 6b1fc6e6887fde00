"""The stats sink (engine/outbox/sink.py), a real consumer of a real (private) JetStream
stream: its tables agree with the store, a redelivered stream changes nothing, and what it
cannot handle goes to the dead-letter subject."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

import nats
from eventkit import database, outbox, play
from natskit import nats_server
from storekit import sample_game

from engine.outbox.jetstream import DEAD_LETTER_STREAM, JetStream
from engine.outbox.publisher import Publisher, replay
from engine.outbox.sink import Stats, consume
from engine.store.open import open_outbox, open_store

GAME = "the-velvet-door"


def test_the_sink_agrees_with_the_store_and_dead_letters_what_it_cannot_read(tmp_path):
    with nats_server(tmp_path) as server, database("sqlite", tmp_path) as target:
        asyncio.run(play(target, players=5, actions=20))

        async def admin() -> dict[str, int]:
            store = await open_store(target, sample_game())
            try:
                await store.grant("p0", 40, "gift")
                await store.revoke("p1", 1, "oops")
                await store.reset("p2")
                return {f"p{i}": (await store.state(f"p{i}"))["points"] for i in range(5)}
            finally:
                await store.close()

        balances = asyncio.run(admin())
        written = outbox(target)
        stats_path = tmp_path / "stats.sqlite3"

        async def main() -> tuple[list[str], int]:
            source = await open_outbox(target)
            broker = JetStream(server.url)
            publisher = Publisher(source, broker)
            while await publisher.once():
                pass
            await publisher.flush()
            # A message no publisher of ours would send: not an event.
            nc = await nats.connect(server.url)
            await nc.jetstream().publish(f"diana.{GAME}.points.awarded", b"{not json")
            stats = Stats(stats_path)
            seen: list[str] = []
            stop = asyncio.Event()

            def counted(subject: str, applied: bool) -> None:
                seen.append(subject)
                if len(seen) >= target_count[0]:
                    stop.set()

            target_count = [len(written) + 1]
            sink = JetStream(server.url)
            task = asyncio.create_task(consume(sink, stats, GAME, stop=stop,
                                               on_event=counted))
            await asyncio.wait_for(stop.wait(), 30)
            await task
            before = stats.conn.execute("SELECT * FROM sink_players ORDER BY player").fetchall()
            # Everything sent again: the stream drops what it holds, and a new stream
            # (the old one gone) is applied by the sink as already seen.
            js = nc.jetstream()
            await js.delete_stream(f"DIANA_{GAME.upper().replace('-', '_')}")
            await broker.close()
            sent, _ = await replay(source, JetStream(server.url), 0.0)
            assert sent == len(written)
            stop.clear()
            seen.clear()
            target_count[0] = len(written)
            with contextlib.suppress(Exception):
                await js.delete_consumer(f"DIANA_{GAME.upper().replace('-', '_')}",
                                         "diana-sink")
            task = asyncio.create_task(consume(sink, stats, GAME, stop=stop,
                                               on_event=counted))
            await asyncio.wait_for(stop.wait(), 30)
            await task
            after = stats.conn.execute("SELECT * FROM sink_players ORDER BY player").fetchall()
            assert after == before
            stats.close()
            dead = await js.get_msg(DEAD_LETTER_STREAM, 1)
            await nc.close()
            await sink.close()
            await source.close()
            return [dead.subject, dead.headers.get("Diana-Reason", "")], len(seen)

        (subject, reason), _ = asyncio.run(main())
        assert subject == f"dlq.diana.{GAME}.points.awarded"
        assert reason.startswith("not JSON")
        with contextlib.closing(sqlite3.connect(stats_path)) as db:
            points = dict(db.execute("SELECT player, points FROM sink_players"))
            counts = dict(db.execute("SELECT type, n FROM sink_counts"))
        assert points == balances
        by_type: dict[str, int] = {}
        for e in written:
            by_type[e["type"]] = by_type.get(e["type"], 0) + 1
        assert counts == by_type
