"""`diana db …`: create, migrate and check the player database.

Exit status: 0 all good, 1 the check found problems, 2 the file cannot be used.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from engine.store.check import check as check_store
from engine.store.errors import StoreError
from engine.store.migrations import LATEST
from engine.store.sqlite import prepare

DEFAULT_DB = Path("diana.sqlite3")

app = typer.Typer(help="The player database: migrate and check it.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)

DbOption = Annotated[Path, typer.Option("--db", help="SQLite file holding player data.")]


async def _migrate(db: Path) -> int:
    conn = await prepare(db)
    try:
        (version,) = await (await conn.execute("PRAGMA user_version")).fetchone()
    finally:
        await conn.close()
    return int(version)


@app.command()
def migrate(db: DbOption = DEFAULT_DB) -> None:
    """Create the database or bring its schema up to date."""
    try:
        version = asyncio.run(_migrate(db))
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{db}: schema version {version} (latest {LATEST})")


@app.command()
def check(db: DbOption = DEFAULT_DB) -> None:
    """Verify the database: balances == ledger sums, saves parse, every applied action has
    its effects, leaderboards match the ledger, schema version, SQLite integrity."""
    try:
        report = check_store(db)
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for problem in report.problems:
        typer.echo(f"✗ {problem}")
    summary = (f"{db}: schema {report.version}, {report.players} players,"
               f" {report.ledger} ledger entries, {report.applied} applied actions")
    if report.ok:
        typer.echo(f"✓ {summary}: consistent")
        return
    typer.echo(f"{summary}: {len(report.problems)} problem(s)")
    raise typer.Exit(1)
