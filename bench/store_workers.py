"""`store_bench.py --db postgresql://…`: the store with 1, 2 and 4 worker processes sharing
one database, on PostgreSQL and on SQLite in the same run, beside a bare engine `step`.

Each worker process opens its own store and plays its share of the players (player i goes
to worker i mod W): every player taps the next choice as soon as the previous tap is
acknowledged (after COMMIT), keyed, exactly once. The workers start together (each says
`ready`, then all get `go`), run for the same seconds and report their taps, latencies and
the CPU time their process used meanwhile (time.process_time: every thread of it). CPU
per durable action = the workers' CPU / their taps; the bare step is the same choice
picking and `step` in this process, without a store. The PostgreSQL rounds run in
scratch databases on the server of the URL (`diana_bench_<random>`, dropped after).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from engine.game import Game
from engine.step import step
from engine.store.open import open_store
from engine.store.postgres import is_url
from engine.store.postgres.schema import upgrade

HERE = Path(__file__).resolve()
TARGET_RATE, TARGET_P99_MS, TARGET_SCALE, TARGET_CPU = 8_000, 20.0, 1.6, 3.0


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] if values else 0.0


# ---- scratch databases ------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def create_pg(url: str) -> str:
    name = f"diana_bench_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    scratch = with_database(url, name)
    conn = await asyncpg.connect(scratch)
    try:
        await upgrade(conn, name)
    finally:
        await conn.close()
    return scratch


async def drop_pg(url: str, scratch: str) -> None:
    admin = await asyncpg.connect(url)
    try:
        name = urlsplit(scratch).path.lstrip("/")
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


# ---- one worker process -----------------------------------------------------------------


async def work(db: str, index: int, workers: int, players: int, seconds: float) -> dict:
    from store_bench import pick, sample_game  # the bench's own helpers

    game = sample_game()
    options: dict[str, Any] = {} if is_url(db) else {"durability": "full"}
    store = await open_store(db, game, **options)
    names = [f"p{i}" for i in range(players) if i % workers == index]
    states = {n: await store.state(n) for n in names}
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    latencies: list[float] = []
    done = 0
    cpu0, start = time.process_time(), time.perf_counter()
    stop = start + seconds

    async def player(name: str, seed: int) -> None:
        nonlocal done
        rnd = random.Random(seed)
        state, screen = states[name], None
        i = 0
        while time.perf_counter() < stop:
            action = pick(game, state, screen, rnd)
            t0 = time.perf_counter()
            result = await store.apply(name, action, f"{name}:{index}:{i}")
            latencies.append((time.perf_counter() - t0) * 1e3)
            i += 1
            if result.outcome is not None:
                state, screen = result.outcome.state, result.outcome.screen
            else:
                state, screen = await store.state(name), None
        done += i

    await asyncio.gather(*(player(n, i) for i, n in enumerate(names)))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    await store.close()
    return {"done": done, "elapsed": elapsed, "cpu": cpu, "latencies": latencies}


def worker_main(argv: list[str]) -> None:
    """--worker DB INDEX WORKERS PLAYERS SECONDS"""
    from store_bench import host_gc

    db, index, workers, players, seconds = argv
    host_gc("bot")
    result = asyncio.run(work(db, int(index), int(workers), int(players), float(seconds)))
    print(json.dumps(result), flush=True)


# ---- one round: W workers on one fresh database -------------------------------------------


async def register(db: str, game: Game, players: int) -> None:
    options: dict[str, Any] = {} if is_url(db) else {"durability": "normal"}
    store = await open_store(db, game, **options)
    try:
        await asyncio.gather(*(store.register(f"p{i}") for i in range(players)))
    finally:
        await store.close()


def round_on(db: str, game: Game, players: int, workers: int, seconds: float) -> dict:
    asyncio.run(register(db, game, players))
    procs = [subprocess.Popen(
        [sys.executable, str(HERE.with_name("store_bench.py")), "--worker", db, str(i),
         str(workers), str(players), str(seconds)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for i in range(workers)]
    try:
        for p in procs:
            line = p.stdout.readline() if p.stdout else ""
            if line.strip() != "ready":
                raise RuntimeError(f"a worker did not start: {line!r}")
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [json.loads(p.communicate(timeout=seconds + 120)[0].strip().splitlines()[-1])
                   for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    elapsed = max(r["elapsed"] for r in results)
    done = sum(r["done"] for r in results)
    latencies = [x for r in results for x in r["latencies"]]
    return {"rate": done / elapsed, "p50": pct(latencies, 50), "p99": pct(latencies, 99),
            "cpu_us": 1e6 * sum(r["cpu"] for r in results) / max(done, 1)}


def one_round(url: str, backend: str, game: Game, players: int, workers: int,
              seconds: float) -> dict:
    if backend == "postgres":
        scratch = asyncio.run(create_pg(url))
        try:
            return round_on(scratch, game, players, workers, seconds)
        finally:
            asyncio.run(drop_pg(url, scratch))
    with tempfile.TemporaryDirectory(prefix="diana-bench-") as tmp:
        return round_on(str(Path(tmp) / "bench.db"), game, players, workers, seconds)


# ---- the bare step --------------------------------------------------------------------------


def bare_step(game: Game, players: int, seconds: float) -> dict:
    """The same picking and `step` as a worker's, for `players` states in turn, no store."""
    from store_bench import pick

    from engine.state import new_state

    rnd = random.Random(1)
    states = [new_state(game.content, name=f"p{i}", seed=i) for i in range(players)]
    screens: list[Any] = [None] * players
    done = 0
    cpu0, start = time.process_time(), time.perf_counter()
    while time.perf_counter() - start < seconds:
        for i in range(players):
            out = step(game, states[i], pick(game, states[i], screens[i], rnd))
            states[i], screens[i] = out.state, out.screen
        done += players
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu0
    return {"rate": done / elapsed, "cpu_us": 1e6 * cpu / done}


