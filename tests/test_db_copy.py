"""`diana db copy SRC DST`: SQLite → PostgreSQL → SQLite keeps every row, the copy is a
working store, running it again changes nothing, and a refused copy writes nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pgkit
import pytest
from storekit import next_action, sample_game
from typer.testing import CliRunner

from cli.main import app
from engine.store import SyncStore, postgres
from engine.store.sqlite.check import check
from engine.store.sqlite.migrations import _V1

runner = CliRunner()
GAME = sample_game()
TABLES = ("players", "saves", "ledger", "achievements", "events", "applied_actions", "scores")
JSON = {"saves": "state", "events": "detail"}


def build(path: Path) -> None:
    with SyncStore.open(path, GAME, durability="normal") as store:
        for p in range(6):
            name = f"p{p}"
            store.register(name, name=name.title(), role="vip" if p == 2 else None)
            for i in range(12 + p):
                store.apply(name, next_action(GAME, store.state(name), i), f"{name}:{i}")
        store.grant("p0", 40, "contest", key="g1")
        store.revoke("p3", 1, "typo", key="r1")
        store.reset("p4", key="reset1")
        store.update_player("p5", name="Renamed")
        store.audit("admin", "note", {"text": "ok"})


def columns(db: Path | str, name: str) -> list[str]:
    if postgres.is_url(db):
        return [c for (c,) in pgkit.rows(
            db, "SELECT column_name::text FROM information_schema.columns WHERE table_name ="
                f" '{name}' ORDER BY ordinal_position")]
    with sqlite3.connect(db) as conn:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({name})")]


def table(db: Path | str, name: str) -> list[list]:
    """A table's rows in a form both backends give alike: columns by name (a column added
    by a later SQLite migration stands last there), JSON as values, rows sorted."""
    names = sorted(columns(db, name))
    sql = f"SELECT {', '.join(names)} FROM {name}"
    if postgres.is_url(db):
        found = pgkit.rows(db, sql)
    else:
        with sqlite3.connect(db) as conn:
            found = conn.execute(sql).fetchall()
    at = names.index(JSON[name]) if name in JSON else None
    out = []
    for row in found:
        row = list(row)
        if at is not None:
            row[at] = json.loads(row[at])
        out.append(row)
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True))


def copy(src: Path | str, dst: Path | str):
    result = runner.invoke(app, ["db", "copy", str(src), str(dst), "--quiet"])
    assert "Traceback" not in result.output, result.output
    return result


def db_check(db: Path | str) -> None:
    report = postgres.check(db) if postgres.is_url(db) else check(db)
    assert report.ok, report.problems


@pytest.fixture
def source(tmp_path) -> Path:
    path = tmp_path / "source.db"
    build(path)
    return path


def test_sqlite_to_postgres_and_back(source, tmp_path):
    back = tmp_path / "back.db"
    with pgkit.scratch_database(migrated=False) as url:
        first = copy(source, url)
        assert first.exit_code == 0, first.output
        assert "created its schema" in first.output and "6 players" in first.output
        db_check(url)
        for name in TABLES:
            assert table(url, name) == table(source, name), name
        again = copy(source, url)
        assert again.exit_code == 0 and "nothing to do" in again.output
        assert copy(url, back).exit_code == 0
        for name in TABLES:
            assert table(back, name) == table(source, name), name
        # The copy is a working store: new ids follow the copied ones, keys replay.
        with SyncStore.open(url, GAME) as store:
            assert store.apply("p1", next_action(GAME, store.state("p1")), "p1:0").replayed
            store.register("late")
            for i in range(5):
                store.apply("late", next_action(GAME, store.state("late"), i), f"late:{i}")
            store.grant("p1", 3, "after the move", key="g2")
            assert store.top("all", 1)[0].player == "p0"
        db_check(url)
        # Now the databases differ: refused either way, nothing written.
        before = table(back, "applied_actions")
        refused = copy(url, back)
        assert refused.exit_code == 1 and "already holds other data" in refused.output
        assert table(back, "applied_actions") == before
        refused = copy(back, url)
        assert refused.exit_code == 1 and "nothing was written" in refused.output
        assert pgkit.count(url, "SELECT count(*) FROM players") == 7
    db_check(back)


def test_refused_copies_write_nothing(source, tmp_path):
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        conn.executescript(_V1 + "PRAGMA user_version = 1;")
    result = copy(old, tmp_path / "new.db")
    assert result.exit_code == 1 and "diana db upgrade --db" in result.output
    assert not (tmp_path / "new.db").exists()
    # A source that breaks balance == ledger: the copy fails its checks and rolls back.
    with sqlite3.connect(source) as conn:
        conn.execute("UPDATE saves SET points = points + 1 WHERE player = 1")
    target = tmp_path / "target.db"
    result = copy(source, target)
    assert result.exit_code == 1 and "fails the store's checks" in result.output
    assert "balance" in result.output
    assert not target.exists()
    with pgkit.scratch_database(migrated=False) as url:
        result = copy(source, url)
        assert result.exit_code == 1 and "nothing was written" in result.output
        assert pgkit.count(url, "SELECT count(*) FROM pg_tables WHERE schemaname ="
                                " 'public'") == 0  # not even the schema
    assert copy(source, source).exit_code == 1
    missing = copy(tmp_path / "nope.db", tmp_path / "x.db")
    assert missing.exit_code == 2 and "no such database file" in missing.output
    gone = copy(source, "postgresql://postgres@127.0.0.1:1/nowhere")
    assert gone.exit_code == 2 and "DIANA_DB" in gone.output



def test_unlogged_tables_stay_behind(source, tmp_path):
    """An UNLOGGED table holds what any crash may lose (e.g. rate counters): not copied,
    and no reason to refuse a copy."""
    with pgkit.scratch_database() as url:
        pgkit.rows(url, "CREATE UNLOGGED TABLE counters (k text PRIMARY KEY, n integer)")
        pgkit.rows(url, "INSERT INTO counters VALUES ('a', 1)")
        assert copy(source, url).exit_code == 0
        back = copy(url, tmp_path / "back.db")
        assert back.exit_code == 0, back.output
    with sqlite3.connect(tmp_path / "back.db") as conn:
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'counters'"
                                ).fetchall()


def test_booleans_cross_between_backends(source, tmp_path):
    """A flag is 0/1 in SQLite and a boolean in PostgreSQL (as a later table may have)."""
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE flags (id INTEGER PRIMARY KEY, done INTEGER NOT NULL)")
        conn.executemany("INSERT INTO flags VALUES (?, ?)", [(1, 0), (2, 1)])
    with pgkit.scratch_database() as url:
        pgkit.rows(url, "CREATE TABLE flags (id bigint PRIMARY KEY, done boolean NOT NULL)")
        assert copy(source, url).exit_code == 0
        assert pgkit.rows(url, "SELECT id, done FROM flags ORDER BY id") == [(1, False),
                                                                              (2, True)]
        assert "nothing to do" in copy(source, url).output
