"""The event stream: publisher throughput, and the lag from a tap to a consumer.

Run: python bench/events_bench.py [--events 20000] [--rate 1000] [--duration 10]
                                  [--repeat 3] [--db sqlite|postgresql://…]

Starts a private nats-server with JetStream (a free loopback port, a temporary store
directory; the binary must be on PATH) and a scratch database (an SQLite file in a
temporary directory, or a new database on the PostgreSQL server --db names, dropped
after).

- throughput: the outbox is filled by playing the sample story through the store (about
  --events events), then one publisher (engine/outbox/publisher.py, as `diana events
  publish` runs it) sends it all: events/s from the first claim to the last mark. Each
  repeat marks every event unsent again and starts a new stream, so the broker stores
  every event rather than dropping duplicates.
- lag: players act at --rate actions/s (open loop: a tap every 1/rate s, to a player with
  no action in flight) through the store, whose commits wake an in-process publisher, as
  in the bot with DIANA_EVENTS; a JetStream consumer on another connection receives every
  event. Lag = the consumer's receipt - the moment the action was submitted (the tap), for
  every event of the measuring window; p50 / p99 in ms; and, for comparison, tap -> the
  store's acknowledgement (the commit), which every event's lag includes.

Medians over --repeat runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import nats  # noqa: E402
from storekit import next_action, sample_game  # noqa: E402

from engine.outbox.jetstream import JetStream  # noqa: E402
from engine.outbox.publisher import Publisher  # noqa: E402
from engine.store.open import open_outbox, open_store, upgrade  # noqa: E402


def start_nats(tmp: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("nats-server")
    if binary is None:
        raise SystemExit("events bench: no nats-server binary on PATH")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd",
                             str(tmp / "js")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"nats://127.0.0.1:{port}"


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def fill(target: str, events: int) -> int:
    """Play until the outbox holds about `events` events; the number written."""
    game = sample_game()
    store = await open_store(target, game, **({} if target.startswith("postgres") else
                                               {"durability": "normal"}))
    rng = random.Random(1)
    names = [f"b{i}" for i in range(200)]
    for n in names:
        await store.register(n)
    written, i = 0, 0
    try:
        while written < events:
            async def one(n: str, i: int = i) -> int:
                r = await store.apply(n, next_action(game, await store.state(n),
                                                     rng.randrange(3)), f"fill:{n}:{i}")
                return len(r.outcome.events) if r.outcome is not None else 0
            written += sum(await asyncio.gather(*(one(n) for n in names)))
            i += 1
    finally:
        await store.close()
    return written


async def reset_outbox(target: str) -> int:
    if target.startswith("postgres"):
        sql = "UPDATE outbox SET published = NULL, lease = NULL, owner = NULL"
        import asyncpg

        conn = await asyncpg.connect(target)
        try:
            await conn.execute(sql)
            return await conn.fetchval("SELECT count(*) FROM outbox")
        finally:
            await conn.close()
    import sqlite3

    db = sqlite3.connect(target)
    try:
        db.execute("UPDATE outbox SET published = NULL")
        db.commit()
        return db.execute("SELECT count(*) FROM outbox").fetchone()[0]
    finally:
        db.close()


async def drop_streams(url: str) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        for name in await js.streams_info():
            await js.delete_stream(name.config.name)
    finally:
        await nc.close()


async def throughput(target: str, url: str) -> float:
    total = await reset_outbox(target)
    await drop_streams(url)
    source = await open_outbox(target)
    broker = JetStream(url)
    publisher = Publisher(source, broker, batch=512)
    began = time.perf_counter()
    try:
        while await publisher.once() > 0:
            pass
        await publisher.flush()
        took = time.perf_counter() - began
        if publisher.published != total:
            raise SystemExit(f"events bench: {publisher.published} of {total} sent"
                             f" ({publisher.last_error})")
    finally:
        await broker.close()
        await source.close()
    return total / took


async def lag(target: str, url: str, rate: float, duration: float, warmup: float
              ) -> dict[str, float]:
    game = sample_game()
    await drop_streams(url)  # the ids of an earlier run's events would be dropped as seen
    store = await open_store(target, game)
    source = await open_outbox(target)
    broker = JetStream(url)
    publisher = Publisher(source, broker, idle=0.05)
    store.on_commit = lambda _s, _n: publisher.poke()
    game_token = store.outbox_game
    assert game_token is not None
    names = [f"l{i}" for i in range(2000)]
    for n in names:
        await store.register(n)
    await broker.connect()
    await broker.ensure_stream(game_token)
    taps: dict[str, float] = {}
    lags: list[float] = []
    commits: list[float] = []  # tap -> the store's acknowledgement, the part before publishing
    window = [float("inf"), float("inf")]
    received = 0

    async def got(msg) -> None:
        nonlocal received
        now = time.perf_counter()
        received += 1
        event = json.loads(msg.data)
        tapped = taps.get(event["key"])
        if tapped is not None and window[0] <= tapped < window[1]:
            lags.append(now - tapped)

    nc = await nats.connect(url)
    js = nc.jetstream()
    from nats.js.api import DeliverPolicy

    await js.subscribe(f"diana.{game_token}.>", cb=got, ordered_consumer=True,
                       deliver_policy=DeliverPolicy.NEW)
    task = asyncio.create_task(publisher.run())
    rng = random.Random(3)
    idle = list(names)
    rng.shuffle(idle)
    busy: set[str] = set()
    done = 0
    tasks: set[asyncio.Task] = set()

    async def act(n: str, i: int) -> None:
        nonlocal done
        key = f"lag:{n}:{i}"
        tapped = taps[key] = time.perf_counter()
        await store.apply(n, next_action(game, await store.state(n), rng.randrange(3)), key)
        if window[0] <= tapped < window[1]:
            commits.append(time.perf_counter() - tapped)
        done += 1
        busy.discard(n)
        idle.append(n)

    start = time.perf_counter()
    window[0], window[1] = start + warmup, start + warmup + duration
    i = 0
    while time.perf_counter() < window[1]:
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if idle:
            n = idle.pop(0)
            busy.add(n)
            t = asyncio.create_task(act(n, i))
            tasks.add(t)
            t.add_done_callback(tasks.discard)
        i += 1
    offered = i / (time.perf_counter() - start)
    await asyncio.gather(*tasks)

    async def drained() -> bool:
        return (await source.status()).pending == 0
    deadline = time.monotonic() + 60
    while not await drained() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # the last deliveries
    publisher.stop()
    await task
    await nc.close()
    await broker.close()
    await source.close()
    await store.close()
    return {"offered": offered, "done/s": done / (window[1] - start),
            "received/s": received / (window[1] - start),
            "p50": pct(lags, 0.5) * 1e3, "p99": pct(lags, 0.99) * 1e3,
            "commit_p50": pct(commits, 0.5) * 1e3, "commit_p99": pct(commits, 0.99) * 1e3,
            "events": float(len(lags))}


def database(kind: str, tmp: Path, i: int) -> tuple[str, object]:
    if kind == "sqlite":
        path = str(tmp / f"bench{i}.sqlite3")
        asyncio.run(upgrade(path))
        return path, None
    from pgkit import scratch_database

    ctx = scratch_database()
    return ctx.__enter__(), ctx


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--rate", type=float, default=1000.0, help="actions/s in the lag run")
    ap.add_argument("--duration", type=float, default=10.0, help="lag window, seconds")
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL server URL"
                    " (a scratch database is made on it)")
    args = ap.parse_args()
    if args.db != "sqlite":
        os.environ["DIANA_TEST_PG"] = args.db
    kind = "sqlite" if args.db == "sqlite" else "postgres"
    tmp = Path(tempfile.mkdtemp(prefix="diana-events-bench-"))
    proc, url = start_nats(tmp)
    print(f"events bench: {kind}, {args.repeat} run(s); medians")
    try:
        target, ctx = database(kind, tmp, 0)
        try:
            n = asyncio.run(fill(target, args.events))
            rates = [asyncio.run(throughput(target, url)) for _ in range(args.repeat)]
        finally:
            if ctx is not None:
                ctx.__exit__(None, None, None)  # type: ignore[attr-defined]
        print(f"publisher throughput: {statistics.median(rates):,.0f} events/s"
              f" ({n:,} events; runs: {', '.join(f'{r:,.0f}' for r in rates)})", flush=True)
        runs = []
        for i in range(args.repeat):
            target, ctx = database(kind, tmp, i + 1)
            try:
                runs.append(asyncio.run(lag(target, url, args.rate, args.duration,
                                            args.warmup)))
            finally:
                if ctx is not None:
                    ctx.__exit__(None, None, None)  # type: ignore[attr-defined]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"tap -> consumer at {med['offered']:,.0f} actions/s offered"
              f" ({med['done/s']:,.0f} applied/s, {med['received/s']:,.0f} events/s received,"
              f" {med['events']:,.0f} measured):"
              f" p50 {med['p50']:.1f} ms, p99 {med['p99']:.1f} ms"
              f" (p99 runs: {', '.join(format(r['p99'], '.1f') for r in runs)});"
              f" of which tap -> the store's acknowledgement: p50 {med['commit_p50']:.1f} ms,"
              f" p99 {med['commit_p99']:.1f} ms; load average {os.getloadavg()[0]:.1f}",
              flush=True)
    finally:
        proc.kill()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
