"""`step`: actions, errors, costs, locks, effects, rules, notices, locales, explain.

Every test that takes the `play` fixture runs twice: calling `step` directly, and in
save-and-reload mode (the state goes through JSON before every step).
"""

from __future__ import annotations

import json
import re

import pytest
from stepkit import MINI, load_game, write_story
from stepkit import play as play  # the fixture

from engine.explain import explain, history
from engine.requirements import level_of
from engine.screen import render
from engine.state import balance_matches_ledger, new_state
from engine.step import (
    ERROR_CODES,
    Choose,
    Restart,
    Start,
    action_from_json,
    action_to_json,
    step,
)

DAY = "2025-03-01"


@pytest.fixture(scope="module")
def mini():
    return load_game(MINI)


def started(game, play, **player):
    out = play(game, new_state(game.content, **player), Start(DAY))
    assert out.ok, out.error
    return out


def go(game, play, state, *choices):
    out = None
    for c in choices:
        out = play(game, state, Choose(c))
        assert out.ok, (c, out.error)
        state = out.state
    return out


# ---- start, choose, restart ------------------------------------------------------------


def test_start_enters_the_start_fragment(mini, play):
    out = started(mini, play, name="Ana")
    s = out.state
    assert s["fragment"] == "hall" and s["turn"] == 1 and s["playthrough"] == 1
    assert out.screen.text == "Welcome, Ana. You have 15 Coins.\n\nIt is dark."
    assert [e.type for e in out.events][:2] == ["start", "enter"]
    assert out.notices == ("🏆 Achievement unlocked: First steps (+10 Coins)",)
    assert s["points"] == 15 and balance_matches_ledger(s)


def test_choose_moves_and_applies_effects(mini, play):
    s = started(mini, play).state
    out = go(mini, play, s, "lamp")
    assert out.state["fragment"] == "hall" and out.state["flags"] == ["lamp"]
    assert "The lamp shows a door." in out.screen.text
    # a staying choice re-renders without running on_enter again
    assert out.state["points"] == s["points"]
    out = go(mini, play, out.state, "door")
    assert out.state["fragment"] == "vault"
    assert out.state["items"] == {"gem": 1} and out.state["stats"] == {"courage": 3}
    assert out.screen.text == "Gold everywhere. Courage 3."


def test_on_enter_every_time_on_first_enter_once(mini, play):
    s = started(mini, play).state
    out = go(mini, play, s, "lamp", "door", "back", "door")
    st = out.state
    assert st["visits"] == {"hall": 2, "vault": 2}
    assert st["items"] == {"gem": 1} and st["stats"] == {"courage": 3}  # first enter only
    visits = [e for e in st["ledger"] if e["reason"] == "visit"]
    assert len(visits) == 2  # hall's on_enter ran on both entries


def test_restart_resets_the_story_and_keeps_the_player(mini, play):
    s = started(mini, play).state
    out = go(mini, play, s, "lamp", "door", "dice")
    ended = out.state
    assert ended["endings"]
    out = play(mini, ended, Restart(DAY))
    assert out.ok
    r = out.state
    assert r["fragment"] == "hall" and r["playthrough"] == 2 and r["turn"] == ended["turn"] + 1
    assert r["flags"] == [] and r["items"] == {} and r["visits"] == {"hall": 1}
    assert r["stats"] == {"courage": 0} and r["taken"] == []
    assert r["achievements"] == ended["achievements"] and r["endings"] == ended["endings"]
    assert r["points"] == ended["points"] + 5  # hall's on_enter; first_steps pays no more
    assert r["draws"] == ended["draws"] and r["seed"] == ended["seed"]


def test_restart_mid_story(mini, play):
    s = started(mini, play).state
    mid = go(mini, play, s, "lamp").state
    out = play(mini, mid, Restart())
    assert out.ok and out.state["flags"] == [] and out.state["fragment"] == "hall"


def test_restart_at_another_turn_is_stale(mini, play):
    mid = go(mini, play, started(mini, play).state, "lamp").state
    stale = play(mini, mid, Restart(DAY, mid["turn"] - 1))
    assert not stale.ok and stale.error is not None and stale.error.code == "stale"
    assert play(mini, mid, Restart(DAY, mid["turn"])).ok


