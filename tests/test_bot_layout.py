"""Long pages in the bot without Telegram: labels too long for a button (numbered or cut),
choices paged over several keyboards, a page split over several messages."""

from __future__ import annotations

from pathlib import Path

import longkit
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stepkit import load_game

from bot import layout
from bot.keyboards import ChoiceCb, PageCb, page_data, screen_keyboard
from bot.testing.html import html_to_plain
from bot.views import page, units
from engine.game import Game
from engine.screen import ChoiceView, render
from engine.state import new_state
from engine.step import Start, step


def game_with(tmp_path: Path, **settings: object) -> Game:
    return load_game(longkit.write(tmp_path / "story", settings or None))


def first_page(game: Game):
    out = step(game, new_state(game.content, name="Ana", seed=0), Start())
    return out.state, out.screen


def keyboard_choices(kb: dict) -> list[int]:
    return [ChoiceCb.unpack(b["callback_data"]).index for row in kb["inline_keyboard"]
            for b in row if b["callback_data"].startswith("c:")]


def paging(kb: dict) -> dict[str, int]:
    """The paging buttons of a keyboard: their text to the page they show."""
    return {b["text"]: PageCb.unpack(b["callback_data"]).page
            for row in kb["inline_keyboard"] for b in row
            if b["callback_data"].startswith("p:")}


@pytest.mark.parametrize("label, limit", [
    ("Follow the corridor past the portraits and the clocks", 30),
    ("Follow the corridor, past the portraits", 24),
    ("x" * 200, 64),
    ("Short", 64),
])
def test_a_label_is_cut_at_a_word_with_an_ellipsis(label, limit):
    short = layout.cut(label, limit)
    assert len(short) <= limit
    if len(label) <= limit:
        assert short == label
        return
    assert short.endswith("…")
    head = short[:-1]
    assert label.startswith(head)
    if " " in label:
        assert label[len(head)] in " ,;:.—-"  # the cut falls between words
        assert not head.endswith((",", " "))


@given(st.text(min_size=1, max_size=300), st.integers(0, 10**12), st.booleans(),
       st.integers(1, 99))
def test_a_button_never_shows_more_than_64_characters(label, cost, available, number):
    c = ChoiceView("c", label, available, None, cost)
    text = layout.button_text(c, number, "🪙")
    assert len(text) <= 64
    assert text.startswith(f"{number}. " if available else f"🔒 {number}. ")
    assert label.startswith(text.split(". ", 1)[1].split(" · ")[0].removesuffix("…"))


def test_numbered_labels_list_the_choices_in_the_text(tmp_path):
    game = game_with(tmp_path)
    state, screen = first_page(game)
    parts = page(game, state, screen, "en")
    shown = "\n".join(html_to_plain(p) for p in parts)
    for i in range(1, 21):
        assert f"{i}. {longkit.label(i)}" in shown  # in full, in order, numbered
    kb = screen_keyboard(game.content, screen, state["turn"], "en")
    assert kb is not None
    texts = [b["text"] for row in kb["inline_keyboard"] for b in row]
    assert texts[0].startswith("1. Choice 01: follow the corridor") and texts[0].endswith("…")
    assert all(len(t) <= 64 for t in texts)


def test_cut_labels_keep_the_text_as_it_is(tmp_path):
    game = game_with(tmp_path, long_labels="cut")
    state, screen = first_page(game)
    shown = "\n".join(html_to_plain(p) for p in page(game, state, screen, "en"))
    assert longkit.label(1) not in shown
    kb = screen_keyboard(game.content, screen, state["turn"], "en")
    assert kb is not None
    first = kb["inline_keyboard"][0][0]["text"]
    assert first.startswith("Choice 01: follow the corridor") and first.endswith("…")
    assert len(first) <= 64


def test_a_page_whose_labels_fit_keeps_plain_buttons():
    game = load_game(Path(__file__).parent / "fixtures" / "bot_story")
    state, screen = first_page(game)
    shown = "\n".join(html_to_plain(p) for p in page(game, state, screen, "en"))
    assert "1. " not in shown
    kb = screen_keyboard(game.content, screen, state["turn"], "en")
    assert kb is not None and kb["inline_keyboard"][0][0]["text"] == "Light the lamp"


def test_choices_are_paged_in_their_order_and_each_shown_once(tmp_path):
    game = game_with(tmp_path)
    state, screen = first_page(game)
    turn = state["turn"]
    seen: list[int] = []
    kbs = [screen_keyboard(game.content, screen, turn, "en", page=n) for n in range(3)]
    for kb in kbs:
        assert kb is not None
        seen += keyboard_choices(kb)
    assert seen == list(range(20))
    assert [len(keyboard_choices(kb)) for kb in kbs] == [8, 8, 4]  # type: ignore[arg-type]
    assert [paging(kb) for kb in kbs] == [  # type: ignore[arg-type]
        {"more… ›": 1}, {"‹ back": 0, "more… ›": 2}, {"‹ back": 1}]
    assert screen_keyboard(game.content, screen, turn, "en", page=9) == kbs[2]  # clamped
    eight = game_with(tmp_path / "8", choices_per_page=20)
    state, screen = first_page(eight)
    kb = screen_keyboard(eight.content, screen, state["turn"], "en")
    assert kb is not None and paging(kb) == {} and len(keyboard_choices(kb)) == 20


@given(st.integers(0, 10**15), st.integers(0, 10**3),
       st.text("0123456789abcdef", min_size=4, max_size=4))
def test_page_data_is_what_aiogram_packs(turn, n, tag):
    assert page_data(turn, n, tag) == PageCb(turn=turn, page=n, tag=tag).pack()


def test_a_long_passage_is_split_between_paragraphs_then_sentences(tmp_path):
    game = game_with(tmp_path)
    state, screen = first_page(game)
    parts = [html_to_plain(p) for p in page(game, state, screen, "en")]
    assert len(parts) >= 3 and all(units(p) <= 4096 for p in parts)
    assert parts[0].startswith("The Long Room")
    # nothing lost or reordered: the sentences read in order across the messages
    text = " ".join(parts)
    for p, n in ((1, 4), (12, 4), (13, 49)):
        assert text.index(longkit.sentence(p, 1)) < text.index(longkit.sentence(p, n))
    assert "<angle brackets> & an ampersand." in text
    for part in parts[:-1]:
        assert part.endswith((".", "]"))  # a paragraph's or a sentence's end, not a word's
    assert render(game, state).text.count("Sentence") == 12 * 4 + 49
