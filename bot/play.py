"""Playing: updates become store actions (each under its idempotency key, one player at a
time) and outcomes become pages. No game logic here: staleness, locks, costs and rewards
are decided by the engine; the snapshot checks below only choose what to answer a tap
with before the real work starts."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from html import escape
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.types import (
    CallbackQuery,
    FSInputFile,
    InaccessibleMessage,
    Message,
    User,
)

from bot import views
from bot.i18n import LANGUAGE_NAMES, pick_locale, t
from bot.keyboards import (
    ChoiceCb,
    KeepCb,
    PageCb,
    RestartCb,
    content_tag,
    restart_keyboard,
    screen_keyboard,
)
from bot.logs import elapsed, note_action
from bot.service import Diana
from bot.telegram import (
    AnswerQuery,
    EditKeyboard,
    EditPage,
    SendPage,
    StripKeyboard,
    page_params,
    safe,
)
from engine.screen import Screen, buttons, render
from engine.state import State
from engine.step import Action, Choose, Restart, Start
from engine.store import ActionResult, StoreError, UnknownPlayer

log = logging.getLogger("diana.bot")


def today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def message_key(update_id: int) -> str:
    return f"tg:u:{update_id}"


def query_key(query: CallbackQuery) -> str:
    return f"tg:cb:{query.id}"


def locale_of(diana: Diana, state: State | None, user: User | None) -> str:
    if state is not None:
        return state["player"]["locale"]
    m = diana.game.content.manifest
    return pick_locale(user.language_code if user else None, m.locales, m.default_locale)


async def answer(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    params: dict[str, Any] = {"callback_query_id": query.id}
    if text:
        params["text"] = text[:200]
    if alert:
        params["show_alert"] = True
    assert query.bot is not None  # set by the dispatcher on every update it parses
    await safe(query.bot(AnswerQuery(params=params)), "answerCallbackQuery")


def editable(query: CallbackQuery) -> Message | None:
    msg = query.message
    return None if msg is None or isinstance(msg, InaccessibleMessage) else msg


async def strip_keyboard(bot: Bot, chat_id: int, message_id: int) -> None:
    """Remove the buttons of a page the player has moved past ("not modified" when they
    are already gone is expected and ignored)."""
    await safe(bot(StripKeyboard(params={"chat_id": chat_id, "message_id": message_id})),
               "editMessageReplyMarkup")


async def send_page(bot: Bot, diana: Diana, chat_id: int, player: str, state: State,
                    screen: Screen | None = None, notices: tuple[str, ...] = (),
                    lead: str | None = None, moved_from: Message | None = None) -> None:
    game = diana.game
    if screen is None:
        screen = render(game, state)
    locale = state["player"]["locale"]
    moved = diana.moved.pop(player, None)
    if moved is not None:  # the save was moved to new content: say so once, first
        notices = (*moved.outcome.notices, *notices)
        if moved.notice:
            lead = f"{moved.notice}\n\n{lead}" if lead else moved.notice
    previous = diana.last_page.pop(player, None)
    keyboard = screen_keyboard(game.content, screen, state["turn"], locale)
    fragment = game.content.fragments.get(screen.fragment)
    image = fragment.image if fragment is not None else None
    tapped = (moved_from.chat.id, moved_from.message_id) if moved_from else None
    if diana.config.pages == "edit" and tapped is not None and tapped == previous \
            and not image:
        # The tapped page becomes the next one, notices on top: one call instead of three
        # (strip, notices, page). A page too long for one message goes on in new ones, the
        # keyboard under the last (an edit without one removes the tapped page's).
        head = "\n".join(notices)
        parts = views.page(game, state, screen, locale,
                           f"{head}\n\n{lead}" if head and lead else head or lead)
        whole = len(parts) == 1
        edited = await safe(bot(EditPage(params=page_params(
            tapped[0], parts[0], keyboard if whole else None, message_id=tapped[1]))),
            "editMessageText(page)")
        if edited is not None:
            if not whole:
                await send_parts(bot, diana, tapped[0], player, parts[1:], keyboard)
                return
            page_sent(diana)
            if keyboard is not None:
                diana.last_page[player] = tapped
            return
    # The pages left behind lose their buttons while the new page is being sent.
    strips = [strip_keyboard(bot, *old) for old in {previous, tapped} if old is not None]
    await asyncio.gather(*strips, _send_page(bot, diana, chat_id, player, state, screen,
                                             notices, lead, keyboard, image))


async def _send_page(bot: Bot, diana: Diana, chat_id: int, player: str, state: State,
                     screen: Screen, notices: tuple[str, ...], lead: str | None,
                     keyboard: dict[str, Any] | None, image: str | None) -> None:
    text = views.notices_text(notices)
    if text:
        await safe(bot.send_message(chat_id, text), "sendMessage(notices)")
    if image:
        await send_image(bot, chat_id, diana.config.content, image)
    parts = views.page(diana.game, state, screen, state["player"]["locale"], lead)
    await send_parts(bot, diana, chat_id, player, parts, keyboard)


async def send_parts(bot: Bot, diana: Diana, chat_id: int, player: str, parts: list[str],
                     keyboard: dict[str, Any] | None) -> None:
    """A page's messages in order, the keyboard under the last."""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        sent = await safe(bot(SendPage(params=page_params(chat_id, part,
                                                          keyboard if last else None))),
                          "sendMessage(page)")
        if sent is None:
            return  # blocked, or refused: the rest would fail the same way
        if last:
            page_sent(diana)
        if last and keyboard is not None:
            diana.last_page[player] = (chat_id, sent["message_id"])


