"""Inline keyboards and their compact callback data (always within Telegram's 64 bytes).

    c:<turn>:<index>:<tag>   a choice: the player's turn when the page was shown (a state
                             version: any other turn is stale; it never repeats in a save,
                             as the store's reset keeps the counter running), the choice's
                             position on the page, and a tag of the content it was
                             rendered from
    p:<turn>:<page>:<tag>    show another keyboard page of the choices (more…, back):
                             changes no game state; stale, like a choice, on another turn
    m:<turn>:<index>:<tag>   open the page's menu at `index`, or (-1) go back from a menu:
                             stale, like a choice, on another turn
    r:<turn>                 restart now (the "play again" button, the confirmation)
    k:<turn>                 keep playing (cancel a restart)
    b:<all|week|month>       a leaderboard tab
    l:<locale>               a language
"""

from __future__ import annotations

from typing import Any

from aiogram.filters.callback_data import MAX_CALLBACK_LENGTH, CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot import layout
from bot.i18n import LANGUAGE_NAMES, t
from engine.model import Content
from engine.screen import Screen


class ChoiceCb(CallbackData, prefix="c"):
    turn: int
    index: int
    tag: str


class PageCb(CallbackData, prefix="p"):
    turn: int
    page: int
    tag: str


class MenuCb(CallbackData, prefix="m"):
    turn: int
    index: int
    tag: str


class RestartCb(CallbackData, prefix="r"):
    turn: int


class KeepCb(CallbackData, prefix="k"):
    turn: int


class BoardCb(CallbackData, prefix="b"):
    kind: str


class LangCb(CallbackData, prefix="l"):
    locale: str


BOARDS = ("all", "week", "month")


def content_tag(content: Content) -> str:
    """Four hex digits of the content digest: a button rendered from other content (before
    a /reload) is recognised and not mapped onto a different choice."""
    return (content.digest or "0000")[:4]


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=_pack(data))


def _pack(data: CallbackData) -> str:
    return data.pack()  # raises ValueError past 64 bytes, before Telegram would refuse it


def choice_data(turn: int, index: int, tag: str) -> str:
    """`ChoiceCb(turn=turn, index=index, tag=tag).pack()` without building the model: a
    page packs one per button (a test holds the two equal)."""
    return _fast_pack(ChoiceCb, turn, index, tag)


def page_data(turn: int, page: int, tag: str) -> str:
    """`PageCb(turn=turn, page=page, tag=tag).pack()`, as choice_data."""
    return _fast_pack(PageCb, turn, page, tag)


def _fast_pack(cb: type[CallbackData], turn: int, n: int, tag: str) -> str:
    sep = cb.__separator__
    if sep in tag:
        raise ValueError(f"the content tag {tag!r} holds the separator {sep!r}")
    data = f"{cb.__prefix__}{sep}{turn}{sep}{n}{sep}{tag}"
    if len(data.encode()) > MAX_CALLBACK_LENGTH:
        raise ValueError(f"callback data {data!r} is over {MAX_CALLBACK_LENGTH} bytes")
    return data


def screen_keyboard(content: Content, screen: Screen, turn: int, locale: str, page: int = 0
                    ) -> dict[str, Any] | None:
    """A page's keyboard as Bot API JSON (pages go out as bot.telegram.JsonCall, which
    skips building aiogram's models: about 10 µs a button). It shows keyboard page `page`
    of the choices, `layout.choices_per_page` of them, with more…/back buttons when there
    are more; each choice button keeps the choice's position on the whole page."""
    tag = content_tag(content)
    emoji = content.manifest.currency.emoji
    settings = content.manifest.layout
    choices = screen.choices
    numbers = layout.numbered(settings, choices, emoji)
    page, shown = layout.window(len(choices), settings.choices_per_page, page)
    rows = [[{"text": layout.button_text(choices[i], i + 1 if numbers else None, emoji),
              "callback_data": choice_data(turn, i, tag)}] for i in shown]
    paging = []
    if page > 0:
        paging.append({"text": t(locale, "page_back"),
                       "callback_data": page_data(turn, page - 1, tag)})
    if shown and shown[-1] < len(choices) - 1:
        paging.append({"text": t(locale, "page_more"),
                       "callback_data": page_data(turn, page + 1, tag)})
    if paging:
        rows.append(paging)
    # menus (a codex, a character sheet) open from every page, three to a row
    menus = [{"text": label[:64], "callback_data": _fast_pack(MenuCb, turn, i, tag)}
             for i, (_, label) in enumerate(screen.menus)]
    if screen.back:
        menus.insert(0, {"text": t(locale, "menu_back"),
                         "callback_data": _fast_pack(MenuCb, turn, -1, tag)})
    rows.extend(menus[i:i + 3] for i in range(0, len(menus), 3))
    if screen.ending:
        rows.append([{"text": t(locale, "play_again"),
                      "callback_data": _pack(RestartCb(turn=turn))}])
    return {"inline_keyboard": rows} if rows else None


def restart_keyboard(turn: int, locale: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [_button(t(locale, "restart_yes"), RestartCb(turn=turn))],
        [_button(t(locale, "restart_no"), KeepCb(turn=turn))],
    ])


def board_keyboard(current: str, locale: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        _button(("• " if kind == current else "") + t(locale, f"board_{kind}"),
                BoardCb(kind=kind)) for kind in BOARDS]])


def language_keyboard(locales: tuple[str, ...], current: str | None = None
                      ) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        _button(("• " if code == current else "") + LANGUAGE_NAMES.get(code, code),
                LangCb(locale=code)) for code in locales]])
