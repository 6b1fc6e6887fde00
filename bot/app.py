"""Wiring: the Bot (custom API base, HTML, retry after 429), the Dispatcher with its
routers and middlewares, commands per language, long polling and the webhook server,
and a graceful shutdown that drains in-flight updates before closing the store."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, ErrorEvent

from bot.config import Config
from bot.events import start_events
from bot.handlers import admin, player
from bot.health import Health, add_routes, http_server
from bot.i18n import LOCALES, PLAYER_COMMANDS, pick_locale, t
from bot.metrics import Metrics
from bot.middlewares import FloodMiddleware, InflightMiddleware, UpdateLedgerMiddleware
from bot.ratelimit import Limiter, MemoryLimiter, SharedLimiter
from bot.service import Diana, check_content
from bot.startup import StartupError, call, check_telegram
from bot.supervisor import REUSE_PORT_ENV
from bot.telegram import JsonSession, RetryAfterMiddleware, pin_response_types, safe
from engine.game import Game, compile_game
from engine.store import StoreError, StoreUnavailable
from engine.store.open import open_store
from engine.store.postgres import PgStore

log = logging.getLogger("diana.bot")

# Middle-generation collections per full one (the collector's third threshold; CPython's
# default is 10). See open_diana.
FULL_COLLECTION_EVERY = 1000


def make_bot(config: Config) -> Bot:
    pin_response_types()
    session = (JsonSession(api=TelegramAPIServer.from_base(config.api_base))
               if config.api_base else JsonSession())
    session.middleware(RetryAfterMiddleware())
    return Bot(config.token, session=session,
               default=DefaultBotProperties(parse_mode=ParseMode.HTML))


async def load_game(config: Config) -> Game:
    """The story, checked and compiled; a StartupError says what is wrong with it."""
    checked = await asyncio.to_thread(check_content, config.content)
    if checked.problem is not None:
        raise StartupError(checked.problem)
    if checked.game_content is None:
        first = checked.errors[0] if checked.errors else None
        raise StartupError(f"the story in {config.content} has {len(checked.errors)} error(s)"
                           + (f", first: {first.loc}: {first.code} {first.message}" if first
                              else "") + "; run `diana lint`")
    return compile_game(checked.game_content)


@asynccontextmanager
async def started(config: Config, health: Health, metrics: Metrics
                  ) -> AsyncIterator[tuple[Bot, Diana]]:
    """The story (checked first: it needs no network), then the Bot once Telegram has
    accepted its token, then the store (so a refused token leaves no database behind).
    The store and the Bot's session are closed on exit."""
    game = await load_game(config)
    health.content_loaded = True
    bot = make_bot(config)
    try:
        await check_telegram(bot, config)
        async with open_diana(config, game, health, metrics) as diana:
            yield bot, diana
    finally:
        await bot.session.close()


@asynccontextmanager
async def open_diana(config: Config, game: Game, health: Health | None = None,
                     metrics: Metrics | None = None) -> AsyncIterator[Diana]:
    try:
        store = await open_store(config.db, game, durability=config.durability,
                                 outbox=config.outbox)
    except StoreError as exc:
        raise StartupError(str(exc)) from exc
    if health is not None:
        health.store = store
    diana = Diana(config, store, metrics)
    stream = await start_events(config, store, health, metrics)
    # Everything allocated so far (aiogram's models, the story) lives as long as the bot:
    # keep it out of the collector's full scans, which otherwise walk it again and again.
    gc.freeze()
    # Full collections far less often. Under load the heap holds every update in flight
    # and every cached save (about 270,000 objects at 1,000 players); with the default
    # threshold a full scan of them (about 160 ms) ran every half second and took a third
    # of the bot's CPU, while finding almost nothing: the bot's garbage is freed by
    # reference counting. Young collections keep their default rhythm.
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
    try:
        yield diana
    finally:
        await store.close()
        if stream is not None:
            await stream.close()