# ---- the report -------------------------------------------------------------------------------


def compare(url: str, game: Game, *, levels: list[int], workers: list[int], rounds: int,
            seconds: float) -> None:
    bare = [bare_step(game, 100, seconds) for _ in range(rounds)]
    step_cpu = statistics.median(b["cpu_us"] for b in bare)
    print(f"bare step (this process, no store): {statistics.median(b['rate'] for b in bare):,.0f}"
          f" steps/s, {step_cpu:.0f} µs CPU per step")
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs"
          " (the figures below share the machine with whatever else runs)")
    print(f"durable exactly-once actions, {rounds} round(s) of {seconds:g} s, medians;"
          f" PostgreSQL in scratch databases on {urlsplit(url).hostname}, SQLite durability"
          " full; CPU per action = the workers' CPU / their actions")
    print(f"{'store':>9} {'players':>8} {'workers':>8} {'actions/s':>10} {'p50 ms':>8}"
          f" {'p99 ms':>8} {'CPU µs':>8} {'x step':>7}")
    for backend in ("postgres", "sqlite"):
        for n in levels:
            rates: dict[int, float] = {}
            for w in workers:
                runs = [one_round(url, backend, game, n, w, seconds) for _ in range(rounds)]
                med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                rates[w] = med["rate"]
                print(f"{backend:>9} {n:>8} {w:>8} {med['rate']:>10,.0f} {med['p50']:>8.2f}"
                      f" {med['p99']:>8.2f} {med['cpu_us']:>8.0f}"
                      f" {med['cpu_us'] / step_cpu:>6.2f}x", flush=True)
                if backend == "postgres" and n == 100 and w == 1:
                    met = med["rate"] >= TARGET_RATE and med["p99"] < TARGET_P99_MS
                    cpu_met = med["cpu_us"] / step_cpu <= TARGET_CPU
                    print(f"{'':>9} target at 100 players: >= {TARGET_RATE:,}/s, p99 <"
                          f" {TARGET_P99_MS:g} ms: {'met' if met else 'NOT met'}; CPU <="
                          f" {TARGET_CPU:g}x a step: {'met' if cpu_met else 'NOT met'}")
            if 1 in rates and 2 in rates:
                scale = rates[2] / rates[1]
                verdict = ("met" if scale >= TARGET_SCALE else "NOT met") \
                    if backend == "postgres" else "no target"
                print(f"{'':>9} {n:>8} 2 workers / 1: {scale:.2f}x (target >="
                      f" {TARGET_SCALE}x: {verdict})", flush=True)
