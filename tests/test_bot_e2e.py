"""End to end: the real bot (`diana bot run`, a subprocess, aiogram long polling over HTTP)
against the Bot API emulator. One bot process for the module; each test plays as its own
user. The last test stops the bot and checks that in-flight work is drained."""

from __future__ import annotations

import json
import re
import sqlite3
import time

import pytest
from botkit import ADMIN, BotProcess, running_bot, start
from storekit import game_of

from engine.store import SyncStore
from engine.store import limits as store_module
from engine.store.limits import MAX_REASON
from engine.store.sqlite.check import check


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    with running_bot(tmp_path_factory.mktemp("bot"), DIANA_RATE_LIMIT="12/3") as proc:
        yield proc


def events(bot: BotProcess, op: str) -> list[tuple[str | None, int, dict]]:
    """(actor's player id or None, ok, detail) of the audit events `op`, oldest first."""
    db = sqlite3.connect(f"file:{bot.db}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT p.external_id, e.ok, e.detail FROM events e LEFT JOIN"
                          " players p ON p.id = e.player WHERE e.op = ? ORDER BY e.id",
                          (op,)).fetchall()
    finally:
        db.close()
    return [(who, ok, json.loads(detail)) for who, ok, detail in rows]


def admin_says(bot: BotProcess, text: str, n: int = 1) -> str:
    """The admin's command and the text of its n replies."""
    admin = bot.player(ADMIN, name="Boss")
    before = admin.count()
    admin.send(text)
    reply = "\n".join(m.shown for m in admin.wait_messages(before))
    if "too many messages" in reply:  # the admin is rate limited like anyone (12/3 s)
        time.sleep(3.1)
        return admin_says(bot, text, n)
    return "\n".join(m.shown for m in admin.wait_messages(before, n))


def test_play_through_locks_achievements_ending_leaderboard(bot):
    p, page = start(bot, 101, name="Ana")
    texts = [m.shown for m in p.messages()]
    assert any("Achievement unlocked: First Steps (+10 Coins)" in t for t in texts)
    assert "The Hall" in page.shown and "<b>The Hall</b>" in page.text
    assert "You hold 15 Coins <and> a key & a map." in page.shown  # escaped for HTML
    labels = page.button_texts()
    assert "🔒 Open the door" in labels and "🔒 The velvet rope" in labels
    assert "Pay the guard · 8 🪙" in labels

    before = p.count()
    _, q = p.tap(page, "Open the door")
    answer = p.answered(q)
    assert answer["show_alert"] and "too dark to find the handle" in answer["text"]
    assert p.quiet(before)

    _, q = p.tap(page, "Light the lamp")
    page2 = p.wait_page(before)
    assert p.answered(q)["text"] == ""
    assert "The lamp shows a door." in page2.shown
    assert p.messages()[before - 1].buttons() == []  # the page moved past lost its keyboard

    before = p.count()
    p.tap(page2, "Open the door")
    vault = p.wait_page(before)
    notices = "\n".join(m.shown for m in p.messages()[before:])
    assert "Gem Holder" in notices and "Level up: 2 — Adept" in notices
    assert "The Vault" in vault.shown

    before = p.count()
    p.tap(vault, "Walk out rich")
    ending = p.wait_page(before)
    assert "A good ending" in ending.shown
    assert "🪙 25 Coins · level 2 Adept · 🏆 2/3 · endings 1/2" in ending.shown
    assert ending.button_texts() == ["↻ Play again"]

    before = p.count()
    p.send("/leaderboard")
    board = p.wait_page(before)
    assert "Leaderboard — All time" in board.shown and "Ana — 25" in board.shown
    assert "You: #" in board.shown
    _, q = p.tap(board, "This week")
    p.answered(q)
    bot.emu.wait_for(lambda: "This week" in p.messages()[-1].shown, what="the week tab")
    week = p.messages()[-1]
    failures = len([c for c in bot.emu.calls_of("editMessageText") if c.status == 400])
    _, q = p.tap(week, "This week")  # the same tab again: "message is not modified"
    p.answered(q)
    bot.emu.wait_for(lambda: len([c for c in bot.emu.calls_of("editMessageText")
                                  if c.status == 400]) > failures, what="the refused edit")
    assert "not modified" in bot.emu.calls_of("editMessageText")[-1].description

    before = p.count()
    _, q = p.tap(ending, "Play again")
    again = p.wait_page(before)
    assert "The Hall" in again.shown and "It is dark." in again.shown
    assert p.answered(q)["text"] == ""  # the tap's spinner stops, with nothing to say