def test_ending_screen(mini, play):
    s = started(mini, play).state
    out = go(mini, play, s, "leave")
    assert out.screen.ending == "neutral" and out.screen.choices == ()
    assert out.screen.ending_label == "An ending"
    assert out.state["endings"] == ["out"]
    assert ("ending", (("fragment", "out"), ("kind", "neutral")), "choice:hall.leave") in [
        (e.type, e.fields, e.cause) for e in out.events]


def test_actions_round_trip_through_json():
    for action in (Start(DAY), Restart(None), Restart(DAY, 4), Choose("door", 3, DAY),
                   Choose("x")):
        assert action_from_json(json.loads(json.dumps(action_to_json(action)))) == action
    with pytest.raises(ValueError):
        action_from_json({"type": "jump"})


# ---- errors ------------------------------------------------------------------------------


def rejected(game, state, action, code):
    before = json.dumps(state, sort_keys=True)
    out = step(game, state, action)
    assert not out.ok and out.error.code == code, out.error
    assert out.state is state  # the very same object, unchanged
    assert json.dumps(state, sort_keys=True) == before
    assert out.events == out.applied == out.firings == out.notices == ()
    assert out.error.message
    return out


def test_every_error_code(mini, tmp_path):
    fresh = new_state(mini.content)
    seen = set()

    def check(state, action, code, game=mini):
        seen.add(code)
        return rejected(game, state, action, code)

    check(fresh, Choose("lamp"), "not-started")
    check(fresh, Restart(), "not-started")
    s = step(mini, fresh, Start(DAY)).state
    check(s, Start(DAY), "already-started")
    check({**s, "fragment": "gone"}, Choose("lamp"), "unknown-fragment")
    check(s, Choose("lamp", turn=s["turn"] - 1), "stale")
    check(s, Choose("nope"), "unknown-choice")
    check(s, Choose("rich"), "unknown-choice")  # a fragment id, not a choice
    out = check(s, Choose("door"), "locked")
    assert out.error.message == "Not yet"
    poor = {**s, "points": 5, "ledger": [{**s["ledger"][0]}]}
    out = check(poor, Choose("pay"), "cannot-afford")
    assert out.error.message == "Costs 8 Coins — you have 5"
    ended = step(mini, s, Choose("leave")).state
    check(ended, Choose("leave"), "ended")
    runaway = write_story(tmp_path / "loop", """\
        fragments:
          a:
            text: A
            choices: [{id: go, text: Go, goto: b}]
          b: {text: B, ending: good}
        """, """\
        rules:
          - id: again
            when: {event: award}
            then: [{award: 1}]
          - id: kick
            when: {event: choice}
            then: [{award: 1}]
        """, limits="{max_chain: 10}")
    s2 = step(runaway, new_state(runaway.content), Start()).state
    out = check(s2, Choose("go"), "runaway-chain", runaway)
    assert "limits.max_chain" in out.error.message and "more than 10" in out.error.message
    assert out.screen is not None and out.screen.fragment == "a"
    assert seen == set(ERROR_CODES)


def test_once_choice_disappears(mini):
    s = step(mini, new_state(mini.content), Start()).state
    s = step(mini, s, Choose("lamp")).state
    assert "lamp" not in [c.id for c in step(mini, s, Choose("leave")).screen.choices or ()]
    assert "lamp" not in [c.id for c in render(mini, s).choices]
    rejected(mini, s, Choose("lamp"), "unknown-choice")


# ---- costs, locks, hidden ----------------------------------------------------------------

LOCKS = """\
fragments:
  a:
    text:
      en: "You have {points} {currency}, level {level} ({level_name})."
      es: "Tienes {points} {currency}, nivel {level} ({level_name})."
    on_enter: [{award: 30}]
    choices:
      - id: rich
        text: {en: Rich door, es: Puerta rica}
        requires: {points: 50}
        goto: b
      - id: vip
        text: VIP
        requires: {role: vip}
        goto: b
      - id: secret
        text: Secret
        requires: {flag: key}
        when_locked: hide
        goto: b
      - id: dear
        text: Dear door
        cost: 40
        when_locked: hide
        goto: b
      - id: toll
        text: Toll
        cost: 20
        goto: b
      - id: brave
        text: Brave
        requires: {stat: {id: nerve, gte: 2}}
        locked_text: {en: "Not brave enough ({stat.nerve}/2)", es: "Sin valor ({stat.nerve}/2)"}
        goto: b
  b: {text: B, ending: good}
"""
LOCK_RULES = """\
flags: {key: {}}
stats: {nerve: {name: Nerve, initial: 1}}
"""


