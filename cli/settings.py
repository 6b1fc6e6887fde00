"""Settings every command shares: where the player database is, and the version.

One setting means one database for every command: `--db` wins, then `DIANA_DB` from the
environment, then `DIANA_DB` from the `.env` file the bot reads (DIANA_ENV_FILE, default
`.env`), then `diana.sqlite3`. A postgresql:// URL names a PostgreSQL database instead
(engine/store/open.py); it stays a string, as a Path would fold its `//`.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import typer

from bot.config import ConfigError, read_dotenv

DEFAULT_DB = "diana.sqlite3"

DbOption = Annotated[str, typer.Option(
    "--db", envvar="DIANA_DB", show_envvar=True, metavar="FILE|URL",
    help="Player data: an SQLite file, or a PostgreSQL database as"
    " postgresql://user@host:5432/db (engine/store/open.py picks the backend).")]


def adopt_env_file() -> None:
    """Take DIANA_DB from the bot's .env file into the environment when the environment
    does not set it, so that `diana db …` and `diana play` open the bot's database."""
    if os.environ.get("DIANA_DB", "").strip():
        return
    path = Path(os.environ.get("DIANA_ENV_FILE", ".env"))
    try:
        value = read_dotenv(path).get("DIANA_DB", "").strip()
    except ConfigError as exc:
        typer.echo(f"warning: {exc}; DIANA_DB is not taken from it", err=True)
        return
    if value:
        os.environ["DIANA_DB"] = value


def diana_version() -> str:
    try:
        return version("diana")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"
