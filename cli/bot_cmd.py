"""`diana bot run` (long polling) and `diana bot webhook` (an aiohttp server)."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer

app = typer.Typer(help="Run the Telegram bot.", no_args_is_help=True)


def _setup() -> object:
    from bot.config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    logging.basicConfig(level=config.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
    DIANA_START_RETRIES, DIANA_START_BACKOFF."""
    config = _setup()
    from bot.app import run_polling

    _run(lambda: run_polling(config))  # type: ignore[arg-type]


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
) -> None:
    """Serve updates pushed by Telegram (aiohttp)."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        typer.echo("error: --secret is required: 1-256 characters of A-Z a-z 0-9 _ -",
                   err=True)
        raise typer.Exit(2)
    config = _setup()
    from bot.app import run_webhook

    _run(lambda: run_webhook(config, host, port, secret, path, url))  # type: ignore[arg-type]
