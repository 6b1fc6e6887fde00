"""Store benchmark: durable exactly-once actions/s and latency, leaderboards at 1M players.

    .venv/bin/python bench/store_bench.py                 # everything, 3 rounds each
    .venv/bin/python bench/store_bench.py --quick         # shorter runs
    .venv/bin/python bench/store_bench.py --skip-board    # only actions
    .venv/bin/python bench/store_bench.py --skip-board --against HEAD   # before/after
    .venv/bin/python bench/store_bench.py --db postgresql://postgres@127.0.0.1/postgres

--against REF checks REF out into a temporary git worktree and runs every round of both
versions in turn (fresh processes, alternating which goes first), so both see the same
machine load; it prints both medians, the ratios, and the load average before and after.

Actions: C players (C = 1, 10, 100, 1000) each tap the next choice of the sample story as
soon as the previous tap is acknowledged (after COMMIT). Latency = submit -> acknowledged.
Each tap is a whole engine step (rules, the next page) made durable and exactly-once; the
target is judged on these. `--what awards` measures point awards instead (`grant`, keyed,
durable, no engine step): the unit of the replaced system's 14,900 in-memory awards/s.
Leaderboards: a generated database of 1,000,000 players in a temp dir; top-10 and a random
player's own rank (with two neighbours each side), through the store's own queries.
Figures are medians over the rounds.

--db postgresql://… measures PostgreSQL beside SQLite instead: 1, 2 and 4 worker processes
on one database at 100 and 1,000 players, a bare `step` in the same run, and the CPU per
durable action against it (bench/store_workers.py), then the leaderboards over 1,000,000
players on PostgreSQL (bench/store_board_pg.py). The URL names a server and a database
its user may connect to; the rounds run in scratch databases created there and dropped.

--option KEY=VALUE passes a SqliteStore option to the working tree's store, e.g.
`--option writer=process` (batches written by a child process, engine/store/sqlite/pipeline.py).
The bench process runs under the bot's garbage-collector policy (--gc bot, the default:
the bot is the store's host in production) or Python's defaults (--gc python).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiosqlite

ROOT = Path(__file__).resolve().parents[1]
# --code DIR: measure the engine of another checkout (see --against)
CODE = Path(sys.argv[sys.argv.index("--code") + 1]) if "--code" in sys.argv else ROOT
sys.path.insert(0, str(CODE))

from bot.app import FULL_COLLECTION_EVERY  # noqa: E402
from engine.game import Game, compile_game  # noqa: E402
from engine.load import load  # noqa: E402
from engine.screen import Screen, render  # noqa: E402
from engine.state import State  # noqa: E402
from engine.step import Action, Choose, Restart, Start  # noqa: E402
from engine.store import SqliteStore  # noqa: E402
from engine.store.sqlite import leaderboard as lb  # noqa: E402
from engine.store.sqlite import prepare  # noqa: E402
from engine.store.sqlite.migrations import BUCKET_BITS  # noqa: E402

WHAT = {"actions": "story actions (sample story)", "awards": "point awards (grant)"}
TARGET_PLAYERS, TARGET_RATE, TARGET_P99_MS = 100, 15_000, 10.0


def host_gc(policy: str) -> None:
    """`bot`: the garbage-collector policy of the bot, the store's host in production
    (bot/app.py): what is loaded is frozen out of full collections, which run far less
    often. Without it, a full collection over the story and the cached saves pauses the
    event loop for about 15 ms several times a second. `python`: Python's defaults."""
    if policy == "bot":
        gc.collect()
        gc.freeze()
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


def sample_game() -> Game:
    result = load(ROOT / "content")
    assert result.content is not None, "the sample story does not load"
    return compile_game(result.content)


def pick(game: Game, state: State, screen: Screen | None, rnd: random.Random) -> Action:
    if state["fragment"] is None:
        return Start("2025-01-06")
    screen = screen or render(game, state)
    choices = [c for c in screen.choices if c.available]
    if not choices:
        return Restart("2025-01-06")
    return Choose(rnd.choice(choices).id, state["turn"], "2025-01-06")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