@pytest.fixture(scope="module")
def locks(tmp_path_factory):
    return write_story(tmp_path_factory.mktemp("locks"), LOCKS, LOCK_RULES)


def test_locked_reasons_and_hidden_choices(locks, play):
    out = started(locks, play)
    views = {c.id: c for c in out.screen.choices}
    assert set(views) == {"rich", "vip", "toll", "brave"}  # secret and dear are hidden
    assert views["rich"].reason == "Needs 50 Coins — you have 30"
    assert views["vip"].reason == "Only for VIP guests"
    assert views["brave"].reason == "Not brave enough (1/2)"
    assert views["toll"].available and views["toll"].cost == 20
    assert out.screen.text == "You have 30 Coins, level 4 (Four)."
    for hidden in ("secret", "dear"):
        assert play(locks, out.state, Choose(hidden)).error.code == "unknown-choice"
    assert play(locks, out.state, Choose("rich")).error.code == "locked"


def test_cost_is_spent_and_recorded(locks, play):
    s = started(locks, play).state
    out = go(locks, play, s, "toll")
    st = out.state
    assert st["points"] == 10 and st["earned"] == 30
    assert st["ledger"][-1]["amount"] == -20 and st["ledger"][-1]["reason"] == "cost:toll"
    assert st["ledger"][-1]["cause"] == "choice:a.toll"
    assert ("spend", None, 20, "choice:a.toll") in [
        (a.kind, a.target, a.amount, a.cause) for a in out.applied]
    assert balance_matches_ledger(st)


def test_vip_role_unlocks(locks, play):
    out = started(locks, play, role="vip")
    assert next(c for c in out.screen.choices if c.id == "vip").available


def test_locale_es(locks, play):
    out = started(locks, play, locale="es")
    assert out.screen.text == "Tienes 30 Monedas, nivel 4 (Four)."
    views = {c.id: c for c in out.screen.choices}
    assert views["rich"].label == "Puerta rica"
    assert views["rich"].reason == "Necesitas 50 Monedas; tienes 30"
    assert views["vip"].reason == "Solo para invitados VIP"
    assert views["brave"].reason == "Sin valor (1/2)"
    assert views["toll"].label == "Toll"  # no es text: the default locale
    assert "⭐ Subes de nivel: 2 — Two" in out.notices


def test_locale_es_on_the_mini_fixture(mini, play):
    out = started(mini, play, locale="es")
    assert out.notices == ("🏆 Logro desbloqueado: First steps (+10 Monedas)",)
    poor = {**out.state, "points": 3}
    view = next(c for c in play(mini, poor, Choose("nope")).screen.choices if c.id == "pay")
    assert view.reason == "Cuesta 8 Monedas; tienes 3"


# ---- achievements, levels, cap -------------------------------------------------------------


def test_achievement_unlocks_once_and_pays_once(mini, play):
    s = started(mini, play).state
    out = go(mini, play, s, "lamp", "door", "back", "door", "back")
    st = out.state
    assert st["visits"]["hall"] == 3
    assert st["achievements"] == ["first_steps", "gem_holder", "collector"]
    for a in st["achievements"]:
        assert sum(1 for e in st["ledger"] if e["reason"] == f"achievement:{a}") == (
            0 if mini.content.achievements[a].reward == 0 else 1)
    # the rule `first` fires on every entry to the hall; the unlock happens once
    assert [f.rule for f in out.firings] == ["first"]
    assert not [a for a in out.applied if a.kind == "unlock"]


def test_chained_achievement_and_level_up_notice(mini, play):
    s = started(mini, play).state
    out = go(mini, play, s, "lamp", "door")
    assert out.notices == (
        "🏆 Achievement unlocked: Gem holder",
        "🏆 Achievement unlocked: Collector (+5 Coins)",
        "⭐ Level up: 2 — Adept",
    )
    # `collector` fires again on its own unlock event; the unlock is a no-op the second time
    assert [f.rule for f in out.firings] == ["gem", "collector", "collector"]
    assert ("level_up", (("level", 2),)) in [(e.type, e.fields) for e in out.events]