def test_long_page_is_split_at_paragraphs_with_keyboard_last(bot):
    p, page = start(bot, 102)
    before = p.count()
    p.tap(page, "Enter the library")
    last = p.wait_page(before)
    parts = p.messages()[before:]
    assert len(parts) >= 2 and parts[-1] is not None and last.message_id == parts[-1].message_id
    assert all(len(m.shown) <= 4096 for m in parts)
    assert all(not m.buttons() for m in parts[:-1])
    assert parts[0].shown.startswith("The Library")
    assert all(m.shown.rstrip().endswith(("speak.", "Back to the hall")) or m is parts[-1]
               for m in parts)


def test_stale_button_changes_nothing(bot):
    p, page = start(bot, 103)
    stale = page.button("Leave the house")["callback_data"]
    before = p.count()
    p.tap(page, "Enter the library")
    p.wait_page(before)
    before = p.count()
    _, q = p.press(page, stale)
    assert "earlier page" in p.answered(q)["text"]
    assert p.quiet(before)
    p.send("/start")
    resumed = p.wait_page(before)
    assert "Welcome back" in resumed.shown or "The Library" in "".join(
        m.shown for m in p.messages()[before:])


def test_double_tap_moves_once(bot):
    p, page = start(bot, 104)
    before = p.count()
    _, q1 = p.tap(page, "Enter the library")
    _, q2 = p.tap(page, "Enter the library")
    p.wait_page(before)
    p.answered(q1)
    p.answered(q2)
    assert p.quiet(p.count(), settle=0.6)
    titles = [m for m in p.messages()[before:] if m.shown.startswith("The Library")]
    assert len(titles) == 1


def test_garbage_callback_data_is_answered_and_ignored(bot):
    p, page = start(bot, 105)
    before = p.count()
    tag = page.buttons()[0][0]["callback_data"].rsplit(":", 1)[1]
    for data in ("zzz", "c:abc:1:xx", f"c:1:99:{tag}", f"c:1:-1:{tag}", "c:-5:0",
                 "c:7:0:0000", "b:year", "l:xx", "r:x", "k", ""[:0] + "c:" + "9" * 60):
        _, q = p.press(page, data)
        text = p.answered(q)["text"]
        assert "not valid" in text or "earlier page" in text or "updated" in text, data
    assert p.quiet(before)


def test_replayed_update_is_applied_once(bot):
    p, page = start(bot, 106)
    before = p.count()
    update_id, _q = p.tap(page, "Enter the library")
    p.wait_page(before)
    after = p.count()
    answers = len(bot.emu.calls_of("answerCallbackQuery"))
    bot.emu.replay(update_id)
    bot.emu.wait_for(lambda: f"update {update_id} was handled already" in bot.output(),
                     what="the replay to be skipped")
    assert p.quiet(after)
    assert len(bot.emu.calls_of("answerCallbackQuery")) == answers


def test_admin_commands_refused_for_players(bot):
    p = bot.player(107)
    for command in ("/stats", "/reload", "/grant 107 1000 me", "/player 107", "/fragments"):
        before = p.count()
        p.send(command)
        (reply,) = p.wait_messages(before)
        assert "for the story's admins" in reply.shown


def test_admin_grant_player_stats_fragments(bot):
    start(bot, 109, name="Bea")
    admin = bot.player(ADMIN, name="Boss")

    def ask(text: str, n: int = 1) -> str:
        before = admin.count()
        update = admin.send(text)
        msgs = admin.wait_messages(before, n)
        ask.update = update
        return "\n".join(m.shown for m in msgs)

    assert "Granted 50 Coins to tg:109 (gift); balance 65" in ask("/grant 109 50 gift")
    before = admin.count()
    bot.emu.replay(ask.update)  # the same update again: skipped, nothing granted twice
    bot.emu.wait_for(lambda: f"update {ask.update} was handled already" in bot.output(),
                     what="the replay to be skipped")
    assert admin.quiet(before)
    assert "Points 65" in ask("/player 109")
    assert "Usage: /grant" in ask("/grant 109")
    assert "not an amount" in ask("/grant 109 -5 nope")
    assert "No player tg:5555" in ask("/grant 5555 5 nobody")
    assert "Players:" in ask("/stats", 2)  # the text, then the funnel chart
    assert "hall" in ask("/fragments")


