"""`diana play`: scripted stdin through the typer app, saves in SQLite, resume, commands."""

from __future__ import annotations

import json
import sqlite3
from collections import deque
from pathlib import Path

import longkit
import pytest
from stepkit import SAMPLE, load_game
from typer.testing import CliRunner

from cli.main import app
from engine.state import new_state
from engine.step import Choose, Start, step

runner = CliRunner()


@pytest.fixture(scope="module")
def sample():
    return load_game(SAMPLE)


def shortest_ending(game, player="Guest") -> list[int]:
    """Choice numbers (1-based, as `diana play` shows them) of a shortest path to an ending,
    for a new player with seed 0."""
    first = step(game, new_state(game.content, name=player, seed=0), Start())
    queue = deque([(first, [])])
    seen = set()
    while queue:
        out, path = queue.popleft()
        if out.screen.ending:
            return path
        key = json.dumps([out.state["fragment"], out.state["flags"], out.state["items"]])
        if key in seen:
            continue
        seen.add(key)
        for i, c in enumerate(out.screen.choices, 1):
            if c.available:
                nxt = step(game, out.state, Choose(c.id))
                queue.append((nxt, [*path, i]))
    raise AssertionError("no ending reachable")


def diana_play(db: Path, lines: list[str], *extra: str):
    result = runner.invoke(app, ["play", str(SAMPLE), "--db", str(db), *extra],
                           input="".join(f"{x}\n" for x in lines))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.output)
    assert "Traceback" not in result.output
    return result


def saved(db: Path, player: str = "Guest") -> dict:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT s.content_version, s.state FROM saves s JOIN players p"
                           " ON p.id = s.player WHERE p.external_id = ?",
                           (player,)).fetchone()
    assert row is not None
    state = json.loads(row[1])
    assert row[0] == state["content_version"]
    return state


def test_plays_to_an_ending(sample, tmp_path):
    path = shortest_ending(sample)
    db = tmp_path / "s.sqlite3"
    result = diana_play(db, [str(n) for n in path])
    assert result.exit_code == 0
    assert "The Velvet Door — version 1.0.0" in result.output
    assert "✦ " in result.output and "(restart to play again, quit to leave)" in result.output
    assert "💋 5 Besitos · level 1 Visitor" in result.output  # points and level shown
    state = saved(db)
    assert sample.content.fragments[state["fragment"]].ending
    assert state["endings"] == [state["fragment"]]
    assert state["content_version"] == "1.0.0"


def test_status_why_restart_quit(sample, tmp_path):
    db = tmp_path / "s.sqlite3"
    path = shortest_ending(sample)
    result = diana_play(db, [*map(str, path), "status", "why", "restart", "status", "quit",
                             "1"])
    out = result.output
    assert result.exit_code == 0
    assert "turn 1, playthrough 1, content 1.0.0" not in out
    assert f"turn {len(path) + 1}, playthrough 1, content 1.0.0" in out
    assert f"turn {len(path) + 2}, playthrough 2, content 1.0.0" in out
    assert "Saved. Until next time." in out
    assert out.rstrip().endswith("Saved. Until next time.")  # the `1` after quit is unread
    assert saved(db)["playthrough"] == 2


def test_locked_choices_show_their_reason(sample, tmp_path):
    # the sample's golden door needs besitos; walk until some locked choice is displayed
    game = sample
    out = step(game, new_state(game.content), Start())
    numbers = []
    for _ in range(30):
        if any(not c.available for c in out.screen.choices):
            break
        i, c = next((i, c) for i, c in enumerate(out.screen.choices, 1) if c.available)
        numbers.append(i)
        out = step(game, out.state, Choose(c.id))
    else:
        pytest.fail("the sample shows no locked choice on its first path")
    locked = next(c for c in out.screen.choices if not c.available)
    result = diana_play(tmp_path / "s.sqlite3", [*map(str, numbers), "why"])
    assert f"🔒 {locked.reason}" in result.output
    assert f"“{locked.label}” is locked: {locked.reason}" in result.output


def test_why_names_the_rule_and_event(sample, tmp_path):
    # the foyer unlocks `first_step` through the rule of the same name
    game = sample
    out = step(game, new_state(game.content), Start())
    numbers: list[int] = []
    queue = deque([(out, numbers)])
    seen = set()
    while queue:
        o, path = queue.popleft()
        if o.state["fragment"] == "foyer":
            numbers = path
            break
        if o.state["fragment"] in seen:
            continue
        seen.add(o.state["fragment"])
        for i, c in enumerate(o.screen.choices, 1):
            if c.available:
                queue.append((step(game, o.state, Choose(c.id)), [*path, i]))
    result = diana_play(tmp_path / "s.sqlite3", [*map(str, numbers), "why"])
    assert "rule `first_step` fired on enter(fragment=foyer)" in result.output
    assert "unlocked by rule `first_step` on enter(fragment=foyer)" in result.output
    assert "🏆 Achievement unlocked: Over the Threshold (+10 Besitos)" in result.output


