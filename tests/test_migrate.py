"""Content versions: engine.migrate (pure), the store moving old saves once, `diana play`."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest
from storekit import changed_content, game_of, next_action, sample_game
from typer.testing import CliRunner

from cli.main import app
from engine.migrate import MOVED, RENAMED, RESET, RESTARTED, migrate_state, needs_migration
from engine.state import balance_matches_ledger, new_state
from engine.step import Choose, Start, step
from engine.store import SqliteStore
from engine.store.sqlite.check import check

GAME = sample_game()
runner = CliRunner()


def at_gate(game=GAME, locale="en"):
    """A player standing in `gate` (prologue → reveal → the car)."""
    out = step(game, new_state(game.content, locale=locale), Start("2025-01-06"))
    while out.state["fragment"] != "gate":
        out = step(game, out.state, next_action(game, out.state))
    return out.state


@pytest.fixture(scope="module")
def renamed(tmp_path_factory):
    """1.1.0: `gate` is now `iron_gate`, and the manifest says so."""
    where = tmp_path_factory.mktemp("renamed")
    return game_of(changed_content(where, "1.1.0", {"gate": "iron_gate"},
                                   {"gate": "iron_gate"}))


@pytest.fixture(scope="module")
def unmapped(tmp_path_factory):
    """1.2.0: `gate` is now `iron_gate`, without a migrate entry."""
    where = tmp_path_factory.mktemp("unmapped")
    return game_of(changed_content(where, "1.2.0", {"gate": "iron_gate"}))


# ---- the pure function -------------------------------------------------------------------


def test_nothing_to_do_returns_the_same_state(renamed):
    state = step(GAME, new_state(GAME.content), Start()).state
    assert migrate_state(GAME, state) == (state, None)
    assert migrate_state(renamed, state)[1] is None  # prologue still exists
    fresh = new_state(GAME.content)
    assert migrate_state(renamed, fresh) == (fresh, None)


def test_mapped_fragment_moves_the_player_and_renames_visits(renamed):
    state = at_gate()
    assert needs_migration(renamed.content, state)
    new, m = migrate_state(renamed, state, "2025-02-01")
    assert m is not None and m.how == MOVED and (m.old, m.new) == ("gate", "iron_gate")
    assert (m.from_version, m.to_version) == ("1.0.0", "1.1.0")
    assert new["fragment"] == "iron_gate" and new["content_version"] == "1.1.0"
    assert new["visits"]["iron_gate"] == state["visits"]["gate"] and "gate" not in new["visits"]
    assert new["turn"] == state["turn"] and new["points"] == state["points"]  # a move only
    assert m.outcome.screen is not None and m.outcome.screen.fragment == "iron_gate"
    assert "updated" in m.notice
    assert state["fragment"] == "gate"  # the input is untouched
    assert not needs_migration(renamed.content, new)


def test_unmapped_fragment_restarts_with_a_notice_in_the_players_locale(unmapped):
    state = at_gate(locale="es")
    new, m = migrate_state(unmapped, state, "2025-02-01")
    assert m is not None and m.how == RESTARTED and m.old == "gate"
    assert new["fragment"] == unmapped.content.manifest.start
    assert new["playthrough"] == state["playthrough"] + 1
    assert new["points"] >= state["points"] and balance_matches_ledger(new)
    assert "La historia se actualizó" in m.notice and "Besitos" in m.notice


def test_chains_are_followed_and_cycles_do_not_hang(tmp_path):
    chain = game_of(changed_content(tmp_path / "a", "2.0.0", {"gate": "gate_c"},
                                    {"gate": "gate_b", "gate_b": "gate_c"}))
    new, m = migrate_state(chain, at_gate())
    assert m.how == MOVED and new["fragment"] == "gate_c"
    loop = game_of(changed_content(tmp_path / "b", "2.0.0", {"gate": "gate_c"},
                                   {"gate": "gate_b", "gate_b": "gate"}))
    new, m = migrate_state(loop, at_gate())
    assert m.how == RESTARTED


def test_only_renamed_visits(renamed):
    state = at_gate()
    out = step(GAME, state, next_action(GAME, state))  # leave the gate
    assert out.state["fragment"] != "gate" and "gate" in out.state["visits"]
    new, m = migrate_state(renamed, out.state)
    assert m.how == RENAMED and m.notice is None
    assert "iron_gate" in new["visits"] and new["fragment"] == out.state["fragment"]


def test_a_state_restart_rejects_is_reset_never_raises(unmapped):
    state = {**at_gate(), "playthrough": 0}  # Restart refuses a story never started
    new, m = migrate_state(unmapped, state)
    assert m.how == RESET and new["fragment"] is None and m.notice
    assert step(unmapped, new, Start()).ok  # and the player can begin again


# ---- the store ---------------------------------------------------------------------------


def test_store_moves_an_old_save_once_and_records_it(renamed, tmp_path):
    db = tmp_path / "s.db"

    async def main():
        async with await SqliteStore.open(db, GAME, durability="normal") as store:
            await store.register("ana")
            await store.register("bob", locale="es")
            for p in ("ana", "bob"):
                state = await store.state(p)
                while state["fragment"] != "gate":
                    await store.apply(p, next_action(GAME, state), f"{p}{state['turn']}")
                    state = await store.state(p)
            await store.swap_game(renamed)  # as the bot's /reload does
            first = await store.resume("ana")
            assert first.migration is not None and first.notice
            assert first.state["fragment"] == "iron_gate"
            again = await store.resume("ana")
            assert again.migration is None and again.state is first.state
            # an action on a save that needs moving moves it first, then applies
            tap = Choose("ring", 99, "2025-02-01")
            r = await store.apply("bob", tap, "bob-tap")
            assert not r.ok and r.migration is not None and r.migration.new == "iron_gate"
            assert "La historia" in r.migration.notice
            assert (await store.state("bob"))["fragment"] == "iron_gate"
        async with await SqliteStore.open(db, renamed, durability="normal") as store:
            assert (await store.resume("ana")).migration is None  # it was written back

    asyncio.run(main())
    report = check(db)
    assert report.ok, report.problems
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT detail FROM events WHERE op = 'migrate'").fetchall()
        versions = dict(conn.execute("SELECT p.external_id, s.content_version FROM saves s"
                                     " JOIN players p ON p.id = s.player"))
    assert len(rows) == 2
    detail = json.loads(rows[0][0])
    assert (detail["how"], detail["from"], detail["to"]) == ("moved", "gate", "iron_gate")
    assert (detail["from_version"], detail["to_version"]) == ("1.0.0", "1.1.0")
    assert versions == {"ana": "1.1.0", "bob": "1.1.0"}


def test_store_restart_fallback_keeps_the_ledger_consistent(unmapped, tmp_path):
    db = tmp_path / "s.db"

    async def main():
        async with await SqliteStore.open(db, GAME, durability="normal") as store:
            await store.register("ana")
            state = await store.state("ana")
            while state["fragment"] != "gate":
                await store.apply("ana", next_action(GAME, state), f"a{state['turn']}")
                state = await store.state("ana")
            await store.swap_game(unmapped)
            resumed = await store.resume("ana")
            assert resumed.migration.how == RESTARTED
            assert resumed.state["playthrough"] == 2
            assert balance_matches_ledger(resumed.state)

    asyncio.run(main())
    assert check(db).ok


# ---- diana play --------------------------------------------------------------------------


def test_play_follows_the_migrate_map(renamed, tmp_path):
    db = tmp_path / "s.db"
    old = runner.invoke(app, ["play", "content", "--db", str(db)], input="1\n1\n")
    assert old.exit_code == 0, old.output
    new_dir = changed_content(tmp_path / "v2", "1.1.0", {"gate": "iron_gate"},
                              {"gate": "iron_gate"})
    out = runner.invoke(app, ["play", str(new_dir), "--db", str(db)], input="status\n")
    assert out.exit_code == 0, out.output
    assert "(saved under version 1.0.0)" in out.output
    assert "your place in it moved" in out.output
    assert "content 1.1.0" in out.output
    assert runner.invoke(app, ["db", "check", "--db", str(db)]).exit_code == 0
