"""Connecting to PostgreSQL: a URL in, a connection out, or one sentence that names
DIANA_DB and says what went wrong (the CLI and the bot print it and exit 2)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from engine.store.errors import StoreOpenError

SCHEMES = ("postgresql://", "postgres://")
CONNECT_TIMEOUT = 10.0  # seconds: a server that does not answer is an error at start
# What the store's own sessions run under (PgStore): a statement that takes longer is
# cancelled by the server, and the client gives up a little later if the server is gone,
# so a player waits seconds at worst, never minutes, for a database in trouble.
STATEMENT_TIMEOUT = 5.0
CLIENT_MARGIN = 2.0  # seconds the client waits past the server's timeout


def store_settings(statement_timeout: float = STATEMENT_TIMEOUT) -> dict[str, str]:
    """The server settings of the store's sessions."""
    return {"statement_timeout": str(max(1, round(statement_timeout * 1000)))}


def _command_timeout(settings: dict[str, str] | None) -> float | None:
    if not settings or "statement_timeout" not in settings:
        return None
    return int(settings["statement_timeout"]) / 1000 + CLIENT_MARGIN


def is_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(SCHEMES)


def shown(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rsplit("@", 1)[1]
        user = parts.username or ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return "(a URL that does not parse)"


def open_error(url: str, exc: BaseException) -> StoreOpenError:
    where = f"DIANA_DB ({shown(url)})"
    if isinstance(exc, asyncpg.PostgresError):
        said = f"the server said: {str(exc).strip().rstrip('.')}"
    elif isinstance(exc, TimeoutError | asyncio.TimeoutError):
        said = f"the server did not answer within {CONNECT_TIMEOUT:g} s"
    elif isinstance(exc, OSError):
        said = f"no PostgreSQL server answers there ({exc.strerror or exc})"
    else:  # a malformed URL: asyncpg raises ValueError and its own configuration errors
        said = f"the URL is not a usable PostgreSQL address ({exc})"
    return StoreOpenError(f"{where}: cannot open the PostgreSQL database: {said}")


async def connect(url: str, *, timeout: float = CONNECT_TIMEOUT,
                  settings: dict[str, str] | None = None) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(url, timeout=timeout, server_settings=settings,
                                     command_timeout=_command_timeout(settings))
    except (asyncpg.PostgresError, OSError, TimeoutError, ValueError,
            asyncpg.InterfaceError) as exc:
        raise open_error(url, exc) from exc


async def pool(url: str, size: int, settings: dict[str, str] | None = None) -> asyncpg.Pool:
    """A pool: a connection that broke (the server restarted) is replaced when next
    acquired, so readers recover by themselves once the server is back. No minimum size:
    asyncpg would keep reconnecting to restore one while the server is down, logging a
    traceback each time."""
    try:
        return await asyncpg.create_pool(url, min_size=0, max_size=size,
                                         timeout=CONNECT_TIMEOUT, server_settings=settings,
                                         command_timeout=_command_timeout(settings),
                                         reset=_keep_session)
    except (asyncpg.PostgresError, OSError, TimeoutError, ValueError,
            asyncpg.InterfaceError) as exc:
        raise open_error(url, exc) from exc


async def _keep_session(_: asyncpg.Connection) -> None:
    """A released pool connection is not reset: the store's pooled sessions change no
    session state (no SET, LISTEN, cursors or session advisory locks), and asyncpg's
    default reset (pg_advisory_unlock_all, CLOSE ALL, UNLISTEN, RESET ALL) cost one more
    round trip per read, as many as the reads themselves. An open transaction is still
    rolled back by asyncpg before this is called."""