def test_bad_input_gets_a_clear_message(tmp_path):
    db = tmp_path / "s.sqlite3"
    result = diana_play(db, ["banana", "0", "99", "-1", "", "help", "1"])
    out = result.output
    assert result.exit_code == 0
    assert "✗ unknown command `banana`" in out
    assert "✗ choose a number from 1 to 2" in out
    assert "✗ unknown command `-1`" in out
    assert "Type a choice number" in out
    assert saved(db)["turn"] == 2  # only the final `1` moved the story


def test_resume_and_new(sample, tmp_path):
    db = tmp_path / "s.sqlite3"
    first = diana_play(db, ["2"])
    assert first.exit_code == 0
    where = saved(db)
    assert where["turn"] == 2
    again = diana_play(db, ["status"])
    assert "Welcome back, Guest." in again.output
    assert "turn 2, playthrough 1" in again.output
    assert saved(db) == where  # resuming and looking changes nothing
    fresh = diana_play(db, ["status"], "--new")
    assert "Welcome back" not in fresh.output
    # a new playthrough 1; the turn counter runs on through a reset (no turn repeats)
    assert "turn 3, playthrough 1" in fresh.output
    assert saved(db)["turn"] == 3
    # another player has their own slot
    other = diana_play(db, ["quit"], "--player", "Mia", "--locale", "es")
    assert "Welcome back" not in other.output and "La invitación" in other.output
    assert saved(db, "Mia")["player"]["locale"] == "es"
    assert saved(db)["turn"] == 3


def test_resume_at_a_fragment_that_no_longer_exists(sample, tmp_path):
    db = tmp_path / "s.sqlite3"
    diana_play(db, ["1"])
    state = saved(db)
    state["fragment"] = "demolished_wing"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE saves SET state = ?, fragment = ?", (json.dumps(state),
                                                                   state["fragment"]))
    result = diana_play(db, ["status"])
    assert "your place in it no longer exists; you start again" in result.output
    assert saved(db)["playthrough"] == 2
    assert runner.invoke(app, ["db", "check", "--db", str(db)]).exit_code == 0


def test_old_save_file_gets_a_clear_message(tmp_path):
    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as conn:  # the save slots of the first `diana play`
        conn.execute("CREATE TABLE saves (player TEXT PRIMARY KEY, content_version TEXT"
                     " NOT NULL, state TEXT NOT NULL, updated TEXT NOT NULL)")
    result = runner.invoke(app, ["play", str(SAMPLE), "--db", str(db)], input="1\n")
    assert result.exit_code == 2
    assert "older `diana play`" in result.output and "Traceback" not in result.output


def test_every_step_is_an_acknowledged_action(tmp_path):
    db = tmp_path / "s.db"
    diana_play(db, ["1", "99", "restart"])
    with sqlite3.connect(db) as conn:
        ops = [r[0] for r in conn.execute("SELECT op FROM events ORDER BY id")]
        keys = conn.execute("SELECT count(DISTINCT key) FROM applied_actions").fetchone()[0]
    assert ops == ["register", "action", "action", "action"]  # start, 1, restart
    assert keys == 3


def test_missing_directory_and_bad_db(tmp_path):
    result = runner.invoke(app, ["play", str(tmp_path / "nope"), "--db",
                                 str(tmp_path / "s.sqlite3")], input="")
    assert result.exit_code == 2 and "error:" in result.output
    result = runner.invoke(app, ["play", str(SAMPLE), "--db",
                                 str(tmp_path / "no" / "dir" / "s.sqlite3")], input="")
    assert result.exit_code == 2 and "cannot open save database" in result.output


def test_piped_stdin_subprocess(tmp_path):
    """The documented `printf '1\\n2\\n' | diana play` shape, in a real process."""
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("diana")
    proc = subprocess.run([str(exe), "play", str(SAMPLE), "--db", str(tmp_path / "s.db")],
                          input="1\n2\nwhy\n", capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout.count("> ") >= 3


def test_a_story_at_real_length_plays_whole_in_the_terminal(tmp_path):
    """A 10,000-character passage, 180-character labels, 20 choices: lint warns (the bot
    splits, numbers and pages them), and the terminal shows everything as it is."""
    story = longkit.write(tmp_path / "long")
    result = runner.invoke(app, ["play", str(story), "--db", str(tmp_path / "s.sqlite3")],
                           input="20\n1\n")
    assert result.exit_code == 0, result.output
    assert "\n\n".join(longkit.paragraphs()) in result.output
    for i in range(1, longkit.CHOICES + 1):
        assert f"  {i}. {longkit.label(i)}\n" in result.output
    assert "You are in room 20." in result.output
    for command in (["simulate", str(story)], ["graph", str(story)]):
        assert runner.invoke(app, command).exit_code == 0, command
