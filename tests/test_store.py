"""The store: exactly-once actions, serialisation, rollback, admin, errors. The tests that
take the `db` fixture run on SQLite and on PostgreSQL (a scratch database, see pgkit.py);
the others exercise what only SQLite has (files, pragmas, the writer process)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
from pathlib import Path

import pgkit
import pytest
from storekit import changed_content, game_of, next_action, sample_game
from typer.testing import CliRunner

from cli.main import app
from engine.screen import render
from engine.state import balance_matches_ledger
from engine.step import Choose, Start
from engine.store import (
    AdminError,
    BatchFailed,
    KeyConflict,
    PlayerExists,
    SchemaTooNew,
    SqliteStore,
    StoreClosed,
    StoreCorrupt,
    StoreError,
    StoreOpenError,
    StoreReadOnly,
    SyncStore,
    UnknownPlayer,
    postgres,
    progress,
)
from engine.store.open import open_store
from engine.store.records import FOLD_AT, KEEP
from engine.store.sqlite import WRITERS as SQLITE_WRITERS
from engine.store.sqlite.check import check
from engine.store.sqlite.checkpoint import AUTOCHECKPOINT_PAGES
from engine.store.sqlite.migrations import _V1, LATEST

GAME = sample_game()


def run(coro):
    return asyncio.run(coro)


# The tests that exercise the write path run with each SQLite writer (pipeline.py).
WRITERS = pytest.mark.parametrize("writer", SQLITE_WRITERS)
# ... and on PostgreSQL, which has one writer.
BOTH_WRITERS = pytest.mark.parametrize("db, writer", [
    *(("sqlite", w) for w in SQLITE_WRITERS), ("postgres", "thread")], indirect=["db"])
BOTH = pytest.mark.parametrize("db", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def db(request, tmp_path):
    """Where the store lives: an SQLite file, or the URL of a scratch PostgreSQL database."""
    if request.param == "sqlite":
        yield tmp_path / "s.db"
        return
    with pgkit.scratch_database() as url:
        yield url


async def opened(db: Path | str, **kw) -> SqliteStore:
    return await open_store(db, GAME, durability="normal", **kw)


def assert_consistent(db: Path | str) -> None:
    report = postgres.check(db) if postgres.is_url(db) else check(db)
    assert report.ok, report.problems


async def play(store: SqliteStore, player: str, n: int, prefix: str, pick: int = 0) -> None:
    for i in range(n):
        state = await store.state(player)
        await store.apply(player, next_action(GAME, state, pick + i), f"{prefix}:{i}")


def count(db: Path | str, sql: str, *args) -> int:
    if postgres.is_url(db):
        return pgkit.count(db, sql, *args)
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchone()[0]


def rows(db: Path | str, sql: str) -> list[tuple]:
    if postgres.is_url(db):
        return pgkit.rows(db, sql)
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


# ---- exactly once --------------------------------------------------------------------


@BOTH_WRITERS
def test_apply_then_replay_applies_nothing(db, writer):

    async def main():
        async with await opened(db, writer=writer) as store:
            await store.register("ana", name="Ana")
            first = await store.apply("ana", Start("2025-01-06"), "u1")
            assert first.ok and not first.replayed and first.outcome is not None
            state = await store.state("ana")
            again = await store.apply("ana", Start("2025-01-06"), "u1")
            assert again.replayed and again.ok and again.outcome is None
            assert again.summary == first.summary and again.version == first.version
            # (SQLite serves it from its cache; PostgreSQL reads it again)
            assert await store.state("ana") == state
            # A different key with the same action is a new tap: rejected by the engine.
            other = await store.apply("ana", Start("2025-01-06"), "u2")
            assert not other.ok and other.error == "already-started"
        # after a restart the key is still known
        async with await opened(db, writer=writer) as store:
            again = await store.apply("ana", Start("2025-01-06"), "u1")
            assert again.replayed and again.summary == first.summary

    run(main())
    assert count(db, "SELECT count(*) FROM ledger") == 1
    assert count(db, "SELECT count(*) FROM applied_actions") == 2
    assert_consistent(db)


@BOTH_WRITERS
def test_concurrent_taps_of_one_player_are_serialised(db, writer):

    async def main():
        async with await opened(db, writer=writer) as store:
            await store.register("ana")
            await store.apply("ana", Start(), "start")
            state = await store.state("ana")
            tap = next_action(GAME, state)
            # 30 different taps of the same button: the first moves, the rest are stale.
            results = await asyncio.gather(
                *(store.apply("ana", tap, f"tap{i}") for i in range(30)))
            assert sum(r.ok for r in results) == 1
            assert {r.error for r in results if not r.ok} <= {"stale"}
            # 30 deliveries of one update: applied once, the others replay it.
            state = await store.state("ana")
            tap = next_action(GAME, state)
            same = await asyncio.gather(*(store.apply("ana", tap, "dup") for _ in range(30)))
            assert sum(not r.replayed for r in same) == 1
            assert len({(r.ok, r.version) for r in same}) == 1
            assert (await store.state("ana"))["turn"] == state["turn"] + 1

    run(main())
    assert count(db, "SELECT count(*) FROM applied_actions WHERE key = 'dup'") == 1
    assert_consistent(db)


@BOTH_WRITERS
def test_different_players_in_parallel(db, writer):

    async def main():
        async with await opened(db, max_batch=64, writer=writer) as store:
            players = [f"p{i}" for i in range(60)]
            await asyncio.gather(*(store.register(p) for p in players))
            await asyncio.gather(*(play(store, p, 12, p, pick=i)
                                   for i, p in enumerate(players)))
            assert store.batches < 60 * 12  # actions were grouped into batches
            for p in players:
                state = await store.state(p)
                assert state["turn"] == 12
                assert balance_matches_ledger(state)

    run(main())
    assert count(db, "SELECT count(*) FROM applied_actions") == 60 * 12
    assert_consistent(db)


@BOTH
def test_key_reused_by_another_player_is_refused(db, tmp_path):
    async def main():
        async with await opened(db) as store:
            await store.register("ana")
            await store.register("bob")
            await store.apply("ana", Start(), "k")
            with pytest.raises(KeyConflict):
                await store.apply("bob", Start(), "k")
            with pytest.raises(UnknownPlayer):
                await store.apply("carol", Start(), "k2")
            with pytest.raises(UnknownPlayer):
                await store.state("carol")
            with pytest.raises(PlayerExists):
                await store.register("ana", exist_ok=False)
            assert (await store.register("ana")).player == "ana"

    run(main())


@WRITERS
def test_a_full_disk_fails_the_batch_and_rolls_back(tmp_path, writer):
    db = tmp_path / "s.db"

    async def main():
        async with await opened(db, writer=writer) as store:
            await asyncio.gather(*(store.register(f"p{i}") for i in range(20)))
            await asyncio.gather(*(store.apply(f"p{i}", Start(), f"s{i}") for i in range(20)))
            before = {f"p{i}": await store.state(f"p{i}") for i in range(20)}
            (pages,) = await (await store._w.execute("PRAGMA page_count")).fetchone()
            # on the connection that writes the batches (the writer process's, if any)
            await store._io.execute(f"PRAGMA max_page_count = {pages}")
            filler = "x" * 50_000  # make every save grow past the limit
            states = {p: {**s, "pad": filler} for p, s in before.items()}
            for p, s in states.items():
                store._cache[p].state = s  # the next save write would need new pages
            taps = [store.apply(p, next_action(GAME, s), f"t-{p}") for p, s in states.items()]
            results = await asyncio.gather(*taps, return_exceptions=True)
            assert all(isinstance(r, BatchFailed) for r in results), results
            assert "full" in str(results[0])
            assert not store._cache  # rolled-back players were dropped from the cache
            await store._io.execute("PRAGMA max_page_count = 1073741823")
            for p, s in before.items():
                assert await store.state(p) == s  # reloaded from the database: unchanged
            # the same keys now apply (they were never recorded)
            retried = await asyncio.gather(
                *(store.apply(p, next_action(GAME, s), f"t-{p}") for p, s in before.items()))
            assert all(r.ok and not r.replayed for r in retried)

    run(main())
    assert_consistent(db)


# ---- opening ---------------------------------------------------------------------------


def test_newer_schema_is_refused(tmp_path):
    db = tmp_path / "s.db"
    run(_close(opened(db)))
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(SchemaTooNew, match="newer than this program"):
        run(_close(opened(db)))
    result = CliRunner().invoke(app, ["db", "check", "--db", str(db)])
    assert result.exit_code == 2 and "upgrade Diana" in result.output


def test_corrupted_file_is_refused(tmp_path):
    db = tmp_path / "s.db"
    db.write_bytes(os.urandom(8192))
    with pytest.raises(StoreCorrupt, match="not a usable SQLite database"):
        run(_close(opened(db)))
    for command in ("check", "migrate"):
        result = CliRunner().invoke(app, ["db", command, "--db", str(db)])
        assert result.exit_code == 2
        assert "not a usable SQLite database" in result.output
        assert "Traceback" not in result.output


def test_read_only_file_is_refused(tmp_path):
    db = tmp_path / "s.db"
    run(_close(opened(db)))
    db.chmod(0o444)
    try:
        with pytest.raises(StoreReadOnly, match="read-only"):
            run(_close(opened(db)))
        result = CliRunner().invoke(app, ["db", "migrate", "--db", str(db)])
        assert result.exit_code == 2 and "read-only" in result.output
    finally:
        db.chmod(0o644)


def test_legacy_play_saves_are_refused(tmp_path):
    db = tmp_path / "s.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE saves (player TEXT PRIMARY KEY, state TEXT)")
    with pytest.raises(Exception, match="older `diana play`"):
        run(_close(opened(db)))


async def _close(opening):
    store = await opening
    await store.close()


@BOTH_WRITERS
def test_closed_store_refuses(db, writer):
    async def main():
        store = await opened(db, writer=writer)
        await store.close()
        with pytest.raises(StoreClosed):
            await store.apply("ana", Start(), "k")

    run(main())


# ---- admin ------------------------------------------------------------------------------


@BOTH_WRITERS
def test_grant_revoke_keep_balance_equal_to_ledger(db, writer):

    async def main():
        async with await opened(db, writer=writer) as store:
            await store.register("ana")
            await play(store, "ana", 5, "a")
            base = (await store.state("ana"))["points"]
            assert (await store.grant("ana", 30, "contest winner")).ok
            r = await store.revoke("ana", 10, "abuse")
            assert r.ok and r.summary["points"] == base + 20
            too_much = await store.revoke("ana", 10_000, "abuse")
            assert not too_much.ok and too_much.error == "insufficient"
            for bad in (0, -5, 1.5, True):
                with pytest.raises(AdminError):
                    await store.grant("ana", bad, "x")
            with pytest.raises(AdminError):
                await store.grant("ana", 5, "  ")
            # an admin op with a key is exactly-once too
            g1 = await store.grant("ana", 7, "gift", key="adm-1")
            g2 = await store.grant("ana", 7, "gift", key="adm-1")
            assert g2.replayed and g1.version == g2.version
            state = await store.state("ana")
            assert state["points"] == base + 27 and balance_matches_ledger(state)
            # the state keeps playing after admin changes
            await play(store, "ana", 3, "b")
            assert balance_matches_ledger(await store.state("ana"))

    run(main())
    assert count(db, "SELECT count(*) FROM events WHERE op IN ('grant', 'revoke')") == 4
    assert_consistent(db)


@BOTH_WRITERS
def test_reset_export_delete(db, writer):

    async def main():
        async with await opened(db, writer=writer) as store:
            for p in ("ana", "bob"):
                await store.register(p)
                await play(store, p, 8, p)
                await store.grant(p, 50, "bonus")
            data = await store.export("ana")
            json.dumps(data)  # plain JSON
            assert data["save"]["points"] == sum(e["amount"] for e in data["ledger"])
            assert [e["op"] for e in data["events"]][:2] == ["register", "action"]
            r = await store.reset("ana", key="reset-1")
            assert r.ok and (await store.state("ana"))["points"] == 0
            assert (await store.state("ana"))["ledger"] == []
            assert (await store.reset("ana", key="reset-1")).replayed
            assert [e.player for e in await store.top()] == ["bob"]
            await play(store, "ana", 4, "again")
            assert (await store.standing("ana")).entry is not None
            await store.delete("bob")
            with pytest.raises(UnknownPlayer):
                await store.state("bob")
            with pytest.raises(UnknownPlayer):
                await store.export("bob")
            assert [e.player for e in await store.top()] == ["ana"]

    run(main())
    assert count(db, "SELECT count(*) FROM events WHERE op = 'delete'") == 1
    assert count(db, "SELECT count(*) FROM events WHERE op = 'reset'") == 1
    assert count(db, "SELECT count(*) FROM ledger WHERE kind = 'reset'") == 1
    assert count(db, "SELECT count(*) FROM players") == 1
    assert_consistent(db)


def test_ledger_is_append_only(tmp_path):
    db = tmp_path / "s.db"

    async def main():
        async with await opened(db) as store:
            await store.register("ana")
            await store.grant("ana", 5, "x")

    run(main())
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE ledger SET amount = 500")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM ledger")


def test_check_finds_tampering(tmp_path):
    db = tmp_path / "s.db"

    async def main():
        async with await opened(db) as store:
            await store.register("ana")
            await play(store, "ana", 6, "a")

    run(main())
    ok = CliRunner().invoke(app, ["db", "check", "--db", str(db)])
    assert ok.exit_code == 0, ok.output
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE saves SET points = points + 1")
        conn.execute("DELETE FROM events WHERE key = 'a:1'")
    bad = CliRunner().invoke(app, ["db", "check", "--db", str(db)])
    assert bad.exit_code == 1
    assert "balance" in bad.output and "audit trail" in bad.output


def test_cli_migrate_creates_and_is_idempotent(tmp_path):
    db = tmp_path / "new.db"
    for _ in range(2):
        result = CliRunner().invoke(app, ["db", "migrate", "--db", str(db)])
        assert result.exit_code == 0 and f"schema version {LATEST}" in result.output
    missing = CliRunner().invoke(app, ["db", "check", "--db", str(tmp_path / "nope.db")])
    assert missing.exit_code == 2 and "no such database" in missing.output


def test_a_long_ledger_is_folded_in_memory_and_whole_on_disk(tmp_path):
    """Past FOLD_AT entries the state's ledger starts with one carried entry; the table
    keeps every entry, a reload gives the same state, and a reset clears the carry."""
    db = tmp_path / "s.db"
    n = FOLD_AT * 2 + 7

    async def main():
        async with await opened(db) as store:
            await store.register("ana")
            await store.apply("ana", Start(), "s")
            start = (await store.state("ana"))["points"]
            for i in range(n):
                await store.grant("ana", 1 + i % 3, "bonus", key=f"g{i}")
            await store.revoke("ana", 5, "fine", key="r")
            state = await store.state("ana")
            assert len(state["ledger"]) <= FOLD_AT + 1
            assert state["ledger"][0]["reason"] == "carried"
            assert balance_matches_ledger(state)
            assert state["points"] == start + sum(1 + i % 3 for i in range(n)) - 5
            assert [e["reason"] for e in state["ledger"][-2:]] == ["bonus", "fine"]
        assert_consistent(db)
        async with await opened(db) as store:  # loaded from the table: the same state
            again = await store.state("ana")
            assert again == state
            await store.grant("ana", 2, "more", key="g-more")
            assert (await store.state("ana"))["ledger"][-1]["reason"] == "more"
            await store.reset("ana")
            after = await store.state("ana")
            assert after["points"] == 0 and after["ledger"] == []
            await store.grant("ana", 4, "fresh", key="g-fresh")
        assert_consistent(db)
        async with await opened(db) as store:
            fresh = await store.state("ana")
            assert [e["amount"] for e in fresh["ledger"]] == [4] and fresh["points"] == 4

    run(main())
    # the grants, the revoke, "more", the reset and "fresh", besides what the start wrote
    assert count(db, "SELECT count(*) FROM ledger WHERE kind != 'award'") == n + 4
    assert count(db, "SELECT count(*) FROM ledger WHERE kind = 'award'") >= 1
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE saves SET carry_to = ledger_seq, carry = 7")  # the sum is 4
    report = check(db)
    assert not report.ok and any("carried balance" in p for p in report.problems)
    assert KEEP < FOLD_AT


def test_a_version_1_database_is_migrated(tmp_path):
    db = tmp_path / "v1.db"
    with sqlite3.connect(db, isolation_level=None) as conn:
        conn.executescript(f"{_V1}\nPRAGMA user_version = 1;")

    async def main():
        async with await opened(db) as store:
            await store.register("ana")
            await play(store, "ana", 3, "a")

    run(main())
    assert count(db, "PRAGMA user_version") == LATEST
    assert_consistent(db)


# ---- progress and the synchronous facade --------------------------------------------


@BOTH
def test_progress_and_sync_store(db, tmp_path):
    with SyncStore.open(db, GAME, durability="normal") as store:
        store.register("ana", name="Ana", locale="es")
        assert store.player("ana").locale == "es"
        for i in range(10):
            store.apply("ana", next_action(GAME, store.state("ana")), f"k{i}")
        p = progress(GAME, store.state("ana"))
        assert 0 < p.visited <= p.reachable and p.endings >= 1
        assert 0 < p.percent <= 100
        assert store.top()[0].player == "ana"
    assert_consistent(db)


@BOTH
def test_action_for_a_moved_on_player_is_stale(db, tmp_path):
    """A button from an old message never moves a player who has moved on."""
    async def main():
        async with await opened(db) as store:
            await store.register("ana")
            await store.apply("ana", Start(), "s")
            old = await store.state("ana")
            await store.apply("ana", next_action(GAME, old), "move")
            choice = next_action(GAME, old)
            assert isinstance(choice, Choose)
            stale = await store.apply("ana", choice, "old-button")
            assert not stale.ok and stale.error == "stale"

    run(main())


# ---- the pipelined writer ------------------------------------------------------------


@WRITERS
def test_failed_batch_requeues_the_batches_computed_on_it(tmp_path, writer):
    """A key applied before is not looked up ahead: the batch holding its replay fails at
    INSERT, the batch computed behind it is discarded, and both run again correctly."""
    db = tmp_path / "s.db"

    async def main():
        async with await opened(db, writer=writer) as store:
            players = [f"p{i}" for i in range(20)]
            await asyncio.gather(*(store.register(p) for p in players))
            first = await store.apply("p0", Start(), "start-p0")
            await asyncio.gather(*(store.apply(p, Start(), f"start-{p}") for p in players[1:]))
            states = {p: await store.state(p) for p in players}
            taps = [store.apply("p0", Start(), "start-p0")]  # a replay, first in the queue
            taps += [store.apply(p, next_action(GAME, states[p]), f"tap-{p}") for p in players]
            results = await asyncio.gather(*taps)
            assert results[0].replayed and results[0].summary == first.summary
            assert all(r.ok and not r.replayed for r in results[1:])
            assert store.requeued == 21, store.requeued  # the failed batch and the one behind
            for p in players:
                assert (await store.state(p))["turn"] == 2

    run(main())
    assert count(db, "SELECT count(*) FROM applied_actions") == 40
    assert_consistent(db)


def test_a_dead_writer_process_fails_its_batches_and_is_started_again(tmp_path):
    """The writer process is stopped with batches in flight, then killed: their callers
    get a clear error, the same keys sent again apply exactly once, and the store goes on
    with a new writer process."""
    db = tmp_path / "s.db"
    players = [f"p{i}" for i in range(20)]

    async def main():
        async with await opened(db, writer="process") as store:
            await asyncio.gather(*(store.register(p) for p in players))
            await asyncio.gather(*(store.apply(p, Start(), f"start-{p}") for p in players))
            states = {p: await store.state(p) for p in players}
            first = store._io.proc
            os.kill(first.pid, signal.SIGSTOP)
            taps = [asyncio.ensure_future(store.apply(p, next_action(GAME, states[p]),
                                                      f"tap-{p}")) for p in players]
            while not store._io.waiting:  # a batch was sent and is not answered
                await asyncio.sleep(0.001)
            os.kill(first.pid, signal.SIGKILL)
            results = await asyncio.gather(*taps, return_exceptions=True)
            failed = [p for p, r in zip(players, results, strict=True)
                      if isinstance(r, BatchFailed)]
            assert failed, results
            assert all(r.ok for r in results if not isinstance(r, BaseException)), results
            assert "writer process stopped" in str(results[players.index(failed[0])])
            again = await asyncio.gather(*(store.apply(p, next_action(GAME, states[p]),
                                                       f"tap-{p}") for p in failed))
            assert all(r.ok for r in again)
            assert store._io.proc is not first and store._io.proc.returncode is None
            for p in players:
                assert (await store.state(p))["turn"] == 2

    run(main())
    assert count(db, "SELECT count(*) FROM applied_actions WHERE key LIKE 'tap-%'") == 20
    assert_consistent(db)


@WRITERS
def test_checkpoints_run_in_the_background(tmp_path, writer):
    """The store's own thread checkpoints the WAL while batches commit; the writers only
    keep a backstop far above it."""
    db = tmp_path / "s.db"
    players = [f"p{i}" for i in range(20)]

    async def main():
        async with await opened(db, writer=writer, checkpoint_every=0.01) as store:
            await asyncio.gather(*(store.register(p) for p in players))
            for round_ in range(10):
                await asyncio.gather(*(play(store, p, 2, f"{p}-{round_}") for p in players))
                await asyncio.sleep(0.02)
            checkpointer = store._checkpointer
            assert checkpointer.done > 0 and checkpointer.error is None
            (limit,) = await (await store._w.execute("PRAGMA wal_autocheckpoint")).fetchone()
            assert limit == AUTOCHECKPOINT_PAGES
        assert not checkpointer._thread.is_alive()  # stopped with the store

    run(main())
    assert_consistent(db)


def test_a_writer_process_that_cannot_open_the_database_is_a_clear_error(tmp_path):
    from engine.store.sqlite.pipeline import ProcessWriter

    with pytest.raises(StoreOpenError, match="writer process cannot open the database"):
        run(ProcessWriter(str(tmp_path), "FULL").start())  # a directory, not a file


@WRITERS
def test_another_writer_is_detected_not_overwritten(tmp_path, writer):
    db = tmp_path / "s.db"

    async def main():
        async with await opened(db, writer=writer) as a, await opened(db, writer=writer) as b:
            await a.register("ana")
            await a.apply("ana", Start(), "s")
            stale = await a.state("ana")  # now cached by `a`
            await b.apply("ana", next_action(GAME, await b.state("ana")), "by-b")
            await b.grant("ana", 3, "by b")  # the ledger grew too
            r = await a.apply("ana", next_action(GAME, stale), "by-a")
            # `a` noticed the save moved, reloaded it and applied the tap to the real state
            assert not r.ok and r.error == "stale"
            fresh = await a.state("ana")
            assert fresh["turn"] == 2 and balance_matches_ledger(fresh)
            r = await a.apply("ana", next_action(GAME, fresh), "by-a-2")
            assert r.ok and (await a.state("ana"))["turn"] == 3

    run(main())
    assert_consistent(db)


# ---- profile, audit, content swap, statistics ------------------------------------------


@BOTH
def test_update_player_changes_locale_and_name_in_one_audited_write(db, tmp_path):

    async def main():
        async with await opened(db) as store:
            await store.register("ana", name="Ana")
            await play(store, "ana", 3, "a")
            before = await store.state("ana")
            info = await store.update_player("ana", locale="es", name="  Ana   María ",
                                             actor="tg:1")
            assert (info.locale, info.name) == ("es", "Ana María")
            state = await store.state("ana")
            assert state["player"] == {**before["player"], "locale": "es", "name": "Ana María"}
            assert state["turn"] == before["turn"] and state["points"] == before["points"]
            assert render(GAME, state).text != render(GAME, before).text  # now in Spanish
            # nothing to change: nothing written
            await store.update_player("ana", locale="es")
            with pytest.raises(AdminError, match="unknown locale `fr`"):
                await store.update_player("ana", locale="fr")
            with pytest.raises(AdminError, match="1 to 64"):
                await store.update_player("ana", name=" ")
            with pytest.raises(UnknownPlayer):
                await store.update_player("nobody", locale="es")
            await play(store, "ana", 2, "b")  # the cached record carries on
        async with await opened(db) as store:
            info = await store.player("ana")
            assert (info.locale, info.name) == ("es", "Ana María")
            assert (await store.state("ana"))["player"]["locale"] == "es"

    run(main())
    found = rows(db, "SELECT player, ok, detail FROM events WHERE op = 'profile'")
    assert len(found) == 1 and found[0][0] is not None and found[0][1] == 1
    detail = json.loads(found[0][2])
    assert detail == {"actor": "tg:1", "locale": {"from": "en", "to": "es"},
                      "name": {"from": "Ana", "to": "Ana María"}}
    assert_consistent(db)


@BOTH
def test_audit_records_operations_done_outside_the_store(db, tmp_path):

    async def main():
        async with await opened(db) as store:
            await store.register("tg:7")
            await store.audit("tg:7", "admin:stats", {"refused": "not an admin"}, ok=False)
            await store.audit("tg:999", "admin:reload", {"version": "1.0.0"})
            with pytest.raises(StoreError):
                await store.audit("tg:999", " ", {})

    run(main())
    found = rows(db, "SELECT p.external_id, e.op, e.ok, e.detail FROM events e LEFT"
                     " JOIN players p ON p.id = e.player WHERE e.op LIKE 'admin:%'"
                     " ORDER BY e.id")
    assert [(r[0], r[1], r[2]) for r in found] == [("tg:7", "admin:stats", 0),
                                                  (None, "admin:reload", 1)]
    assert json.loads(found[1][3]) == {"actor": "tg:999", "version": "1.0.0"}


@BOTH_WRITERS
def test_swap_game_splits_the_queue_between_old_and_new_content(db, writer, tmp_path):
    new = game_of(changed_content(tmp_path / "v2", "1.1.0"))
    players = [f"p{i}" for i in range(40)]

    async def main():
        async with await opened(db, max_batch=7, writer=writer) as store:
            for p in players:
                await store.register(p)
            tasks = [asyncio.create_task(store.apply(p, Start("2025-01-06"), f"{p}:1"))
                     for p in players[:20]]
            swap = asyncio.create_task(store.swap_game(new, actor="tg:999"))
            tasks += [asyncio.create_task(store.apply(p, Start("2025-01-06"), f"{p}:1"))
                      for p in players[20:]]
            results = await asyncio.gather(*tasks)
            assert await swap is GAME and store.game is new
            versions = [r.outcome.state["content_version"] for r in results]
            assert versions == ["1.0.0"] * 20 + ["1.1.0"] * 20

    run(main())
    ((detail,),) = rows(db, "SELECT detail FROM events WHERE op = 'content'")
    d = json.loads(detail)
    assert (d["actor"], d["from"], d["to"]) == ("tg:999", "1.0.0", "1.1.0")
    assert_consistent(db)


@BOTH
def test_stats_counts_players_actions_visits_endings_achievements(db, tmp_path):

    async def main():
        async with await opened(db) as store:
            for p in ("ana", "bob", "cy"):
                await store.register(p)
            await play(store, "ana", 45, "a")  # an ending, an achievement
            await play(store, "bob", 7, "b", pick=1)  # another achievement
            s = await store.stats()
            states = [await store.state(p) for p in ("ana", "bob", "cy")]
            assert (s.players, s.started) == (3, 2)
            assert s.actions == s.actions_24h == count(
                db, "SELECT count(*) FROM events WHERE op = 'action' AND ok = 1")
            assert s.active_24h == 2 and s.points == sum(x["points"] for x in states)
            at = [x["fragment"] for x in states if x["fragment"]]
            assert s.at == {f: at.count(f) for f in at}
            # every playthrough counts: at least the current one's visits
            for x in states:
                for f, n in x["visits"].items():
                    assert s.visits[f] >= n and s.visitors[f] >= 1
            assert s.visitors[GAME.content.manifest.start] == 2
            assert s.visits[GAME.content.manifest.start] > states[0]["visits"].get(
                GAME.content.manifest.start, 0)  # ana restarted after her ending
            endings = [e for x in states for e in x["endings"]]
            assert s.endings == {e: endings.count(e) for e in endings}
            assert s.finished == sum(1 for x in states if x["endings"]) and endings
            held = [a for x in states for a in x["achievements"]]
            assert s.achievements == {a: held.count(a) for a in held} and held
            later = await store.stats(when=store.clock() + 2 * 86_400)
            assert later.active_24h == later.actions_24h == 0 and later.actions == s.actions

    run(main())


@BOTH
def test_reset_keeps_the_turn_counter_so_old_turns_stay_stale(db, tmp_path):

    async def main():
        async with await opened(db) as store:
            await store.register("ana")
            await play(store, "ana", 2, "a")
            old = await store.state("ana")
            old_tap = next_action(GAME, old)
            assert isinstance(old_tap, Choose) and old_tap.turn == old["turn"] == 2
            r = await store.reset("ana")
            assert r.summary["turn"] == old["turn"]
            fresh = await store.state("ana")
            assert fresh["turn"] == old["turn"] and fresh["playthrough"] == 0
            assert fresh["fragment"] is None
            await play(store, "ana", 1, "b")  # Start: a turn after every turn before
            assert (await store.state("ana"))["turn"] == old["turn"] + 1
            # a tap from before the reset never lines up with a turn after it
            r = await store.apply("ana", old_tap, "old")
            assert not r.ok and r.error == "stale"

    run(main())
    assert_consistent(db)