def test_one_level_up_per_threshold_crossed(tmp_path, play):
    game = write_story(tmp_path, """\
        fragments:
          a:
            text: A
            choices: [{id: jackpot, text: Jackpot, goto: b, effects: [{award: 35}]}]
          b: {text: B, ending: good}
        """, """\
        rules:
          - id: three
            when: {event: level_up, level: 3}
            then: [{set: three}]
        flags: {three: {}}
        """)
    out = go(game, play, started(game, play).state, "jackpot")
    assert [dict(e.fields)["level"] for e in out.events if e.type == "level_up"] == [2, 3, 4]
    assert out.notices == ("⭐ Level up: 2 — Two", "⭐ Level up: 3 — Three",
                           "⭐ Level up: 4 — Four")
    assert out.state["flags"] == ["three"]


def test_level_does_not_drop_when_spending(locks, play):
    s = started(locks, play).state
    out = go(locks, play, s, "toll")
    assert out.state["points"] == 10
    assert level_of(locks.content, out.state) == 4  # levels follow points earned


CAP = """\
fragments:
  a:
    text: A
    choices:
      - {id: work, text: Work, effects: [{award: {points: 5, reason: wage}}]}
      - {id: done, text: Done, goto: b}
  b: {text: B, ending: good}
"""


def test_daily_cap(tmp_path, play):
    game = write_story(tmp_path, CAP, limits="{daily_points: 12}")
    s = started(game, play).state
    day1 = [play(game, s, Choose("work", day="2025-01-01"))]
    for _ in range(3):
        day1.append(play(game, day1[-1].state, Choose("work", day="2025-01-01")))
    st = day1[-1].state
    assert st["points"] == 12 and st["day_points"] == 12
    assert [e["amount"] for e in st["ledger"]] == [5, 5, 2]
    assert day1[2].notices == ("Daily limit reached: no more Coins today",)
    assert day1[3].notices == ("Daily limit reached: no more Coins today",)
    assert day1[3].applied == ()
    nxt = play(game, st, Choose("work", day="2025-01-02"))
    assert nxt.state["points"] == 17 and nxt.state["day"] == "2025-01-02"
    assert nxt.notices == () and balance_matches_ledger(nxt.state)


def test_daily_cap_cuts_achievement_rewards_too(mini, play):
    capped = {**started(mini, play).state}
    capped["day_points"] = 995  # the mini's cap is 1000
    out = go(mini, play, capped, "lamp", "door")
    rewards = [e for e in out.state["ledger"] if e["reason"] == "achievement:collector"]
    assert [e["amount"] for e in rewards] == [5]
    out2 = go(mini, play, out.state, "back")  # the hall's on_enter awards 5: cut to 0
    assert out2.state["day_points"] == 1000 and out2.state["points"] == out.state["points"]
    assert out2.notices == ("Daily limit reached: no more Coins today",)


# ---- rules: priority, goto, runaway ---------------------------------------------------------

GOTO_STORY = """\
fragments:
  a:
    text: A
    choices:
      - {id: go, text: Go, goto: b, effects: [{set: alarm}]}
      - {id: calm, text: Calm, goto: b}
      - {id: ring, text: Ring, effects: [{emit: bell}]}
      - {id: far, text: Far, goto: far}
  b: {text: B, ending: good}
  c:
    text: C
    choices: [{id: back, text: Back, goto: a}]
  d: {text: D, ending: bad}
  far:
    text: Far
    choices: [{id: back, text: Back, goto: a}]
  welcome: {text: Welcome back, choices: [{id: in, text: In, goto: a}]}
"""
GOTO_RULES = """\
flags: {alarm: {}}
events: {bell: {}}
rules:
  - id: low
    when: {event: flag, flag: alarm}
    then: [{goto: d}]
  - id: trap
    when: {event: flag, flag: alarm}
    priority: 5
    then: [{goto: c}]
  - id: bell
    when: {event: bell}
    then: [{goto: c}]
  - id: onward
    when: {event: enter, fragment: far}
    then: [{goto: b}]
  - id: returning
    when: {event: start}
    if: {endings_count: 1}
    then: [{goto: welcome}]
"""