def test_reload_broken_content_keeps_the_old_story(bot):
    admin = bot.player(ADMIN, name="Boss")
    main = bot.content / "story" / "main.yaml"
    good = main.read_text()
    main.write_text(good.replace("goto: rich", "goto: nowhere"))
    before = admin.count()
    admin.send("/reload")
    (reply,) = admin.wait_messages(before)
    assert "Reload refused" in reply.shown and "still serving 1.0.0" in reply.shown
    assert "main.yaml:" in reply.shown and "nowhere" in reply.shown

    p, page = start(bot, 108)  # the old story still plays
    before = p.count()
    p.tap(page, "Enter the library")
    library = p.wait_page(before)

    main.write_text(good.replace("The Hall", "The Grand Hall"))
    before = admin.count()
    admin.send("/reload")
    (reply,) = admin.wait_messages(before)
    assert "Reloaded" in reply.shown

    # A button rendered from the old content is not mapped onto the new one.
    before = p.count()
    _, q = p.tap(library, "Back to the hall")
    assert "updated" in p.answered(q)["text"]
    current = p.wait_page(before)
    assert "The Library" in "".join(m.shown for m in p.messages()[before:])
    assert current.buttons()


def test_admin_actions_and_refusals_are_in_the_audit_trail(bot):
    refused = events(bot, "admin:stats")
    assert ("tg:107", 0) in {(d["actor"], ok) for _, ok, d in refused}  # a player, refused
    assert any(d.get("refused") == "not an admin" for _, _, d in refused)
    for op in ("admin:stats", "admin:player", "admin:fragments"):
        assert any(ok == 1 and d["actor"] == f"tg:{ADMIN}" for _, ok, d in events(bot, op)), op
    reloads = [(ok, d) for _, ok, d in events(bot, "admin:reload") if d["actor"] != "tg:107"]
    assert [ok for ok, _ in reloads] == [0, 1]
    assert reloads[0][1]["errors"] >= 1 and reloads[0][1]["was"] == "1.0.0"
    assert reloads[1][1]["version"] == "1.0.0" and reloads[1][1]["digest"]
    assert any(d["args"] == "109" and ok == 0 for _, ok, d in events(bot, "admin:grant"))
    (grant,) = [d for _, _, d in events(bot, "grant")]  # a grant audits itself, once
    assert grant["actor"] == f"tg:{ADMIN}" and grant["amount"] == 50
    swaps = events(bot, "content")
    assert len(swaps) == 1 and swaps[0][2]["actor"] == f"tg:{ADMIN}"


def test_stats_funnel_and_fragments_come_from_the_store(bot):
    text = admin_says(bot, "/stats", 2)
    assert re.search(r"registered +\d+ +100% █", text)
    assert "started" in text and "ending out" in text and "ending rich" in text
    assert re.search(r"Achievements unlocked: \w+ [1-9]", text)
    photo = bot.emu.bot_messages(ADMIN)[-1]
    assert photo.caption.startswith("Funnel: players who reached each fragment")
    assert bytes(photo.photo).startswith(b"\x89PNG")
    text = admin_says(bot, "/fragments")
    assert re.search(r"rich \[ending: good, reached by [1-9]\d*\] — \d+ · [1-9]", text)


