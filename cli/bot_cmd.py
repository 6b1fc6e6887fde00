"""`diana bot run` (long polling), `diana bot webhook` (an aiohttp server) and `diana bot
dev` (the bot against the Bot API emulator, played in a local web chat page)."""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bot.config import Config
    from bot.testing import EmulatorThread

app = typer.Typer(help="Run the Telegram bot.", no_args_is_help=True)

DEV_PORT = 8600
DEV_USER_ID = 1  # the local player of `diana bot dev` (player tg:1), an admin there


def _setup(environ: Mapping[str, str] | None = None, webhook_secret: str | None = None
           ) -> Config:
    from bot.config import ConfigError, load_config
    from bot.logs import secrets_of, setup

    try:
        config = load_config(environ)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    setup(config.log_level, config.log_format,
          secrets_of(config.token, str(config.db), webhook_secret))
    return config


def _run(coro_factory) -> None:
    from bot.app import StartupError

    try:
        _loop_runner()(coro_factory())
    except StartupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        pass


def _loop_runner():
    """uvloop's event loop where it is installed (aiogram's `fast` extra, a dependency on
    Linux and macOS): the bot is network-bound Python and spends much of its time in the
    event loop and its transports. asyncio's own loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


@app.command()
def run() -> None:
    """Long polling. Settings come from the environment or .env: BOT_TOKEN,
    TELEGRAM_API_BASE, DIANA_DB, DIANA_CONTENT, DIANA_ADMINS, DIANA_LOG_LEVEL,
    DIANA_RATE_LIMIT, DIANA_DRAIN_TIMEOUT, DIANA_PAGES, DIANA_DURABILITY,
    DIANA_START_RETRIES, DIANA_START_BACKOFF, DIANA_HTTP_PORT, DIANA_HTTP_HOST,
    DIANA_LOG_FORMAT."""
    config = _setup()
    from bot.app import run_polling

    _run(lambda: run_polling(config))


@app.command()
def webhook(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    secret: Annotated[str, typer.Option(help="Secret token Telegram sends in"
                                        " X-Telegram-Bot-Api-Secret-Token.",
                                        envvar="DIANA_WEBHOOK_SECRET")] = "",
    path: Annotated[str, typer.Option(help="URL path of the webhook.")] = "/webhook",
    url: Annotated[str | None, typer.Option(help="Public URL to register with setWebhook"
                                            " (omit if it is already set).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes sharing"
                                         " the port (SO_REUSEPORT), restarted when they"
                                         " die; more than 1 needs PostgreSQL.")] = 1,
) -> None:
    """Serve updates pushed by Telegram (aiohttp), and /healthz and /readyz."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        typer.echo("error: --secret is required: 1-256 characters of A-Z a-z 0-9 _ -",
                   err=True)
        raise typer.Exit(2)
    config = _setup(webhook_secret=secret)
    if workers > 1:
        from engine.store.postgres.connect import is_url

        if not is_url(str(config.db)):
            typer.echo(f"error: --workers {workers} needs PostgreSQL (DIANA_DB=postgresql://"
                       f"…), not the SQLite file {config.db}: each process would keep its"
                       " own copy of the saves it read and its own rate limit, so players"
                       " would see pages from stale copies; run one worker on SQLite",
                       err=True)
            raise typer.Exit(2)
        from bot.supervisor import supervise

        args = ["--host", host, "--port", str(port), "--path", path]
        raise typer.Exit(supervise(args, workers, config.drain_timeout,
                                   ["--url", url] if url else [],
                                   {"DIANA_WEBHOOK_SECRET": secret}))
    from bot.app import run_webhook

    _run(lambda: run_webhook(config, host, port, secret, path, url))


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="Port of the chat page and the Bot API emulator,"
                                      " on 127.0.0.1 only (0: any free port).")] = DEV_PORT,
) -> None:
    """Play the story locally without Telegram: the bundled Bot API emulator serves a web
    chat page on 127.0.0.1, and the real bot talks to it over HTTP as it would to
    Telegram. DIANA_CONTENT, DIANA_DB and the other settings as for `bot run`; no
    BOT_TOKEN needed. The local player is an admin (/reload after editing the story)."""
    from bot.config import ConfigError, read_dotenv
    from bot.testing import EmulatorThread
    from bot.testing.webchat import LocalUser, add_chat

    user = LocalUser(DEV_USER_ID, "Writer")
    emu = EmulatorThread(port=port, setup_app=lambda web_app, e: add_chat(web_app, e, user))
    try:
        emu.start()
    except OSError as exc:
        why = ("in use" if exc.errno == errno.EADDRINUSE
               else f"{exc.strerror or exc}")
        typer.echo(f"error: --port {port}: cannot listen on 127.0.0.1:{port} ({why}); pick"
                   " another port", err=True)
        raise typer.Exit(2) from exc
    try:
        try:
            admins = os.environ.get("DIANA_ADMINS") or read_dotenv(
                Path(os.environ.get("DIANA_ENV_FILE", ".env"))).get("DIANA_ADMINS", "")
        except ConfigError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        # a fake token and the emulator's address: the bot needs no Telegram here
        config = _setup({**os.environ, "BOT_TOKEN": emu.token,
                         "TELEGRAM_API_BASE": emu.base_url,
                         "DIANA_ADMINS": ",".join(filter(None, (admins, str(user.id))))})
        _run(lambda: _dev(config, emu))
    finally:
        emu.stop()


async def _dev(config: Config, emu: EmulatorThread) -> None:
    """The bot, and how to play once it polls the emulator."""
    from bot.app import run_polling

    bot = asyncio.ensure_future(run_polling(config))
    while not emu.polls and not bot.done():
        await asyncio.wait({bot}, timeout=0.05)
    if not bot.done():
        typer.echo(f"Diana dev: the story in {config.content}, players in {config.db}.\n"
                   f"Play at {emu.base_url}/ in a browser: send /start, tap the buttons."
                   f" You are player tg:{DEV_USER_ID}, an admin (/reload after editing"
                   " the story, /stats, /player).\nCtrl-C stops the bot and the emulator.")
    await bot