@pytest.fixture(scope="module")
def gotos(tmp_path_factory):
    return write_story(tmp_path_factory.mktemp("goto"), GOTO_STORY, GOTO_RULES)


def test_rule_goto_overrides_the_choice_target(gotos, play):
    s = started(gotos, play).state
    out = go(gotos, play, s, "go")
    st = out.state
    assert st["fragment"] == "c"
    assert "b" not in st["visits"] and "d" not in st["visits"]  # b never entered
    assert [e.fields for e in out.events if e.type == "enter"] == [(("fragment", "c"),)]
    # priority: `trap` (5) fires before `low` (0); the first goto raised wins
    assert [f.rule for f in out.firings] == ["trap", "low"]
    assert go(gotos, play, s, "calm").state["fragment"] == "b"


def test_rule_goto_from_a_staying_choice_moves(gotos, play):
    s = started(gotos, play).state
    out = go(gotos, play, s, "ring")
    assert out.state["fragment"] == "c" and out.state["visits"]["c"] == 1


def test_goto_after_the_move_chains(gotos, play):
    s = started(gotos, play).state
    out = go(gotos, play, s, "far")
    assert out.state["fragment"] == "b"
    assert out.state["visits"] == {"a": 1, "far": 1, "b": 1}
    assert [dict(e.fields)["fragment"] for e in out.events if e.type == "enter"] == [
        "far", "b"]


def test_start_rule_goto_overrides_the_start_fragment(gotos, play):
    s = started(gotos, play).state
    ended = go(gotos, play, s, "calm").state
    out = play(gotos, ended, Restart())
    assert out.state["fragment"] == "welcome" and "a" not in out.state["visits"]


def test_priority_orders_simultaneous_firings(tmp_path, play):
    game = write_story(tmp_path, """\
        fragments:
          a:
            text: "{stat.x}"
            choices: [{id: go, text: Go, goto: b}]
          b: {text: B, ending: good}
        """, """\
        stats: {x: {initial: 0}}
        rules:
          - {id: first_in_file, when: {event: choice}, then: [{stat: {id: x, set: 1}}]}
          - {id: high, when: {event: choice}, priority: 10, then: [{stat: {id: x, set: 2}}]}
          - {id: also_zero, when: {event: choice}, then: [{stat: {id: x, add: 10}}]}
          - id: gated
            when: {event: choice}
            priority: -1
            if: {stat: {id: x, gte: 11}}
            then: [{stat: {id: x, add: 100}}]
        """)
    out = go(game, play, started(game, play).state, "go")
    assert [f.rule for f in out.firings] == ["high", "first_in_file", "also_zero", "gated"]
    assert out.state["stats"]["x"] == 111


def test_once_rule_fires_once_per_player(tmp_path, play):
    game = write_story(tmp_path, CAP, """\
        rules:
          - {id: bonus, when: {event: start}, once: true, then: [{award: 7}]}
        """)
    s = started(game, play).state
    again = play(game, s, Restart()).state
    assert [e["amount"] for e in again["ledger"]] == [7]
    assert again["fired"] == ["bonus"]


def test_runaway_chain_leaves_state_unchanged(tmp_path):
    game = write_story(tmp_path, """\
        fragments:
          a:
            text: A
            choices: [{id: go, text: Go, goto: b}]
          b: {text: B, choices: [{id: back, text: Back, goto: a}]}
        """, """\
        rules:
          - {id: ping, when: {event: enter, fragment: b}, then: [{goto: a}]}
          - {id: pong, when: {event: enter, fragment: a}, if: {visited: b}, then: [{goto: b}]}
        """)
    s = step(game, new_state(game.content), Start()).state
    out = rejected(game, s, Choose("go"), "runaway-chain")
    assert "more than 100" in out.error.message


# ---- randomness -------------------------------------------------------------------------------

RANDOM = """\
fragments:
  a:
    text: A
    choices:
      - id: roll
        text: Roll
        goto: {random: [{to: b, weight: 3}, {to: c, weight: 1}]}
      - id: coin
        text: Coin
        effects: [{award: 1, chance: 0.5}]
  b: {text: B, ending: good}
  c: {text: C, ending: bad}
"""


