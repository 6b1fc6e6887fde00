"""The event stream: the outbox both stores write in the save's transaction, and the
publisher that sends it to a real NATS JetStream server (a private one, started here, that
these tests kill and restart)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from eventkit import (
    BACKENDS,
    check_stream,
    database,
    lease_owner,
    outbox,
    pending,
    play,
)
from natskit import async_wait_for, nats_server, stream_events, wait_for
from prockit import kill_group, spawn
from storekit import sample_game

from engine.outbox.events import from_outcome
from engine.outbox.jetstream import JetStream, stream_name
from engine.outbox.publisher import Publisher
from engine.outbox.schemas import problem
from engine.store.open import open_outbox, open_store

GAME = "the-velvet-door"


@pytest.mark.parametrize("kind", BACKENDS)
def test_every_applied_action_writes_its_events_and_a_replay_writes_none(kind, tmp_path):
    with database(kind, tmp_path) as target:
        results = asyncio.run(play(target, players=3, actions=12))
        written = outbox(target)
        for e in written:
            assert problem(e) is None, (e, problem(e))
        # Each action's events are the step's, in order, under ids from its key.
        by_key: dict[str, list[dict]] = {}
        for e in written:
            by_key.setdefault(e["key"], []).append(e)
        for key, (result,) in results.items():
            expected = from_outcome(result.outcome.events) if result.ok else []
            got = by_key.get(key, [])
            assert [(e["type"], e["data"]) for e in got] == list(expected)
            assert [e["id"] for e in got] == [f"{key}#{i}" for i in range(1, len(got) + 1)]
        for player in {e["player"] for e in written}:
            seqs = [e["seq"] for e in written if e["player"] == player]
            assert seqs == list(range(1, len(seqs) + 1))
        # The same keys again: every action is a replay, and the outbox does not grow.
        again = asyncio.run(play(target, players=3, actions=12))
        assert all(r.replayed for (r,) in again.values())
        assert outbox(target) == written

        async def admin() -> None:
            store = await open_store(target, sample_game())
            try:
                await store.grant("p0", 7, "gift", key="g1")
                await store.grant("p0", 7, "gift", key="g1")
                await store.revoke("p0", 2, "oops")
                await store.reset("p1", key="r1")
                await store.reset("p1", key="r1")
            finally:
                await store.close()

        asyncio.run(admin())
        extra = outbox(target)[len(written):]
        assert [(e["type"], e["player"]) for e in extra] == [
            ("points.granted", "p0"), ("points.revoked", "p0"), ("player.reset", "p1")]
        assert all(problem(e) is None for e in extra)


@pytest.mark.parametrize("kind", BACKENDS)
def test_the_broker_killed_mid_load_loses_and_doubles_nothing(kind, tmp_path):
    with nats_server(tmp_path) as server, database(kind, tmp_path) as target:
        async def main() -> dict:
            source = await open_outbox(target)
            broker = JetStream(server.url, timeout=0.5)
            publisher = Publisher(source, broker, batch=64, idle=0.01, max_backoff=0.3)
            task = asyncio.create_task(publisher.run())
            rounds = 30

            async def between(i: int) -> None:
                publisher.poke()
                if i == rounds // 3:
                    server.kill()
                elif i == 2 * rounds // 3:
                    async def noticed() -> bool:
                        return publisher.breaker.open
                    assert await async_wait_for(noticed, 10), "the outage went unnoticed"
                    assert pending(target) > 0, "the outbox did not grow"
                    await asyncio.to_thread(server.start)
            results = await play(target, players=8, actions=rounds, between=between)

            async def drained() -> bool:
                return (await source.status()).pending == 0
            assert await async_wait_for(drained, 30), "the outbox did not drain"
            publisher.stop()
            await task
            await broker.close()
            await source.close()
            return results

        results = asyncio.run(main())
        assert all(r.ok or r.error for (r,) in results.values())
        written = outbox(target)
        stream = asyncio.run(stream_events(server.url, stream_name(GAME)))
        check_stream(stream, written)


@pytest.mark.parametrize("kind", BACKENDS)
def test_publishers_killed_at_random_points_lose_and_double_nothing(kind, tmp_path):
    """Two publishers at once; four times, once one is seen sending (the outbox drains, or
    on SQLite a new publisher holds its lease), one of them is SIGKILLed a random moment
    later (mid-send, mid-claim or mid-mark) and another started."""
    rng = random.Random(7)
    with nats_server(tmp_path) as server, database(kind, tmp_path) as target:
        # (SQLite's publisher sends faster: more events, or it drains before four kills)
        players, actions = (30, 36) if kind == "sqlite" else (16, 30)
        asyncio.run(play(target, players=players, actions=actions))
        written = outbox(target)
        cmd = [sys.executable, "-m", "cli.main", "events", "publish", "--db", target,
               "--nats", server.url, "--batch", "8", "--lease", "0.5"]
        env = {**os.environ, "DIANA_ENV_FILE": os.devnull}
        procs: list[subprocess.Popen] = []
        kills = 0
        try:
            for _ in range(4):  # bounded: four kills
                while len(procs) < 2:
                    procs.append(spawn(cmd, env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL))
                left, holder = pending(target), lease_owner(target)
                if left == 0:
                    break
                wait_for(lambda left=left, holder=holder: pending(target) < left or
                         lease_owner(target) not in (None, holder), 20, every=0.005)
                time.sleep(rng.uniform(0, 0.04))
                victim = procs.pop(rng.randrange(len(procs)))
                os.killpg(victim.pid, signal.SIGKILL)
                victim.wait(10)
                kills += 1
            assert kills == 4 and pending(target) > 0, "the load ran out before the kills"
            while len(procs) < 2:
                procs.append(spawn(cmd, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL))
            assert wait_for(lambda: pending(target) == 0, 60), "the outbox did not drain"
        finally:
            for p in procs:
                kill_group(p)
        stream = asyncio.run(stream_events(server.url, stream_name(GAME)))
        check_stream(stream, written)
