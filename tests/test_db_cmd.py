"""`diana db grant|revoke|export|reset|delete|leaderboard`: thin wrappers over the store."""

from __future__ import annotations

import json

import pytest
from storekit import SAMPLE, next_action, sample_game
from typer.testing import CliRunner

from cli.main import app
from engine.store import SyncStore
from engine.store.sqlite.check import check

runner = CliRunner()
GAME = sample_game()


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "s.db"
    with SyncStore.open(path, GAME, durability="normal") as store:
        for name in ("ana", "bob"):
            store.register(name, name=name.title())
            for i in range(4):
                store.apply(name, next_action(GAME, store.state(name)), f"{name}{i}")
    return path


def db_cmd(db, *args: str):
    result = runner.invoke(app, ["db", args[0], "--db", str(db), "--content", str(SAMPLE),
                                 *args[1:]])
    assert "Traceback" not in result.output, result.output
    return result


def balance(db, player: str) -> int:
    with SyncStore.open(db, GAME) as store:
        return store.state(player)["points"]


def test_grant_and_revoke(db):
    before = balance(db, "ana")
    r = db_cmd(db, "grant", "ana", "30", "contest winner")
    assert r.exit_code == 0, r.output
    assert f"balance {before + 30}" in r.output
    assert db_cmd(db, "revoke", "ana", "10", "abuse").exit_code == 0
    assert balance(db, "ana") == before + 20
    # exactly once with a key
    assert db_cmd(db, "grant", "ana", "5", "gift", "--key", "k1").exit_code == 0
    again = db_cmd(db, "grant", "ana", "5", "gift", "--key", "k1")
    assert again.exit_code == 0 and "already applied" in again.output
    assert balance(db, "ana") == before + 25
    too_much = db_cmd(db, "revoke", "ana", "100000", "abuse")
    assert too_much.exit_code == 1 and "cannot revoke" in too_much.output
    assert check(db).ok


@pytest.mark.parametrize("args, code, text", [
    (["grant", "nobody", "5", "x"], 1, "unknown player `nobody`"),
    (["grant", "ana", "five", "x"], 2, "whole number"),
    (["grant", "ana", "1.5", "x"], 2, "whole number"),
    (["revoke", "ana", "0", "x"], 2, "positive"),
    (["grant", "ana", "--", "-3", "x"], 2, "positive"),
    (["grant", "ana", "5", "  "], 2, "reason is required"),
    (["delete", "ana"], 2, "--yes"),
    (["export", "nobody"], 1, "unknown player"),
    (["reset", "nobody"], 1, "unknown player"),
    (["leaderboard", "--period", "year"], 2, "unknown period `year`"),
])
def test_wrong_arguments_get_clear_errors(db, args, code, text):
    r = db_cmd(db, *args)
    assert r.exit_code == code, r.output
    assert text in r.output
    assert check(db).ok


def test_missing_or_unusable_files(tmp_path, db):
    r = db_cmd(tmp_path / "nope.db", "grant", "ana", "5", "x")
    assert r.exit_code == 2 and "no such database file" in r.output
    assert not (tmp_path / "nope.db").exists()  # an admin command never creates one
    r = runner.invoke(app, ["db", "grant", "ana", "5", "x", "--db", str(db), "--content",
                            str(tmp_path / "no-story")])
    assert r.exit_code == 2 and "error:" in r.output


def test_export_reset_delete_leaderboard(db, tmp_path):
    db_cmd(db, "grant", "bob", "500", "bonus")
    board = db_cmd(db, "leaderboard")
    assert board.exit_code == 0
    lines = board.output.splitlines()
    assert lines[0].strip().startswith("1. Bob (bob)") and "2. Ana (ana)" in lines[1]
    for period in ("week", "month"):
        assert db_cmd(db, "leaderboard", "--period", period).exit_code == 0
    out = db_cmd(db, "export", "ana")
    assert out.exit_code == 0
    data = json.loads(out.output)
    assert data["player"]["id"] == "ana"
    assert data["save"]["points"] == sum(e["amount"] for e in data["ledger"])
    target = tmp_path / "ana.json"
    assert db_cmd(db, "export", "ana", "-o", str(target)).exit_code == 0
    assert json.loads(target.read_text())["player"]["name"] == "Ana"
    r = db_cmd(db, "reset", "ana")
    assert r.exit_code == 0 and "reset `ana`" in r.output
    assert balance(db, "ana") == 0
    r = db_cmd(db, "delete", "bob", "--yes")
    assert r.exit_code == 0 and "deleted `bob`" in r.output
    assert db_cmd(db, "export", "bob").exit_code == 1
    assert "(all: nobody has points yet)" in db_cmd(db, "leaderboard").output
    report = check(db)
    assert report.ok and report.players == 1
