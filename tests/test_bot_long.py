"""End to end with a story at real length (tests/longkit.py: a passage of over 10,000
characters, 180-character labels, 20 choices on one page): the real bot against the Bot API
emulator, which refuses whatever Telegram would. One bot sends new pages, the other
(DIANA_PAGES=edit) rewrites the tapped one."""

from __future__ import annotations

import longkit
import pytest
from botkit import BotProcess, Player, running_bot, start

from bot.keyboards import PageCb
from bot.testing import Message

MORE, BACK = "more… ›", "‹ back"


@pytest.fixture(scope="module")
def content(tmp_path_factory):
    return longkit.write(tmp_path_factory.mktemp("long") / "content")


@pytest.fixture(scope="module")
def bot(tmp_path_factory, content):
    with running_bot(tmp_path_factory.mktemp("bot"), DIANA_CONTENT=str(content),
                     DIANA_RATE_LIMIT="1000/1") as proc:
        yield proc


@pytest.fixture(scope="module")
def edit_bot(tmp_path_factory, content):
    with running_bot(tmp_path_factory.mktemp("edit"), DIANA_CONTENT=str(content),
                     DIANA_RATE_LIMIT="1000/1", DIANA_PAGES="edit") as proc:
        yield proc


def now(p: Player, m: Message) -> Message:
    return next(x for x in p.messages() if x.message_id == m.message_id)


def within_limits(p: Player, bot: BotProcess) -> None:
    """What Telegram would accept, and nothing refused on the way (the emulator would have
    answered it with an error, which the bot logs)."""
    for m in p.messages():
        assert m.plain is not None and len(m.plain) <= 4096
        texts = m.button_texts()
        assert len(texts) <= 10 and all(len(t) <= 64 for t in texts)
        assert all(len(b["callback_data"].encode()) <= 64 for row in m.buttons() for b in row)
    log = bot.output()
    assert "refused" not in log and "Traceback" not in log


def hub_text(parts: list[Message]) -> str:
    return " ".join(m.shown for m in parts)


def assert_whole_hub(parts: list[Message]) -> None:
    text = hub_text(parts)
    assert len(parts) >= 3 and parts[0].shown.startswith("The Long Room")
    for p, n in ((1, 4), (12, 4), (13, 49)):
        assert text.index(longkit.sentence(p, 1)) < text.index(longkit.sentence(p, n))
    assert "<angle brackets> & an ampersand." in text
    for i in range(1, longkit.CHOICES + 1):
        assert f"{i}. {longkit.label(i)}" in text
    assert all(not m.buttons() for m in parts[:-1])


def flip(p: Player, page: Message, needle: str) -> Message:
    """Tap a paging button and wait for the page's keyboard to change."""
    before = now(p, page).buttons()
    _, q = p.tap(now(p, page), needle)
    assert p.answered(q)["text"] == ""
    return p.emu.wait_for(lambda: (m := now(p, page)).buttons() != before and m, 10,
                          what="another keyboard page")


def choose(p: Player, page: Message, number: int, edit: bool = False) -> Message:
    """Show the keyboard page holding choice `number`, and tap it: the next page (with
    `edit`, the tapped message rewritten into it)."""
    shown = now(p, page)
    for _ in range((number - 1) // 8):
        shown = flip(p, shown, MORE)
    before = p.count()
    p.tap(shown, f"{number}. ")
    if not edit:
        return p.wait_page(before)
    return p.emu.wait_for(lambda: (m := now(p, page)).shown != shown.shown and m, 10,
                          what="the page rewritten")


def test_a_long_page_arrives_whole_in_several_messages_with_paged_numbered_buttons(bot):
    p, page = start(bot, 301)
    parts = p.messages()
    assert_whole_hub(parts)
    texts = page.button_texts()
    assert texts[:8] == [t for t in texts if t[0].isdigit()] and texts[8:] == [MORE]
    assert texts[0].startswith("1. Choice 01: follow the corridor") and texts[0].endswith("…")
    second = flip(p, page, MORE)
    assert second.button_texts()[0].startswith("9. ") and second.button_texts()[-2:] == [
        BACK, MORE]
    third = flip(p, page, MORE)
    assert [t.split(".")[0] for t in third.button_texts()[:-1]] == ["17", "18", "19", "20"]
    assert third.button_texts()[-1] == BACK
    assert flip(p, page, BACK).button_texts() == second.button_texts()
    assert p.count() == len(parts)  # paging only changes the keyboard
    within_limits(p, bot)


def test_every_choice_of_a_long_page_works(bot):
    p, hub = start(bot, 302)
    for number in range(1, longkit.CHOICES + 1):
        room = choose(p, hub, number)
        assert f"You are in room {number:02d}." in room.shown
        before = p.count()
        p.tap(room, "Back to the long room")
        hub = p.wait_page(before)
        assert_whole_hub(p.messages()[before:])
    within_limits(p, bot)


def test_paging_buttons_of_an_earlier_page_do_nothing(bot):
    p, hub = start(bot, 303)
    old_more = hub.button(MORE)["callback_data"]
    room = choose(p, hub, 10)  # through "more…", then the tenth choice
    before = p.count()
    for data in (old_more, PageCb.unpack(old_more).model_copy(update={"page": 2}).pack()):
        _, q = p.press(now(p, hub), data)
        assert "earlier page" in p.answered(q)["text"]
    assert p.quiet(before)
    assert now(p, room).buttons() == room.buttons() and now(p, hub).buttons() == []

    p.tap(room, "Back to the long room")  # a new visit: the same turn never comes back
    hub2 = p.wait_page(before)
    _, q = p.press(hub2, old_more)
    assert "earlier page" in p.answered(q)["text"]
    assert now(p, hub2).buttons() == hub2.buttons()

    _, q1 = p.tap(hub2, MORE)  # a double tap: both answered, one keyboard page further
    _, q2 = p.press(hub2, hub2.button(MORE)["callback_data"])
    p.answered(q1)
    p.answered(q2)
    p.emu.wait_for(lambda: now(p, hub2).button_texts()[0].startswith("9. "), 10,
                   what="the second keyboard page")
    within_limits(p, bot)


def test_in_edit_mode_a_long_page_edits_the_tapped_one_and_sends_the_rest(edit_bot):
    p, hub = start(edit_bot, 401)
    assert_whole_hub(p.messages())
    room = choose(p, hub, 20, edit=True)
    assert room.message_id == hub.message_id and "You are in room 20." in room.shown
    count = p.count()
    p.tap(room, "Back to the long room")
    last = p.wait_page(count)
    parts = [now(p, room), *p.messages()[count:]]
    assert parts[0].shown.startswith("The Long Room") and parts[-1].message_id == \
        last.message_id
    assert_whole_hub(parts)

    # paging works on the continued page, and a choice on it edits it in turn
    room = choose(p, last, 12, edit=True)
    assert room.message_id == last.message_id and "You are in room 12." in room.shown
    within_limits(p, edit_bot)
