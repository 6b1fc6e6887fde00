"""Player commands and buttons."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message, Update

from bot import play, views
from bot.i18n import t
from bot.keyboards import (
    BOARDS,
    BoardCb,
    ChoiceCb,
    KeepCb,
    LangCb,
    MenuCb,
    PageCb,
    RestartCb,
    board_keyboard,
    language_keyboard,
)
from bot.service import Diana
from bot.telegram import safe


def router() -> Router:
    r = Router(name="player")

    @r.message(CommandStart())
    async def on_start(message: Message, bot: Bot, diana: Diana, event_update: Update) -> None:
        if message.from_user is None:
            return
        await play.start(bot, diana, message.from_user, message.chat.id,
                         event_update.update_id)

    @r.message(Command("restart"))
    async def on_restart(message: Message, bot: Bot, diana: Diana) -> None:
        if message.from_user is not None:
            await play.ask_restart(bot, diana, message.from_user, message.chat.id)

    @r.message(Command("profile"))
    async def on_profile(message: Message, diana: Diana) -> None:
        state = await _state(message, diana)
        if state is not None:
            await safe(message.answer(views.profile(diana.game, state,
                                                    state["player"]["locale"])), "sendMessage")

    @r.message(Command("achievements"))
    async def on_achievements(message: Message, diana: Diana) -> None:
        state = await _state(message, diana)
        if state is None:
            return
        for part in views.achievements(diana.game, state, state["player"]["locale"]):
            await safe(message.answer(part), "sendMessage")

    @r.message(Command("leaderboard", "top"))
    async def on_leaderboard(message: Message, diana: Diana) -> None:
        if message.from_user is None:
            return
        text, locale = await _board(diana, message.from_user.id, message.from_user, "all")
        await safe(message.answer(text, reply_markup=board_keyboard("all", locale)),
                   "sendMessage")

    @r.message(Command("help"))
    async def on_help(message: Message, diana: Diana) -> None:
        state = await _state(message, diana, quiet=True)
        locale = play.locale_of(diana, state, message.from_user)
        await safe(message.answer(t(locale, "help",
                                    currency=views.currency(diana.game, locale))),
                   "sendMessage")

    @r.message(Command("language"))
    async def on_language(message: Message, diana: Diana) -> None:
        state = await _state(message, diana, quiet=True)
        locale = play.locale_of(diana, state, message.from_user)
        locales = diana.game.content.manifest.locales  # content text exists in each
        await safe(message.answer(t(locale, "language_prompt"),
                                  reply_markup=language_keyboard(locales, locale)),
                   "sendMessage")

    @r.callback_query(ChoiceCb.filter())
    async def on_choice(query: CallbackQuery, callback_data: ChoiceCb, bot: Bot,
                        diana: Diana) -> None:
        await play.choose(bot, diana, query, callback_data)

    @r.callback_query(PageCb.filter())
    async def on_page(query: CallbackQuery, callback_data: PageCb, bot: Bot,
                      diana: Diana) -> None:
        await play.flip(bot, diana, query, callback_data)

    @r.callback_query(MenuCb.filter())
    async def on_menu(query: CallbackQuery, callback_data: MenuCb, bot: Bot,
                      diana: Diana) -> None:
        await play.menu(bot, diana, query, callback_data)

    @r.callback_query(RestartCb.filter())
    async def on_restart_button(query: CallbackQuery, callback_data: RestartCb, bot: Bot,
                                diana: Diana) -> None:
        await play.restart(bot, diana, query, callback_data)

    @r.callback_query(KeepCb.filter())
    async def on_keep(query: CallbackQuery, callback_data: KeepCb, bot: Bot,
                      diana: Diana) -> None:
        await play.keep(bot, diana, query, callback_data)

    @r.callback_query(BoardCb.filter(F.kind.in_(BOARDS)))
    async def on_board(query: CallbackQuery, callback_data: BoardCb, diana: Diana) -> None:
        await play.answer(query)
        text, locale = await _board(diana, query.from_user.id, query.from_user,
                                    callback_data.kind)
        msg = play.editable(query)
        if msg is not None:  # the same tab again is "message is not modified": harmless
            await safe(msg.edit_text(text, reply_markup=board_keyboard(callback_data.kind,
                                                                       locale)),
                       "editMessageText(board)")

    @r.callback_query(LangCb.filter())
    async def on_lang(query: CallbackQuery, callback_data: LangCb, bot: Bot,
                      diana: Diana) -> None:
        await play.set_language(bot, diana, query, callback_data.locale)

    @r.callback_query()
    async def on_unknown_button(query: CallbackQuery, diana: Diana) -> None:
        # Garbage or foreign callback data: answered, nothing changes.
        state = await play.current_state(diana, diana.player_id(query.from_user.id))
        await play.answer(query, t(play.locale_of(diana, state, query.from_user),
                                   "invalid_button"))

    @r.message()
    async def on_other(message: Message, bot: Bot, diana: Diana, event_update: Update
                       ) -> None:
        text = message.text or ""
        if message.from_user is not None and not text.startswith("/") and await play.typed(
                bot, diana, message.from_user, message.chat.id, text, event_update.update_id):
            return
        state = await _state(message, diana, quiet=True)
        await safe(message.answer(t(play.locale_of(diana, state, message.from_user),
                                    "unknown")), "sendMessage")

    return r


async def _state(message: Message, diana: Diana, quiet: bool = False):
    if message.from_user is None:
        return None
    state = await play.current_state(diana, diana.player_id(message.from_user.id))
    if state is None and not quiet:
        locale = play.locale_of(diana, None, message.from_user)
        await safe(message.answer(t(locale, "not_started")), "sendMessage")
    return state


async def _board(diana: Diana, user_id: int, user, kind: str) -> tuple[str, str]:
    player = diana.player_id(user_id)
    state = await play.current_state(diana, player)
    locale = play.locale_of(diana, state, user)
    top = await diana.store.top(kind, 10)
    me = await diana.store.standing(player, kind, around=0) if state is not None else None
    return views.leaderboard(top, me, kind, locale), locale