def make_dispatcher(diana: Diana) -> Dispatcher:
    dp = Dispatcher(diana=diana, disable_fsm=True)  # no handler keeps FSM state
    dp.update.outer_middleware(InflightMiddleware(diana))
    dp.update.outer_middleware(UpdateLedgerMiddleware(diana))
    flood = FloodMiddleware(diana, limiter(diana), diana.config.rate_window)
    dp.message.outer_middleware(flood)
    dp.callback_query.outer_middleware(flood)
    dp.include_router(admin.router())
    dp.include_router(player.router())

    @dp.errors()
    async def on_error(event: ErrorEvent) -> bool:
        away = isinstance(event.exception, StoreUnavailable)
        if away:  # expected while the database restarts: one line, no traceback
            diana.metrics.unavailable.inc()
            log.warning("update %s: %s", event.update.update_id, event.exception)
        else:
            diana.metrics.errors.labels("exception").inc()
            log.exception("update %s failed: %s", event.update.update_id, event.exception,
                          exc_info=event.exception)
        query = event.update.callback_query
        message = event.update.message
        user = (query or message).from_user if (query or message) else None
        m = diana.game.content.manifest
        locale = pick_locale(user.language_code if user else None, m.locales,
                             m.default_locale)
        text = t(locale, "unavailable" if away else "error")
        if query is not None:
            answered = await safe(query.answer(text), "answerCallbackQuery(error)")
            if answered is None and away and query.bot is not None:
                # answered already (a tap is answered at once): say it in the chat
                await safe(query.bot.send_message(query.from_user.id, text),
                           "sendMessage(error)")
        elif message is not None:
            await safe(message.answer(text), "sendMessage(error)")
        return True

    async def on_startup(bot: Bot) -> None:
        me = await bot.get_me()
        await set_commands(bot, diana)
        log.info("bot @%s up: story %s %s, %s", me.username, diana.game.content.version,
                 diana.game.content.digest[:8], diana.config.redacted())

    async def on_shutdown(bot: Bot) -> None:
        log.info("shutting down: draining %d in-flight update(s)", diana.busy)
        await diana.drain(diana.config.drain_timeout)

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return dp


def limiter(diana: Diana) -> Limiter:
    """Shared by every worker on PostgreSQL; this process's own on SQLite, where only one
    bot process serves players (`--workers` is refused there)."""
    c = diana.config
    if isinstance(diana.store, PgStore):
        return SharedLimiter(diana.store, c.rate_count, c.rate_window, diana.metrics)
    return MemoryLimiter(c.rate_count, c.rate_window)


async def set_commands(bot: Bot, diana: Diana) -> None:
    content_locales = diana.game.content.manifest.locales
    default = diana.game.content.manifest.default_locale
    default_ui = default if default in LOCALES else "en"

    def commands(locale: str) -> list[BotCommand]:
        return [BotCommand(command=c, description=t(locale, f"cmd_{c}"))
                for c in PLAYER_COMMANDS]

    await safe(bot.set_my_commands(commands(default_ui), scope=BotCommandScopeDefault()),
               "setMyCommands")
    for locale in content_locales:
        if locale in LOCALES:
            await safe(bot.set_my_commands(commands(locale), scope=BotCommandScopeDefault(),
                                           language_code=locale), "setMyCommands")
    extra = [BotCommand(command=c, description=f"admin: {c}") for c in admin.ADMIN_COMMANDS]
    for admin_id in sorted(diana.config.admins):
        await safe(bot.set_my_commands(commands(default_ui) + extra,
                                       scope=BotCommandScopeChat(chat_id=admin_id)),
                   "setMyCommands(admin)")


async def run_polling(config: Config) -> None:
    health, metrics = Health(), Metrics()
    async with http_server(config, health, {"/metrics": metrics.route}), \
            started(config, health, metrics) as (bot, diana):
        dp = make_dispatcher(diana)
        await call(config, lambda: bot.delete_webhook(drop_pending_updates=False),
                   "deleteWebhook")
        await dp.start_polling(bot, allowed_updates=dp.resolve_used_update_types(),
                               polling_timeout=20, handle_signals=True,
                               close_bot_session=True)


async def run_webhook(config: Config, host: str, port: int, secret: str, path: str,
                      url: str | None) -> None:
    from aiogram.webhook.aiohttp_server import setup_application
    from aiohttp import web

    from bot.webhook import MAX_UPDATE_BYTES, UpdateRequestHandler

    health, metrics = Health(), Metrics()
    async with started(config, health, metrics) as (bot, diana):
        dp = make_dispatcher(diana)
        app = web.Application(client_max_size=MAX_UPDATE_BYTES)
        add_routes(app, health, {"/metrics": metrics.route})
        UpdateRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(app,
                                                                                 path=path)
        setup_application(app, dp, bot=bot)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        # Workers of `--workers N` share the port (bot.supervisor)
        site = web.TCPSite(runner, host, port,
                           reuse_port=os.environ.get(REUSE_PORT_ENV) == "1" or None)
        try:
            await site.start()
        except OSError as exc:
            raise StartupError(f"--port {port}: cannot listen on {host}:{port}"
                               f" ({exc.strerror or exc})") from exc
        log.info("webhook listening on http://%s:%d%s", host, port, path)
        if url:
            await call(config, lambda: bot.set_webhook(
                url, secret_token=secret, allowed_updates=dp.resolve_used_update_types()),
                "setWebhook")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()  # runs the dispatcher's shutdown: drains in-flight updates
