"""End to end with DIANA_PAGES=edit: a tap rewrites its page into the next one in place
(the real bot against the Bot API emulator, as in test_bot_e2e)."""

from __future__ import annotations

import time

import pytest
from botkit import Player, running_bot, start

from bot.testing import Message


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    with running_bot(tmp_path_factory.mktemp("bot"), DIANA_PAGES="edit") as proc:
        yield proc


def edited(p: Player, page: Message) -> Message:
    """The page's message once it has been edited once more."""
    def newer() -> Message | None:
        now = next(m for m in p.messages() if m.message_id == page.message_id)
        return now if now.edits > page.edits else None
    return p.emu.wait_for(newer, 10, what=f"an edit of message {page.message_id}")


def test_a_tap_rewrites_its_page_with_the_notices_on_top(bot):
    p, page = start(bot, 201)
    before = p.count()
    _, q = p.tap(page, "Light the lamp")
    lamp = edited(p, page)
    assert p.answered(q)["text"] == ""
    assert "The lamp shows a door." in lamp.shown and lamp.button("Open the door")
    assert p.count() == before  # no new message: the page itself moved on

    _, q = p.press(lamp, page.button("Light the lamp")["callback_data"])  # its old button
    assert "earlier page" in p.answered(q)["text"]
    assert p.quiet(before) and p.messages()[-1].buttons() == lamp.buttons()

    p.tap(lamp, "Open the door")
    vault = edited(p, lamp)
    assert vault.shown.index("Gem Holder") < vault.shown.index("Level up: 2 — Adept") \
        < vault.shown.index("The Vault")
    assert p.count() == before


def test_a_double_tap_edits_once(bot):
    p, page = start(bot, 202)
    _, q1 = p.tap(page, "Light the lamp")
    _, q2 = p.tap(page, "Light the lamp")
    lamp = edited(p, page)
    p.answered(q1)
    p.answered(q2)
    time.sleep(0.6)
    assert next(m for m in p.messages() if m.message_id == page.message_id).edits == lamp.edits
    assert "The lamp shows a door." in lamp.shown


def test_a_page_too_long_for_one_message_edits_the_tapped_one_and_sends_the_rest(bot):
    p, page = start(bot, 203)
    before = p.count()
    p.tap(page, "Enter the library")
    last = p.wait_page(before)
    first = next(m for m in p.messages() if m.message_id == page.message_id)
    rest = p.messages()[before:]
    assert first.shown.startswith("The Library") and first.buttons() == []
    assert len(rest) >= 1 and rest[-1].message_id == last.message_id
    assert all(not m.buttons() for m in rest[:-1])
    assert all(len(m.plain or "") <= 4096 for m in (first, *rest))

    p.tap(last, "Back to the hall")  # the library's last part becomes the hall
    hall = edited(p, last)
    assert "The Hall" in hall.shown and p.count() == before + len(rest)


def test_a_page_that_cannot_be_edited_is_sent_as_a_new_one(bot):
    p, page = start(bot, 204)
    bot.emu.fail_next("editMessageText", times=3)  # all three attempts get 429
    before = p.count()
    p.tap(page, "Light the lamp")
    lamp = p.wait_page(before)
    assert lamp.message_id != page.message_id and "The lamp shows a door." in lamp.shown
    old = next(m for m in p.messages() if m.message_id == page.message_id)
    bot.emu.wait_for(lambda: not next(m for m in p.messages()
                                      if m.message_id == page.message_id).buttons(),
                     10, what="the old page losing its buttons")
    assert "It is dark." in old.shown  # left as it was, only its buttons gone

    p.tap(lamp, "Open the door")  # and the next tap edits the new page again
    vault = edited(p, lamp)
    assert "The Vault" in vault.shown