def test_reload_that_removes_a_players_fragment_migrates_on_the_next_tap(bot):
    p, page = start(bot, 118)
    before = p.count()
    p.tap(page, "Enter the library")
    library = p.wait_page(before)
    main = bot.content / "story" / "main.yaml"
    manifest = bot.content / "game.yaml"
    good, good_manifest = main.read_text(), manifest.read_text()
    try:
        gone = re.sub(r"\n  library:\n.*?(?=\n  vault:\n)", "", good, flags=re.S)
        gone = gone.replace("      - id: library\n        text: {en: Enter the library,"
                            " es: Entrar en la biblioteca}\n        goto: library\n", "")
        assert "library" not in gone
        main.write_text(gone)
        manifest.write_text(good_manifest.replace("version: 1.0.0", "version: 1.1.0"))
        assert "Reloaded: 1.1.0" in admin_says(bot, "/reload")

        before = p.count()
        _, q = p.tap(library, "Back to the hall")
        assert "updated" in p.answered(q)["text"]
        current = p.wait_page(before)
        shown = "\n".join(m.shown for m in p.messages()[before:])
        assert "The story was updated and your place in it no longer exists" in shown
        assert "Hall" in current.shown and current.buttons()
        assert not p.messages()[before - 1].buttons()  # the library page lost its keyboard
        (moved,) = [d for who, _, d in events(bot, "migrate") if who == "tg:118"]
        assert (moved["from"], moved["how"], moved["to_version"]) == (
            "library", "restarted", "1.1.0")
        before = p.count()
        p.tap(current, "Light the lamp")  # and the page is a live one
        assert "The lamp shows a door." in p.wait_page(before).shown
    finally:
        main.write_text(good)
        manifest.write_text(good_manifest)
        assert "Reloaded: 1.0.0" in admin_says(bot, "/reload")


def test_old_buttons_stay_stale_after_an_admin_reset(bot):
    p, hall = start(bot, 119)
    leave = hall.button("Leave the house")["callback_data"]
    before = p.count()
    p.tap(hall, "Enter the library")
    library = p.wait_page(before)
    back = library.button("Back to the hall")["callback_data"]
    # `diana db reset` while the bot runs: another process writes the save
    with SyncStore.open(bot.db, game_of(bot.content)) as store:
        store.reset("tg:119", actor="test")
    before = p.count()
    p.send("/start")
    again = p.wait_page(before)
    assert "It is dark." in again.shown
    for data in (leave, back):  # turn 1 and turn 2 buttons: the counter ran on, past them
        before = p.count()
        _, q = p.press(hall, data)
        assert "earlier page" in p.answered(q)["text"]
        assert p.quiet(before)
    assert check(bot.db).ok


def test_retry_after_429(bot):
    p = bot.player(110)
    bot.emu.fail_next("sendMessage", times=1, retry_after=1)
    before = p.count()
    t0 = time.monotonic()
    p.send("/help")
    (reply,) = p.wait_messages(before)
    assert "/leaderboard" in reply.shown
    assert time.monotonic() - t0 >= 0.9
    assert any(c.status == 429 for c in bot.emu.calls_of("sendMessage"))


def test_blocked_user_does_not_break_the_bot(bot):
    blocked = bot.player(111)
    bot.emu.block(111)
    blocked.send("/start")
    bot.emu.wait_for(lambda: any(c.status == 403 for c in bot.emu.calls_of("sendMessage")),
                     what="a 403")
    _p, page = start(bot, 112)
    assert page.buttons()
    assert "blocked by the user" in bot.output()


def test_flood_is_answered_once_and_dropped(bot):
    p = bot.player(113)
    for _ in range(30):
        p.send("/help")
    time.sleep(1.5)
    texts = [m.shown for m in p.messages()]
    assert sum("too many messages" in t for t in texts) == 1
    assert len(texts) <= 12 + 1


def test_commands_per_language(bot):
    cmds = bot.emu.commands
    default = '{"type": "default"}'
    assert {"start", "leaderboard", "restart", "help"} <= {
        c["command"] for c in cmds[(default, "")]}
    es = {c["command"]: c["description"] for c in cmds[(default, "es")]}
    assert es["restart"] == "Empezar la historia de nuevo"
    admin = cmds[(f'{{"chat_id": {ADMIN}, "type": "chat"}}', "")]
    assert "reload" in {c["command"] for c in admin}


def test_restart_asks_for_confirmation(bot):
    p, page = start(bot, 114)
    before = p.count()
    p.tap(page, "Enter the library")
    p.wait_page(before)
    before = p.count()
    p.send("/restart")
    confirm = p.wait_page(before)
    assert "Start the story over?" in confirm.shown
    _, q = p.tap(confirm, "No, keep playing")
    p.answered(q)
    bot.emu.wait_for(lambda: "Carry on" in p.emu.transcript(114)[-1].shown,
                     what="the cancelled restart")
    before = p.count()
    p.send("/restart")
    confirm = p.wait_page(before)
    yes = confirm.button("Yes")["callback_data"]
    _, q = p.tap(confirm, "Yes")
    page = p.wait_page(before + 1)
    assert "It is dark." in page.shown and "Hall" in page.shown
    p.answered(q)
    before = p.count()
    _, q = p.press(confirm, yes)  # the confirmation again: stale
    assert "earlier page" in p.answered(q)["text"]
    assert p.quiet(before)