async def send_image(bot: Bot, chat_id: int, content_dir: Path, image: str) -> None:
    if image.startswith(("http://", "https://")):
        photo: str | FSInputFile = image
    else:
        path = (content_dir / image).resolve()
        if not path.is_file() or content_dir.resolve() not in path.parents:
            log.warning("image %s not found under %s", image, content_dir)
            return
        photo = FSInputFile(path)
    await safe(bot.send_photo(chat_id, photo), "sendPhoto")


async def report(bot: Bot, diana: Diana, chat_id: int, player: str, result: ActionResult,
                 locale: str, moved_from: Message | None = None, lead: str | None = None
                 ) -> None:
    """Show what an applied action did."""
    if result.replayed:
        log.info("replayed %s for %s: nothing to do", result.key, player)
        return
    if result.migration is not None:  # the save was moved to new content first
        diana.moved[player] = result.migration
        if not (result.ok and result.outcome is not None):
            state = result.migration.outcome.state
            await send_page(bot, diana, chat_id, player, state, moved_from=moved_from)
            return
    if result.ok and result.outcome is not None:
        o = result.outcome
        await send_page(bot, diana, chat_id, player, o.state, o.screen, o.notices, lead,
                        moved_from)
        return
    code = result.error
    diana.metrics.errors.labels(code or "unknown").inc()
    if code == "stale":
        return  # a double tap: the first tap moved the player; this one changes nothing
    text = {"not-started": t(locale, "not_started"), "ended": t(locale, "ended_hint")
            }.get(code or "")
    if text is None and code in ("locked", "cannot-afford"):
        text = result.message
    if text is None:
        log.warning("action %s of %s rejected: %s %s", result.key, player, code,
                    result.message)
        text = t(locale, "error")
    await safe(bot.send_message(chat_id, views.notices_text([text]) or "…"), "sendMessage")


async def apply(diana: Diana, player: str, action: Action, key: str) -> ActionResult:
    note_action(key)
    began = time.perf_counter()
    result = await diana.store.apply(player, action, key)
    diana.metrics.step.observe(time.perf_counter() - began)
    return result


def page_sent(diana: Diana) -> None:
    seconds = elapsed()
    if seconds is not None:
        diana.metrics.page.observe(seconds)


# ---- commands -------------------------------------------------------------------------


async def start(bot: Bot, diana: Diana, user: User, chat_id: int, update_id: int) -> None:
    player = diana.player_id(user.id)
    m = diana.game.content.manifest
    async with diana.lock(player):
        await diana.store.register(player, name=user.first_name or str(user.id),
                                   locale=pick_locale(user.language_code, m.locales,
                                                      m.default_locale))
        state = await resumed(diana, player)
        locale = state["player"]["locale"]
        if state["fragment"] is None:
            result = await apply(diana, player, Start(today()), message_key(update_id))
            await report(bot, diana, chat_id, player, result, locale)
        else:
            lead = None if player in diana.moved else t(locale, "welcome_back",
                                                        name=state["player"]["name"])
            await send_page(bot, diana, chat_id, player, state, lead=lead)


