"""What only the PostgreSQL backend has: URLs, the server's refusals, the schema table,
and the CLI on a PostgreSQL database. Each test runs in a scratch database (pgkit.py)."""

from __future__ import annotations

import asyncio

import asyncpg
import pgkit
import pytest
from storekit import sample_game
from typer.testing import CliRunner

from cli.main import app
from engine.store import SchemaTooNew, StoreOpenError
from engine.store.open import open_store
from engine.store.postgres.schema import LATEST

GAME = sample_game()


@pytest.fixture
def url():
    with pgkit.scratch_database() as u:
        yield u


def refusal(target: str) -> str:
    with pytest.raises(StoreOpenError) as info:
        asyncio.run(open_store(target, GAME))
    return str(info.value)


def test_bad_targets_are_one_sentence_naming_diana_db(url):
    server = url.rsplit("/", 1)[0]
    missing = refusal(f"{server}/diana_no_such_database")
    assert missing.startswith("DIANA_DB (") and "does not exist" in missing
    no_role = refusal(url.replace("postgres@", "diana_no_such_role@"))
    assert no_role.startswith("DIANA_DB (") and "diana_no_such_role" in no_role
    down = refusal("postgresql://postgres@127.0.0.1:1/test")
    assert "no PostgreSQL server answers there" in down
    bad = refusal("postgresql://postgres@127.0.0.1:notaport/test")
    assert "not a usable PostgreSQL address" in bad
    secret = refusal("postgresql://someone:s3cret@127.0.0.1:1/test")
    assert "s3cret" not in secret and "someone:***@" in secret
    for text in (missing, no_role, down, bad):
        assert "\n" not in text


def test_an_older_schema_asks_for_upgrade_and_a_newer_one_is_refused(url):
    async def newer():
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, 'x')",
                               LATEST + 1)
        finally:
            await conn.close()

    with pgkit.scratch_database(migrated=False) as empty:
        assert "run `diana db upgrade` first" in refusal(empty)
        assert pgkit.count(empty, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                           ) == 0  # refusing wrote nothing
    asyncio.run(newer())
    with pytest.raises(SchemaTooNew):
        asyncio.run(open_store(url, GAME))


def test_two_upgrades_at_once_apply_each_migration_once():
    with pgkit.scratch_database(migrated=False) as empty:
        from engine.store.open import upgrade

        async def both():
            return await asyncio.gather(upgrade(empty), upgrade(empty))

        assert asyncio.run(both()) == [(LATEST, LATEST), (LATEST, LATEST)]
        assert pgkit.count(empty, "SELECT count(*) FROM schema_migrations") == LATEST


def test_the_cli_works_on_a_postgresql_database(url, monkeypatch):
    runner = CliRunner()
    monkeypatch.setenv("DIANA_DB", url)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    played = runner.invoke(app, ["play", "content", "--player", "ana"], input="1\n1\nquit\n")
    assert played.exit_code == 0, played.output
    granted = runner.invoke(app, ["db", "grant", "ana", "5", "welcome gift"])
    assert granted.exit_code == 0, granted.output
    board = runner.invoke(app, ["db", "leaderboard"])
    assert board.exit_code == 0 and "ana" in board.output
    checked = runner.invoke(app, ["db", "check"])
    assert checked.exit_code == 0 and "consistent" in checked.output, checked.output
    stats = runner.invoke(app, ["stats"])
    assert stats.exit_code == 0, stats.output
    assert stats.output.startswith("1 players · 1 started")
    missing = url.rsplit("/", 1)[0] + "/diana_no_such_database"
    refused = runner.invoke(app, ["db", "grant", "ana", "5", "gift", "--db", missing])
    assert refused.exit_code == 2
    assert refused.output.count("\n") == 1 and "DIANA_DB (" in refused.output