def test_spanish_player(bot):
    _p, page = start(bot, 115, name="Lola", language="es-ES")
    assert "El vestíbulo" in page.shown
    assert "🔒 Abrir la puerta" in page.button_texts()


def test_language_switch_makes_the_next_page_spanish(bot):
    p, page = start(bot, 117, name="Ana")
    assert "Hall" in page.shown and "Welcome, Ana" in page.shown
    before = p.count()
    p.send("/language")
    (prompt,) = p.wait_messages(before)
    assert prompt.shown == "Choose your language:"
    assert prompt.button_texts() == ["• English", "Español"]
    before = p.count()
    _, q = p.tap(prompt, "Español")
    assert p.answered(q)["text"] == "Idioma: Español."
    spanish = p.wait_page(before)
    assert "El vestíbulo" in spanish.shown and "Encender la lámpara" in spanish.button_texts()
    assert not next(m for m in p.messages() if m.message_id == page.message_id).buttons()
    bot.emu.wait_for(lambda: any(m.shown == "Idioma: Español." for m in p.messages()),
                     what="the edited prompt")
    before = p.count()
    p.tap(spanish, "Entrar en la biblioteca")
    assert "Volver al vestíbulo" in p.wait_page(before).button_texts()
    before = p.count()
    p.send("/help")
    (reply,) = p.wait_messages(before)
    assert "Juega pulsando" in reply.shown
    (changed,) = [d for who, _, d in events(bot, "profile") if who == "tg:117"]
    assert changed == {"actor": "tg:117", "locale": {"from": "en", "to": "es"}}


def test_an_over_long_grant_reason_is_refused_with_a_reply_and_nothing_applied(bot):
    # (after the tests that count the admin's grants and messages)
    start(bot, 120, name="Cy")
    reason = " ".join(["a-long-reason"] * 300)  # about 4,200 characters, a whole message
    text = admin_says(bot, f"/grant 120 5 {reason}")
    assert f"The reason is {len(reason)} characters; at most {MAX_REASON}." in text
    assert len(text) < 400
    assert not [d for who, _, d in events(bot, "grant") if who == "tg:120"]
    (refused,) = [d for _, ok, d in events(bot, "admin:grant")
                  if d["args"].startswith("120 5 a-long") and ok == 0]
    assert refused["refused"].startswith("✗ The reason is")
    at_bound = "r" * MAX_REASON
    assert f"Granted 5 Coins to tg:120 ({at_bound})" in admin_says(
        bot, f"/grant 120 5 {at_bound}")


def test_player_shows_the_ledger_line_when_a_reason_is_long(bot, monkeypatch):
    p, _ = start(bot, 121, name="Di")
    # A database written before reasons were bounded may hold a long one.
    monkeypatch.setattr(store_module, "MAX_REASON", 10_000)
    with SyncStore.open(bot.db, game_of(bot.content)) as store:
        store.grant("tg:121", 7, "z" * 5000, actor="test")
    before = p.count()
    p.send("/start")  # the bot reads the save again on its next action for this player
    p.wait_page(before)
    admin = bot.player(ADMIN, name="Boss")
    before = admin.count()
    text = admin_says(bot, "/player 121")
    replies = admin.messages()[before:]
    assert all(len(m.shown) <= 4096 for m in replies)
    (ledger,) = [line for line in text.splitlines() if line.startswith("Ledger (last 5): ")]
    assert f"+7 {'z' * (MAX_REASON - 1)}…" in ledger and "z" * MAX_REASON not in ledger


def test_store_invariants_hold(bot):
    report = check(bot.db)
    assert report.ok, report.problems
    assert report.players >= 10


def test_shutdown_drains_in_flight_updates(bot):
    p = bot.player(116)
    bot.emu.fail_next("sendMessage", times=1, retry_after=2)
    before = p.count()
    p.send("/help")
    bot.emu.wait_for(lambda: bot.emu.faults["sendmessage"][0] == 0, what="the 429")
    assert bot.stop() == 0
    assert p.count() == before + 1  # the reply was sent before the process exited
    assert "draining 1 in-flight" in bot.output()