async def resumed(diana: Diana, player: str) -> State:
    """The player's state under the live content. The store moves a save whose fragment
    the content no longer has (the manifest's `migrate:` map, or a restart) and says so
    once: that migration is kept until its notice leads the player's next page."""
    r = await diana.store.resume(player)
    if r.migration is not None:
        diana.moved[player] = r.migration
    return r.state


async def ask_restart(bot: Bot, diana: Diana, user: User, chat_id: int) -> None:
    player = diana.player_id(user.id)
    state = await current_state(diana, player)
    locale = locale_of(diana, state, user)
    if state is None or state["playthrough"] == 0:
        await safe(bot.send_message(chat_id, t(locale, "not_started")), "sendMessage")
        return
    text = t(locale, "restart_confirm", currency=views.currency(diana.game, locale))
    await safe(bot.send_message(chat_id, text, reply_markup=restart_keyboard(state["turn"],
                                                                            locale)),
               "sendMessage")


async def current_state(diana: Diana, player: str) -> State | None:
    """The player's state (moved to the live content if need be; see `resumed`), or None
    for someone who never started."""
    try:
        return await resumed(diana, player)
    except UnknownPlayer:
        return None


# ---- buttons --------------------------------------------------------------------------


async def page_button(bot: Bot, diana: Diana, query: CallbackQuery, turn: int, tag: str
                      ) -> tuple[State, str, int] | None:
    """The player's state, locale and chat when a button of a story page (shown at `turn`,
    from content `tag`) still stands for what it showed. Otherwise the tap is answered
    (after a reload, with the current page shown again) and None returned."""
    player = diana.player_id(query.from_user.id)
    msg = editable(query)
    state = await current_state(diana, player)
    locale = locale_of(diana, state, query.from_user)
    if state is None or state["fragment"] is None:
        await answer(query, t(locale, "not_started"))
        return None
    chat_id = msg.chat.id if msg else query.from_user.id
    if player in diana.moved:
        # The story changed under the player (a /reload): whatever this button meant, the
        # place it was for is gone or moved. Show where they are now, with the notice.
        await answer(query, t(locale, "updated"))
        async with diana.lock(player):
            await resume(bot, diana, chat_id, player, msg)
        return None
    if turn != state["turn"]:
        await answer(query, t(locale, "stale"))
        if msg is not None and diana.last_page.get(player) != (msg.chat.id, msg.message_id):
            await strip_keyboard(bot, msg.chat.id, msg.message_id)
        return None
    if tag != content_tag(diana.game.content):
        # The page is current but was rendered from content since replaced: its index may
        # mean another choice now. Show the page again from the live story.
        await answer(query, t(locale, "updated"))
        async with diana.lock(player):
            await resume(bot, diana, chat_id, player, msg)
        return None
    return state, locale, chat_id


async def choose(bot: Bot, diana: Diana, query: CallbackQuery, cb: ChoiceCb) -> None:
    live = await page_button(bot, diana, query, cb.turn, cb.tag)
    if live is None:
        return
    state, locale, chat_id = live
    player = diana.player_id(query.from_user.id)
    msg = editable(query)
    game = diana.game
    views = buttons(game, state)
    if not 0 <= cb.index < len(views):
        await answer(query, t(locale, "invalid_button"))
        return
    view = views[cb.index]
    if not view.available:
        await answer(query, f"🔒 {view.reason}" if view.reason else None, alert=True)
        return
    # The answer (it stops the client's spinner) goes out first and travels while the
    # action is applied, instead of holding the page back by one round trip.
    answered = asyncio.ensure_future(answer(query))
    try:
        async with diana.lock(player):
            result = await apply(diana, player, Choose(view.id, cb.turn, today()),
                                 query_key(query))
            await report(bot, diana, chat_id, player, result, locale, moved_from=msg)
    finally:
        await answered