def test_weighted_pick_and_chance_use_the_state_seed(tmp_path, play):
    game = write_story(tmp_path, RANDOM)
    picks = []
    for seed in range(40):
        s = started(game, play, seed=seed).state
        a = go(game, play, s, "roll").state
        b = go(game, play, s, "roll").state
        assert a == b  # same seed, same pick
        assert a["draws"] == 1
        picks.append(a["fragment"])
    assert 15 < picks.count("b") < 40 and picks.count("c") > 2
    s = started(game, play, seed=3).state
    coins = go(game, play, s, *["coin"] * 20).state
    assert coins["draws"] == 20 and 3 < coins["points"] < 17
    assert coins == go(game, play, s, *["coin"] * 20).state


# ---- explain, state, versions ------------------------------------------------------------------


def test_explain_locked_choices_and_causes(mini):
    out = step(mini, new_state(mini.content), Start(DAY))
    lines = explain(mini, out.state, out)
    assert "“Open the door” is locked: Not yet" in lines
    assert "“The velvet rope” is locked: Only for VIP guests" in lines
    assert "rule `first` fired on enter(fragment=hall) (raised by start)" in lines
    assert "+5 Coins (visit) from fragment:hall" in lines
    assert ("+10 Coins (achievement:first_steps) from achievement:first_steps (unlocked by"
            " rule `first` on enter(fragment=hall))") in lines
    assert ("achievement “First steps” (`first_steps`) unlocked by rule `first` on"
            " enter(fragment=hall)") in lines
    # the same, from a resumed save (no Outcome): everything but the firing list
    resumed = json.loads(json.dumps(out.state))
    assert [x for x in lines if not x.startswith("rule ")] == explain(mini, resumed)
    s = step(mini, out.state, Choose("lamp")).state
    out = step(mini, s, Choose("door"))
    lines = explain(mini, out.state, out)
    assert "rule `collector` fired on unlock(achievement=gem_holder) (raised by rule:gem)" in lines
    assert ("achievement “Collector” (`collector`) unlocked by rule `collector` on"
            " unlock(achievement=gem_holder)") in lines
    full = history(mini, out.state)
    assert len(full) == 3 + len(out.state["ledger"])


def test_explain_every_choice_open(tmp_path):
    game = write_story(tmp_path, CAP)
    s = step(game, new_state(game.content), Start()).state
    assert explain(game, s) == ["Every choice here is open."]


def test_state_is_plain_json(mini, play):
    s = started(mini, play).state
    out = go(mini, play, s, "lamp", "door", "dice")
    for st in (s, out.state):
        again = json.loads(json.dumps(st))
        assert again == st
        assert json.dumps(again, sort_keys=True) == json.dumps(st, sort_keys=True)


def test_content_version_is_recorded(mini, play):
    fresh = new_state(mini.content)
    assert fresh["content_version"] == "0.1.0"
    old = {**started(mini, play).state, "content_version": "0.0.9"}
    assert step(mini, old, Choose("nope")).state["content_version"] == "0.0.9"  # rejected
    assert go(mini, play, old, "lamp").state["content_version"] == "0.1.0"


def test_outcome_records_every_effect_with_its_cause(mini, play):
    s = started(mini, play).state
    out = go(mini, play, s, "lamp", "door")
    got = [(a.kind, a.target, a.amount, a.cause) for a in out.applied]
    assert got == [
        ("give", "gem", 1, "fragment:vault"),
        ("stat", "courage", 3, "fragment:vault"),
        ("unlock", "gem_holder", 0, "rule:gem"),
        ("unlock", "collector", 5, "rule:collector"),
        ("award", None, 5, "achievement:collector"),
    ]
    vias = {a.target or a.kind: a.via for a in out.applied}
    assert vias["gem_holder"] == "rule `gem` on item(count=1, item=gem)"
    assert vias["award"] == "rule `collector` on unlock(achievement=gem_holder)"
    assert vias["gem"] is None


def test_unknown_interpolation_is_left_as_written(tmp_path):
    game = write_story(tmp_path, """\
        fragments:
          a: {text: "Hi {{ {player} }} {nothing}", ending: good}
        """)
    out = step(game, new_state(game.content, name="Bo"), Start())
    assert out.screen.text == "Hi { Bo } {nothing}"
    assert re.search("ending", out.screen.ending_label.lower())
