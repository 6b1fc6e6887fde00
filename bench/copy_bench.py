"""`diana db copy` speed: a store of 100,000 players copied SQLite → PostgreSQL, back into
a new SQLite file, and once more onto the finished copy (the no-op that compares every row).

    .venv/bin/python bench/copy_bench.py --db postgresql://postgres@127.0.0.1/postgres
    .venv/bin/python bench/copy_bench.py --db … --players 10000     # smaller

The store is made by playing 100 players through the store for real (the sample story),
then cloning them in SQL with new ids and keys until there are --players, so the rows have
the shape play leaves (ledger, audit events, applied keys, scores, achievements); `db
check` passes on it. PostgreSQL runs in a scratch database on the URL's server, dropped
after. One run: a copy is minutes of work at this size, and prints its own rate.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from store_bench import pick, sample_game  # noqa: E402
from store_workers import create_pg, drop_pg  # noqa: E402

from engine.store import SyncStore  # noqa: E402
from engine.store.sqlite.check import check  # noqa: E402
from engine.store.transfer import copy_database  # noqa: E402

TEMPLATE = 100  # players played for real; the rest are their clones


def build(path: Path, players: int) -> float:
    t0 = time.perf_counter()
    game = sample_game()
    rnd = random.Random(1)
    template = path.with_name("template.db")
    with SyncStore.open(template, game, durability="normal") as store:
        for p in range(TEMPLATE):
            name = f"p{p}"
            store.register(name)
            state = store.state(name)
            for i in range(10 + p % 20):
                result = store.apply(name, pick(game, state, None, rnd), f"{name}:{i}")
                state = result.outcome.state if result.outcome else store.state(name)
            if p % 10 == 0:
                store.grant(name, 5, "bench", key=f"g{p}")
    with SyncStore.open(path, game):
        pass  # an empty store: the schema
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("ATTACH ? AS t", (str(template),))
        (pmax,), = conn.execute("SELECT max(id) FROM t.players")
        (lmax,), = conn.execute("SELECT max(id) FROM t.ledger")
        (emax,), = conn.execute("SELECT max(id) FROM t.events")
        conn.execute("BEGIN")
        for k in range(players // TEMPLATE):
            p, lo, e, tag = k * pmax, k * lmax, k * emax, f"#{k}"
            conn.execute("INSERT INTO players SELECT id + ?, external_id || ?, name, role,"
                         " locale, created FROM t.players", (p, tag))
            conn.execute("INSERT INTO saves SELECT player + ?, state, content_version,"
                         " fragment, version, points, ledger_seq, ledger_from, updated,"
                         " carry_to, carry FROM t.saves", (p,))
            conn.execute("INSERT INTO ledger SELECT id + ?, player + ?, seq, amount, kind,"
                         " reason, cause, key || ?, time, turn, day, extra FROM t.ledger",
                         (lo, p, tag))
            conn.execute("INSERT INTO achievements SELECT player + ?, achievement, time"
                         " FROM t.achievements", (p,))
            conn.execute("INSERT INTO events SELECT id + ?, time, player + ?, op, key || ?,"
                         " ok, detail FROM t.events", (e, p, tag))
            conn.execute("INSERT INTO applied_actions SELECT key || ?, player + ?, op, ok,"
                         " version, ledger, result FROM t.applied_actions", (tag, p))
            conn.execute("INSERT INTO scores SELECT board, player + ?, score, reached + ?"
                         " FROM t.scores", (p, lo))
        conn.execute("COMMIT")
        conn.execute("DETACH t")
    return time.perf_counter() - t0


def rows_of(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("players", "ledger", "events", "applied_actions", "scores")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, metavar="URL", help="a PostgreSQL server (see"
                    " the docstring)")
    ap.add_argument("--players", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="diana-copy-") as tmp:
        src, back = Path(tmp) / "source.db", Path(tmp) / "back.db"
        took = build(src, args.players)
        report = check(src)
        assert report.ok, report.problems[:5]
        counts = rows_of(src)
        print(f"source: {', '.join(f'{n:,} {t}' for t, n in counts.items())} (built in"
              f" {took:.0f} s; db check: consistent)")
        scratch = asyncio.run(create_pg(args.db))
        try:
            for what, a, b in (("SQLite -> PostgreSQL", str(src), scratch),
                               ("PostgreSQL -> SQLite", scratch, str(back)),
                               ("again onto the copy (no-op)", str(src), scratch)):
                out = copy_database(a, b)
                rows = sum(out.rows.values())
                print(f"{what:>28}: {out.seconds:6.1f} s, {rows / out.seconds:9,.0f} rows/s,"
                      f" {counts['players'] / out.seconds:7,.0f} players/s"
                      f" ({'copied and checked' if out.copied else 'already a copy'};"
                      f" {rows:,} rows in all tables)", flush=True)
        finally:
            asyncio.run(drop_pg(args.db, scratch))


if __name__ == "__main__":
    main()