async def flip(bot: Bot, diana: Diana, query: CallbackQuery, cb: PageCb) -> None:
    """more… / back: the tapped page shows another keyboard page of its choices. The game
    does not move: no store action, only the keyboard is edited."""
    live = await page_button(bot, diana, query, cb.turn, cb.tag)
    if live is None:
        return
    _, locale, _ = live
    await answer(query)
    msg = editable(query)
    if msg is None:
        return  # too old to edit; its keyboard is gone anyway
    player = diana.player_id(query.from_user.id)
    async with diana.lock(player):
        # A choice tapped meanwhile moved the page on (and may have rewritten this very
        # message): its keyboard is not ours to change any more.
        state = await current_state(diana, player)
        if state is None or state["turn"] != cb.turn or player in diana.moved \
                or state["fragment"] is None:
            return
        keyboard = screen_keyboard(diana.game.content, render(diana.game, state), cb.turn,
                                   locale, page=cb.page)
        # the same keyboard again (a double tap) is "message is not modified": harmless
        await safe(bot(EditKeyboard(params={"chat_id": msg.chat.id,
                                            "message_id": msg.message_id,
                                            "reply_markup": keyboard})),
                   "editMessageReplyMarkup(page)")


async def resume(bot: Bot, diana: Diana, chat_id: int, player: str,
                 msg: Message | None) -> None:
    """Show the player's current page (after a reload made their buttons ambiguous), led
    by the notice of a migration that moved their save."""
    state = await resumed(diana, player)
    if state["fragment"] is None:  # a migration that could not even restart: begin again
        moved = diana.moved.pop(player, None)
        lines = [moved.notice] if moved is not None and moved.notice else []
        lines.append(t(state["player"]["locale"], "not_started"))
        await safe(bot.send_message(chat_id, views.notices_text(lines) or "…"), "sendMessage")
        if msg is not None:
            await strip_keyboard(bot, msg.chat.id, msg.message_id)
        return
    await send_page(bot, diana, chat_id, player, state, moved_from=msg)


async def restart(bot: Bot, diana: Diana, query: CallbackQuery, cb: RestartCb) -> None:
    player = diana.player_id(query.from_user.id)
    msg = editable(query)
    state = await current_state(diana, player)
    locale = locale_of(diana, state, query.from_user)
    if state is None or state["playthrough"] == 0:
        await answer(query, t(locale, "not_started"))
        return
    if cb.turn != state["turn"]:
        await answer(query, t(locale, "stale"))
        if msg is not None:
            await strip_keyboard(bot, msg.chat.id, msg.message_id)
        return
    answered = asyncio.ensure_future(answer(query))  # travels while the restart is applied
    chat_id = msg.chat.id if msg else query.from_user.id
    try:
        async with diana.lock(player):
            state = await diana.store.state(player)
            if state["turn"] != cb.turn:
                return  # a double tap: the first one restarted already
            # the turn too: another worker may have restarted on a copy of this tap
            result = await apply(diana, player, Restart(today(), cb.turn), query_key(query))
            await report(bot, diana, chat_id, player, result, locale, moved_from=msg)
    finally:
        await answered


async def set_language(bot: Bot, diana: Diana, query: CallbackQuery, code: str) -> None:
    """The player chose a language: stored (players row and save, audited), the prompt
    says so in that language, and the current page is shown again in it."""
    player = diana.player_id(query.from_user.id)
    user = query.from_user
    if code not in diana.game.content.manifest.locales:
        state = await current_state(diana, player)
        await answer(query, t(locale_of(diana, state, user), "invalid_button"))
        return
    done = t(code, "language_set", language=LANGUAGE_NAMES.get(code, code))
    await answer(query, done)
    msg = editable(query)
    chat_id = msg.chat.id if msg else user.id
    async with diana.lock(player):
        await diana.store.register(player, name=user.first_name or str(user.id), locale=code)
        await diana.store.update_player(player, locale=code, actor=player)
        if msg is not None:
            await safe(bot.edit_message_text(escape(done, quote=False), chat_id=msg.chat.id,
                                             message_id=msg.message_id),
                       "editMessageText(language)")
        state = await resumed(diana, player)
        if state["fragment"] is not None:
            await send_page(bot, diana, chat_id, player, state)


async def keep(bot: Bot, diana: Diana, query: CallbackQuery, cb: KeepCb) -> None:
    state = await current_state(diana, diana.player_id(query.from_user.id))
    locale = locale_of(diana, state, query.from_user)
    await answer(query)
    msg = editable(query)
    if msg is not None:
        await safe(bot.edit_message_text(t(locale, "restart_cancelled"), chat_id=msg.chat.id,
                                         message_id=msg.message_id), "editMessageText")


__all__ = ["StoreError", "answer", "choose", "flip", "keep", "restart", "start"]