async def actions_round(game: Game, players: int, seconds: float, durability: str,
                        directory: Path, what: str = "actions", **options: Any
                        ) -> tuple[float, float, float, float]:
    db = directory / f"actions-{players}-{durability}-{time.monotonic_ns()}.db"
    store = await SqliteStore.open(db, game, durability=durability, **options)
    names = [f"p{i}" for i in range(players)]
    await asyncio.gather(*(store.register(n) for n in names))
    latencies: list[float] = []
    done = 0
    start = time.perf_counter()
    stop = start + seconds

    async def player(name: str, seed: int) -> None:
        nonlocal done
        rnd = random.Random(seed)
        state, screen = await store.state(name), None
        i = 0
        while time.perf_counter() < stop:
            if what == "awards":
                t0 = time.perf_counter()
                await store.grant(name, 1 + i % 5, "bench", key=f"{name}:{i}")
                latencies.append(time.perf_counter() - t0)
                i += 1
                continue
            action = pick(game, state, screen, rnd)
            t0 = time.perf_counter()
            result = await store.apply(name, action, f"{name}:{i}")
            latencies.append(time.perf_counter() - t0)
            i += 1
            if result.outcome is not None:
                state, screen = result.outcome.state, result.outcome.screen
            else:
                state, screen = await store.state(name), None
        done += i

    await asyncio.gather(*(player(n, i) for i, n in enumerate(names)))
    elapsed = time.perf_counter() - start
    batch = store.batched / max(store.batches, 1)
    await store.close()
    return done / elapsed, pct(latencies, 50) * 1e3, pct(latencies, 99) * 1e3, batch


async def bench_actions(game: Game, rounds: int, seconds: float, levels: list[int],
                        durabilities: list[str], directory: Path, what: str,
                        options: dict[str, Any]) -> None:
    shown = "".join(f", {k}={v}" for k, v in options.items())
    print(f"durable exactly-once {WHAT[what]}: {rounds} rounds of {seconds:.0f} s, medians"
          f"{shown}")
    print(f"{'sync':>6} {'players':>8} {'actions/s':>10} {'p50 ms':>8} {'p99 ms':>8}"
          f" {'batch':>6}")
    for durability in durabilities:
        for n in levels:
            runs = [await actions_round(game, n, seconds, durability, directory, what,
                                        **options) for _ in range(rounds)]
            med = [statistics.median(r[i] for r in runs) for i in range(4)]
            print(f"{durability:>6} {n:>8} {med[0]:>10,.0f} {med[1]:>8.2f} {med[2]:>8.2f}"
                  f" {med[3]:>6.1f}", flush=True)
            if what == "actions" and n == TARGET_PLAYERS:
                met = med[0] >= TARGET_RATE and med[2] < TARGET_P99_MS
                print(f"target at {n} players: >= {TARGET_RATE:,} actions/s and p99 <"
                      f" {TARGET_P99_MS:.0f} ms: {'met' if met else 'NOT met'}", flush=True)


