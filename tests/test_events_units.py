"""The event stream's pure parts: subjects, the claim ordering rule, the breaker, ages."""

from __future__ import annotations

import pytest

from engine.outbox.events import slug, subject
from engine.outbox.jetstream import game_of, stream_name
from engine.outbox.publisher import Breaker, age
from engine.outbox.schemas import problem
from engine.outbox.source import Row, in_order


def row(id_: int, player: int) -> Row:
    return Row(id_, f"k{id_}#1", player, id_, "diana.g.choice.taken", "{}", 0.0)


def test_subjects_are_tokens_of_the_title():
    assert slug("The Velvet Door") == "the-velvet-door"
    assert slug("Ça.va *> bien") == "a-va-bien"
    assert slug("...") == "game"
    assert subject("the-velvet-door", "points.awarded") == "diana.the-velvet-door.points.awarded"
    assert game_of("diana.the-velvet-door.points.awarded") == "the-velvet-door"
    assert stream_name("the-velvet-door") == "DIANA_THE_VELVET_DOOR"
    with pytest.raises(ValueError):
        game_of("other.thing")


def test_a_claim_keeps_only_runs_that_start_a_players_unsent_events():
    candidates = [row(2, 1), row(3, 2), row(5, 1), row(6, 3)]
    # Player 1's row 1 is held elsewhere (locked by another claim): all of 1's wait.
    # Player 2 has row 4 unsent between, not among the candidates: 2 waits too.
    pending = [(1, 1), (2, 1), (3, 2), (4, 2), (5, 1), (6, 3)]
    assert in_order(candidates, pending) == [row(6, 3)]
    assert in_order(candidates, [(r.id, r.player) for r in candidates]) == candidates


def test_the_breaker_doubles_its_wait_and_one_success_closes_it():
    b = Breaker(base=1.0, most=4.0)
    waits = [b.trip(100.0) for _ in range(5)]
    for wait, doubled in zip(waits, [1, 2, 4, 4, 4], strict=True):
        assert 0.8 * doubled <= wait <= 1.2 * doubled  # (a jitter of ±20 %)
    assert b.open and b.until > 100
    b.reset()
    assert not b.open


def test_ages_and_a_schema_problem_are_one_sentence():
    assert (age("30m"), age("12h"), age("7d"), age("1.5s")) == (1800, 43200, 604800, 1.5)
    for bad in ("7", "d", "-1d", "7 days"):
        with pytest.raises(ValueError, match="not an age"):
            age(bad)
    assert problem({"type": "nope"}) == "unknown event type 'nope'"
    assert problem([]) == "not a JSON object"
    assert "data" in (problem({"id": "k#1", "type": "level.up", "game": "g", "player": "p",
                                "seq": 1, "time": 0, "key": "k", "content_version": "1",
                                "data": {"level": 0}}) or "")