async def generate(db: Path, players: int, rnd: random.Random) -> float:
    t0 = time.perf_counter()
    conn = await prepare(db, durability="normal")
    await conn.execute("PRAGMA foreign_keys = OFF")
    await conn.execute("BEGIN")
    await conn.executemany(
        "INSERT INTO players (id, external_id, name, role, locale, created)"
        " VALUES (?, ?, ?, 'free', 'en', 0)",
        ((i, f"tg:{i}", f"Player {i}") for i in range(1, players + 1)))
    reached = rnd.sample(range(1, 20 * players), players)
    week = rnd.sample(range(1, players + 1), players // 3)

    def score() -> int:
        return int(rnd.paretovariate(1.2) * 5)

    # Build the counts in bulk, then the triggers keep them for later changes.
    for t in ("scores_ins", "scores_upd", "scores_del"):
        await conn.execute(f"DROP TRIGGER {t}")
    await conn.executemany("INSERT INTO scores VALUES ('all', ?, ?, ?)",
                           ((i, score(), reached[i - 1]) for i in range(1, players + 1)))
    await conn.executemany("INSERT INTO scores VALUES ('w:2025-W02', ?, ?, ?)",
                           ((i, score(), reached[i - 1]) for i in week))
    await conn.execute("INSERT INTO score_count SELECT board, score, count(*) FROM scores"
                       " GROUP BY board, score")
    await conn.execute(f"INSERT INTO score_hist SELECT board, score, reached >> {BUCKET_BITS},"
                       " count(*) FROM scores GROUP BY 1, 2, 3")
    await conn.execute("COMMIT")
    await conn.close()
    # restore the triggers by re-running their definitions from the migration
    from engine.store.sqlite.migrations import _V1
    triggers = _V1[_V1.index("CREATE TRIGGER scores_ins"):]
    conn = await aiosqlite.connect(db, isolation_level=None)
    await conn.executescript(triggers)
    await conn.execute("ANALYZE")
    await conn.close()
    return time.perf_counter() - t0


async def bench_board(players: int, rounds: int, directory: Path) -> None:
    rnd = random.Random(1)
    db = directory / "board.db"
    took = await generate(db, players, rnd)
    print(f"\nleaderboards over {players:,} players (generated in {took:.1f} s)")
    conn = await aiosqlite.connect(db, isolation_level=None)
    await conn.execute("PRAGMA query_only = ON")
    when = 1736500000.0  # in ISO week 2025-W02
    rows = await conn.execute_fetchall("SELECT max(n) FROM score_count WHERE board = 'all'")
    print(f"largest tie group on the all-time board: {rows[0][0]:,} players")
    for kind in ("all", "week"):
        tops: list[float] = []
        ranks: list[float] = []
        for _ in range(rounds):
            for _ in range(200):
                t0 = time.perf_counter()
                await lb.top(conn, kind, 10, when)
                tops.append(time.perf_counter() - t0)
                pid = rnd.randint(1, players)
                t0 = time.perf_counter()
                await lb.standing(conn, pid, kind, 2, when)
                ranks.append(time.perf_counter() - t0)
        print(f"{kind:>5}: top-10 p50 {pct(tops, 50) * 1e3:.2f} ms, p99"
              f" {pct(tops, 99) * 1e3:.2f} ms; own rank + neighbours p50"
              f" {pct(ranks, 50) * 1e3:.2f} ms, p99 {pct(ranks, 99) * 1e3:.2f} ms")
    await conn.close()


def one_round(args: argparse.Namespace) -> None:
    """--round SYNC PLAYERS: one round in this process, printed as JSON."""
    sync, players = args.round[0], int(args.round[1])
    game = sample_game()
    host_gc(args.gc)
    with tempfile.TemporaryDirectory(prefix="diana-bench-") as tmp:
        r = asyncio.run(actions_round(game, players, args.seconds, sync, Path(tmp),
                                      args.what, **store_options(args)))
    print(json.dumps(r))


def store_options(args: argparse.Namespace) -> dict[str, Any]:
    options = dict(o.split("=", 1) for o in args.option)
    return {k: int(v) if v.isdigit() else v for k, v in options.items()}


def against(args: argparse.Namespace) -> None:
    base = Path(tempfile.mkdtemp(prefix="diana-against-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(base), args.against], cwd=ROOT,
                   check=True, capture_output=True)
    try:
        versions = [(args.against, base, args.base_option), ("working tree", ROOT, args.option)]
        load_before = os.getloadavg()
        print(f"durable exactly-once {WHAT[args.what]}: {args.against} vs the working tree"
              f" ({args.rounds} rounds of {args.seconds:.0f} s each, medians, gc {args.gc};"
              " load average"
              f" {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f},"
              f" {os.cpu_count()} CPUs)")
        print(f"{'sync':>6} {'players':>8} {'version':>14} {'actions/s':>10} {'p50 ms':>8}"
              f" {'p99 ms':>8} {'batch':>6}")
        for sync in args.sync.split(","):
            for n in [int(x) for x in args.levels.split(",")]:
                runs: dict[str, list[list[float]]] = {name: [] for name, _, _ in versions}
                for i in range(args.rounds):
                    order = versions if i % 2 == 0 else versions[::-1]
                    for name, code, options in order:
                        cmd = [sys.executable, str(Path(__file__).resolve()), "--code",
                               str(code), "--round", sync, str(n), "--seconds",
                               str(args.seconds), "--what", args.what, "--gc", args.gc]
                        for o in options:
                            cmd += ["--option", o]
                        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
                        runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
                med = {name: [statistics.median(r[k] for r in rs) for k in range(4)]
                       for name, rs in runs.items()}
                for name, m in med.items():
                    print(f"{sync:>6} {n:>8} {name[:14]:>14} {m[0]:>10,.0f} {m[1]:>8.2f}"
                          f" {m[2]:>8.2f} {m[3]:>6.1f}")
                old, new = med[args.against], med["working tree"]
                print(f"{'':>6} {'':>8} {'ratio':>14} {new[0] / old[0]:>9.2f}x"
                      f" {old[1] / new[1]:>7.2f}x {old[2] / new[2]:>7.2f}x", flush=True)
        load_after = os.getloadavg()
        print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f}"
              f" {load_after[2]:.2f} (ratios: throughput new/old; latency old/new, >1 is"
              " better)")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT,
                       capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", metavar="REF", help="compare with a git revision")
    ap.add_argument("--code", help=argparse.SUPPRESS)
    ap.add_argument("--round", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                    help="a SqliteStore option for the working tree, e.g. writer=process")
    ap.add_argument("--base-option", action="append", default=[], metavar="KEY=VALUE",
                    help="a SqliteStore option for the --against revision")
    ap.add_argument("--quick", action="store_true", help="1 round of 2 s per level")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--levels", default="1,10,100,1000")
    ap.add_argument("--sync", default="full,normal", help="durability levels to measure")
    ap.add_argument("--gc", choices=("bot", "python"), default="bot",
                    help="the host's garbage-collector policy (see host_gc)")
    ap.add_argument("--what", choices=sorted(WHAT), default="actions",
                    help="story actions (the target) or point awards")
    ap.add_argument("--players", type=int, default=1_000_000, help="leaderboard size")
    ap.add_argument("--skip-board", action="store_true")
    ap.add_argument("--skip-actions", action="store_true")
    ap.add_argument("--db", metavar="URL", help="measure PostgreSQL (with worker processes)"
                    " beside SQLite; see the module's docstring")
    ap.add_argument("--workers", default="1,2,4", help="--db: worker processes per round")
    ap.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.seconds = 1, 2.0
    if args.worker:
        import store_workers

        store_workers.worker_main(args.worker)
        return
    if args.db:
        pg_main(args)
        return
    if args.round:
        one_round(args)
        return
    if args.against:
        against(args)
        return
    game = sample_game()
    host_gc(args.gc)
    print(f"garbage collector: {args.gc} policy")
    with tempfile.TemporaryDirectory(prefix="diana-bench-") as tmp:
        directory = Path(tmp)
        if not args.skip_actions:
            asyncio.run(bench_actions(game, args.rounds, args.seconds,
                                      [int(x) for x in args.levels.split(",")],
                                      args.sync.split(","), directory, args.what,
                                      store_options(args)))
        if not args.skip_board:
            asyncio.run(bench_board(args.players, args.rounds, directory))


def pg_main(args: argparse.Namespace) -> None:
    import store_board_pg
    import store_workers

    game = sample_game()
    host_gc(args.gc)
    levels = "100,1000" if args.levels == "1,10,100,1000" else args.levels
    if not args.skip_actions:
        store_workers.compare(args.db, game, levels=[int(x) for x in levels.split(",")],
                              workers=[int(x) for x in args.workers.split(",")],
                              rounds=args.rounds, seconds=args.seconds)
    if not args.skip_board:
        asyncio.run(store_board_pg.bench(args.db, args.players, args.rounds))


if __name__ == "__main__":
    main()
