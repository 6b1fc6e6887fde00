"""Every command against hostile input: a clear message, the documented exit code, and
nothing changed on disk. (The webhook's hostile bodies are in test_bot_webhook.py.)"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from storekit import SAMPLE, sample_game
from typer.testing import CliRunner

from cli.main import app
from engine.store import SyncStore

runner = CliRunner()


def snapshot(where: Path) -> dict[str, str]:
    """Every file below `where` (names and contents): what 'nothing changed' compares. A
    reader of a WAL database may leave SQLite's shared-memory index and an empty WAL: no
    data, so not counted."""
    out = {}
    for p in sorted(where.rglob("*")):
        if p.name.endswith("-shm") or (p.name.endswith("-wal") and p.stat().st_size == 0):
            continue
        if p.is_file():
            out[str(p.relative_to(where))] = hashlib.sha256(p.read_bytes()).hexdigest()
        elif p.is_dir():
            out[str(p.relative_to(where)) + "/"] = ""
    return out


def invoke(*args: str, env: dict[str, str | None] | None = None, stdin: str = ""):
    result = runner.invoke(app, list(args), input=stdin,
                           env={"DIANA_DB": None, "DIANA_ENV_FILE": None, **(env or {})})
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception))
    return result


# ---- database paths ------------------------------------------------------------------------

def _directory(d: Path) -> Path:
    (d / "db.sqlite3").mkdir()
    return d / "db.sqlite3"


def _empty(d: Path) -> Path:
    (d / "db.sqlite3").write_bytes(b"")
    return d / "db.sqlite3"


def _text(d: Path) -> Path:
    (d / "db.sqlite3").write_text("name,points\nana,3\n")
    return d / "db.sqlite3"


def _other_program(d: Path) -> Path:
    with sqlite3.connect(d / "db.sqlite3") as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)")
    return d / "db.sqlite3"


def _newer(d: Path) -> Path:
    with sqlite3.connect(d / "db.sqlite3") as conn:
        conn.execute("PRAGMA user_version = 99")
    return d / "db.sqlite3"


def _read_only_directory(d: Path) -> Path:
    (d / "ro").mkdir()
    path = d / "ro" / "db.sqlite3"
    with SyncStore.open(path, sample_game()) as store:
        store.register("Guest")
    (d / "ro").chmod(0o555)
    return path


BAD_DATABASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "directory": (_directory, "is a directory"),
    "empty": (_empty, "empty file, not a Diana database"),
    "text": (_text, "not a usable SQLite database"),
    "other-program": (_other_program, "an SQLite database of another program"),
    "newer": (_newer, "newer than this program understands"),
    "read-only-directory": (_read_only_directory, "is not writable"),
}

COMMANDS: dict[str, list[str]] = {
    "play": ["play", str(SAMPLE)],
    "db migrate": ["db", "migrate"],
    "db check": ["db", "check"],
    "db grant": ["db", "grant", "Guest", "5", "gift", "--content", str(SAMPLE)],
    "db reset": ["db", "reset", "Guest", "--content", str(SAMPLE)],
    "db export": ["db", "export", "Guest", "--content", str(SAMPLE)],
    "db leaderboard": ["db", "leaderboard", "--content", str(SAMPLE)],
    "stats": ["stats", "--content", str(SAMPLE)],
}
# Reading needs no write access: these may read a database in a read-only directory.
READERS = {"db check", "stats"}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", BAD_DATABASES)
def test_an_unusable_database_is_one_clear_error_and_stays_as_it_was(tmp_path, case, command):
    make, message = BAD_DATABASES[case]
    db = make(tmp_path)
    before = snapshot(tmp_path)
    try:
        result = invoke(*COMMANDS[command], "--db", str(db), stdin="1\nquit\n")
        if case == "read-only-directory" and command in READERS:
            assert result.exit_code == 0, result.output
        else:
            assert result.exit_code == 2, result.output
            assert "error:" in result.output and message in result.output, result.output
        assert snapshot(tmp_path) == before
    finally:
        os.chmod(tmp_path, 0o755)
        for p in tmp_path.iterdir():
            if p.is_dir():
                p.chmod(0o755)


def test_a_missing_directory_is_named(tmp_path):
    result = invoke("db", "migrate", "--db", str(tmp_path / "no" / "db.sqlite3"))
    assert result.exit_code == 2 and "does not exist" in result.output
    assert snapshot(tmp_path) == {}


# ---- one setting, one database ----------------------------------------------------------

def players(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT external_id FROM players ORDER BY id")]


def test_diana_db_means_one_database_for_every_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    chosen = tmp_path / "chosen.sqlite3"
    env = {"DIANA_DB": str(chosen)}
    assert invoke("play", str(SAMPLE), env=env, stdin="quit\n").exit_code == 0
    assert invoke("db", "grant", "Guest", "5", "gift", "--content", str(SAMPLE),
                  env=env).exit_code == 0
    check = invoke("db", "check", env=env)
    assert check.exit_code == 0 and str(chosen) in check.output
    stats = invoke("stats", "--content", str(SAMPLE), "-f", "json", env=env)
    assert stats.exit_code == 0 and '"players": 1' in stats.output
    assert players(chosen) == ["Guest"]
    assert not (tmp_path / "diana.sqlite3").exists()
    # the flag wins over the environment
    flagged = tmp_path / "flag.sqlite3"
    assert invoke("db", "migrate", "--db", str(flagged), env=env).exit_code == 0
    assert flagged.exists()


def test_diana_db_from_the_bots_env_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dotenv = tmp_path / "bot.env"
    dotenv.write_text(f"BOT_TOKEN=1:x\nDIANA_DB={tmp_path / 'bot.sqlite3'}\n")
    env = {"DIANA_ENV_FILE": str(dotenv)}
    assert invoke("db", "migrate", env=env).exit_code == 0
    assert (tmp_path / "bot.sqlite3").exists() and not (tmp_path / "diana.sqlite3").exists()
    # the environment wins over the file
    assert invoke("db", "migrate", env={**env, "DIANA_DB": str(tmp_path / "e.sqlite3")}
                  ).exit_code == 0
    assert (tmp_path / "e.sqlite3").exists()


# ---- play: locale and role ----------------------------------------------------------------

@pytest.mark.parametrize(("flag", "value", "valid"), [("--locale", "xx", "en, es"),
                                                      ("--role", "nosuchrole", "free, vip")])
def test_play_refuses_an_unknown_locale_or_role(tmp_path, flag, value, valid):
    db = tmp_path / "s.sqlite3"
    result = invoke("play", str(SAMPLE), "--db", str(db), flag, value, stdin="1\n")
    assert result.exit_code == 2
    assert f"error: {flag} {value}: this story has {valid}" in result.output
    assert not db.exists()


def test_play_in_another_locale_switches_the_save_and_the_replay_records_it(tmp_path):
    db = tmp_path / "s.sqlite3"
    assert invoke("play", str(SAMPLE), "--db", str(db), stdin="1\nquit\n").exit_code == 0
    record = tmp_path / "run.yaml"
    result = invoke("play", str(SAMPLE), "--db", str(db), "--new", "--locale", "es",
                    "--record", str(record), stdin="1\nquit\n")
    assert result.exit_code == 0, result.output
    assert "La invitación" in result.output and "The Invitation" not in result.output
    assert "locale: es" in record.read_text()
    with sqlite3.connect(db) as conn:
        (locale,) = conn.execute("SELECT locale FROM players").fetchone()
    assert locale == "es"
    # resuming without --locale keeps the save's language
    again = invoke("play", str(SAMPLE), "--db", str(db), stdin="quit\n")
    assert "La Puerta de Terciopelo" in again.output


def test_play_refuses_to_change_an_existing_players_role(tmp_path):
    db = tmp_path / "s.sqlite3"
    assert invoke("play", str(SAMPLE), "--db", str(db), stdin="1\nquit\n").exit_code == 0
    before = snapshot(tmp_path)
    result = invoke("play", str(SAMPLE), "--db", str(db), "--new", "--role", "vip",
                    stdin="quit\n")
    assert result.exit_code == 2
    assert "`Guest` plays as free" in result.output and "another --player" in result.output
    assert snapshot(tmp_path) == before


# ---- what a newcomer looks for ------------------------------------------------------------

def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.startswith("diana 0.")


@pytest.mark.parametrize("command", [[], ["play"], ["lint"], ["graph"], ["simulate"],
                                     ["db", "grant"], ["stats"], ["fmt"], ["new", "fragment"],
                                     ["bot", "webhook"]])
def test_help_names_values_as_people_write_them(command):
    result = invoke(*command, "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for label in ("<bool>", "<str>", "<int>", "<path>", "<float>"):
        assert label not in result.output, (label, result.output)


def test_graph_png_takes_a_file():
    result = invoke("graph", "--help", env={"COLUMNS": "200"})
    assert "--png" in result.output
    line = next(x for x in result.output.splitlines() if "--png" in x)
    assert "FILE" in line


# ---- admin amounts ----------------------------------------------------------------------

@pytest.mark.parametrize("amount", ["0", "-5", "1.5", "ten", str(2**63 - 1), "9" * 5000,
                                    "1000000000001"])
def test_db_grant_refuses_an_amount_out_of_bounds(tmp_path, amount):
    db = tmp_path / "s.sqlite3"
    assert invoke("play", str(SAMPLE), "--db", str(db), stdin="quit\n").exit_code == 0
    before = snapshot(tmp_path)
    result = invoke("db", "grant", "--db", str(db), "--content", str(SAMPLE), "--", "Guest",
                    amount, "gift")
    assert result.exit_code == 2 and "error: the amount must be" in result.output, (
        result.output)
    assert len(result.output) < 300
    assert snapshot(tmp_path) == before


def test_the_store_never_grants_past_what_it_can_hold(tmp_path, monkeypatch):
    from engine.numbers import CONTENT_MAX
    from engine.store import batch
    from engine.store.errors import AdminError

    monkeypatch.setattr(batch, "TOTAL_MAX", 100)  # the real one takes a million grants
    with SyncStore.open(tmp_path / "s.sqlite3", sample_game()) as store:
        store.register("ana")
        with pytest.raises(AdminError, match="at most"):
            store.grant("ana", CONTENT_MAX + 1, "too much")
        assert store.grant("ana", 100, "all there is").ok
        refused = store.grant("ana", 1, "one more")
        assert not refused.ok and refused.error == "too-large"
        assert store.state("ana")["points"] == 100


# ---- content that points outside itself ---------------------------------------------------

@pytest.mark.parametrize("where", ["/", "/usr/share", "/proc", "../../../../../../.."])
def test_rules_outside_the_project_are_refused_at_their_line_and_never_read(tmp_path, where):
    import shutil

    shutil.copytree(SAMPLE, tmp_path / "content")
    shutil.copytree(SAMPLE.parent / "rules", tmp_path / "rules")
    game = tmp_path / "content" / "game.yaml"
    text = game.read_text().replace("rules: [../rules]", f"rules: [../rules, '{where}']")
    game.write_text(text)
    line = next(n for n, x in enumerate(text.splitlines(), 1) if x.startswith("rules:"))
    lint = invoke("lint", str(tmp_path / "content"), "-f", "concise")
    assert lint.exit_code == 1
    found = [x for x in lint.output.splitlines() if " M004 " in x]
    assert len(found) == 1 and f"game.yaml:{line}:" in found[0], lint.output
    assert "Y00" not in lint.output  # nothing of the system folder was read
    fmt = invoke("fmt", "--check", str(tmp_path / "content"))
    assert fmt.exit_code == 0 and "8 files already formatted" in fmt.output, fmt.output


def test_db_grant_refuses_a_reason_over_the_bound(tmp_path):
    from engine.store.limits import MAX_REASON

    db = tmp_path / "s.sqlite3"
    assert invoke("play", str(SAMPLE), "--db", str(db), stdin="quit\n").exit_code == 0
    before = snapshot(tmp_path)
    result = invoke("db", "grant", "--db", str(db), "--content", str(SAMPLE), "Guest", "5",
                    "r" * (MAX_REASON + 1))
    assert result.exit_code == 2
    assert f"error: a reason has at most {MAX_REASON} characters" in result.output
    assert snapshot(tmp_path) == before
    assert invoke("db", "grant", "--db", str(db), "--content", str(SAMPLE), "Guest", "5",
                  "r" * MAX_REASON).exit_code == 0


# ---- hostile content through every writer's command -------------------------------------

def _edit(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / rel
        text = path.read_text()
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1))
    return apply


def _append(rel: str, raw: bytes) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        with (root / rel).open("ab") as f:
            f.write(raw)
    return apply


STORY1 = "content/story/01_invitation.yaml"
LOOP_RULES = (b"\n  - id: hostile_there\n    when: {event: enter, fragment: prologue}\n"
              b"    then: [{goto: garden_wall}]\n"
              b"  - id: hostile_back\n    when: {event: enter, fragment: garden_wall}\n"
              b"    then: [{goto: prologue}]\n")
HOSTILE_CONTENT: dict[str, tuple[Callable[[Path], None], str]] = {
    "goto-loop": (_append("rules/rules.yaml", LOOP_RULES), "G007 forced-move-cycle"),
    "points-past-64-bits": (_edit(STORY1, "on_enter:\n", "on_enter:\n      - award:"
                                  " {points: 9223372036854775808, reason: greed}\n"),
                            "S001 schema-violation"),
    "5000-digit-number": (_edit(STORY1, "on_enter:\n", "on_enter:\n      - award:"
                                f" {{points: {'9' * 5000}, reason: greed}}\n"),
                          "S001 schema-violation"),
    "2-MB-line": (_edit(STORY1, "on_enter:\n", f"on_enter:\n      - award: {{points: 1,"
                        f" reason: {'x' * 2_000_000}, bad: 1}}\n"), "S001 schema-violation"),
    "nul-byte": (_append(STORY1, b"\x00"), "Y001 yaml-syntax"),
    "nesting-too-deep": (_append(STORY1, b"deep: " + b"[" * 3000 + b"]" * 3000 + b"\n"),
                         "Y001 yaml-syntax"),
    "rules-at-the-root": (_edit("content/game.yaml", "rules: [../rules]",
                                "rules: [../rules, /]"), "M004 rules-outside-project"),
    "inverted-stat": (_edit("rules/world.yaml", "initial: 0, min: 0, max: 10",
                            "initial: 0, min: 10, max: 0"), "S002 inverted-range"),
}


@pytest.mark.parametrize("case", HOSTILE_CONTENT)
def test_hostile_content_through_every_command(tmp_path, case):
    import shutil

    make, expected = HOSTILE_CONTENT[case]
    shutil.copytree(SAMPLE, tmp_path / "content")
    shutil.copytree(SAMPLE.parent / "rules", tmp_path / "rules")
    make(tmp_path)
    content, db = str(tmp_path / "content"), str(tmp_path / "p.sqlite3")
    before = snapshot(tmp_path)
    lint = invoke("lint", content, env={"COLUMNS": "200"})
    assert lint.exit_code == 1, lint.output[-2000:]
    located = [x for x in lint.output.splitlines() if expected in x]
    assert located and re.match(r"^\S+\.yaml:\d+:\d+: ", located[0]), lint.output[-2000:]
    assert max(map(len, lint.output.splitlines())) < 1000  # no line echoed whole
    assert invoke("lint", content, "-f", "json").exit_code == 1
    assert invoke("lint", content, "--deep", "--max-states", "200").exit_code == 1
    for command in (["graph", content], ["simulate", content, "--mode", "random", "--runs",
                                         "3"], ["play", content, "--db", db]):
        result = invoke(*command, stdin="1\nquit\n")
        assert result.exit_code == 1, (command, result.output[-2000:])
        assert "diana lint" in result.output, (command, result.output[-2000:])
    assert invoke("fmt", "--check", content).exit_code in (0, 1)
    assert snapshot(tmp_path) == before
    # Scaffolding writes into a story that loads (lint errors and all), never into one
    # that does not.
    new = invoke("new", "fragment", "added", "--dir", content, "--from", "prologue",
                 "--choice", "Added")
    assert new.exit_code in (0, 1), new.output[-2000:]
    if new.exit_code == 1:
        assert "nothing written" in new.output and snapshot(tmp_path) == before


# ---- text the player types, in the bot -----------------------------------------------------

NAME_REFUSED = ("The pen hovers. “Forgive me — a name, if you please: letters, spaces, an"
                " apostrophe or a hyphen.”")
HOSTILE_ANSWERS = [
    ("", "Please type something."),
    ("x" * 10_000, "That is too long: at most 24 characters (yours has 10000)."),
    ("Ana\x00\x1b[2J", "That text holds control or invisible characters; type it again"
                       " without them."),
    ("Ana\u202eanA", "That text holds control or invisible characters; type it again"
                     " without them."),
    ("Vi 😀🎭", "Only these are accepted: letters, spaces, punctuation."),
    ("<b>x</b><script>", "Only these are accepted: letters, spaces, punctuation."),
    ("'; DROP TABLE x;--", NAME_REFUSED),
    ("{points} {player}", NAME_REFUSED),
]


def test_text_input_in_the_bot_answers_hostile_text_and_stores_nothing(tmp_path):
    from botkit import running_bot, start

    with running_bot(tmp_path, DIANA_CONTENT=str(SAMPLE), DIANA_RATE_LIMIT="100/1") as bot:
        p, page = start(bot, 7001)
        for label in ("Step into the waiting car", "Pull the velvet bell"):
            before = p.count()
            p.tap(page, label)
            page = p.wait_page(before)
        before = p.count()
        p.tap(page, "Give him a false name")
        asked = p.wait_messages(before)[-1]
        assert "Send your answer as a message" in asked.shown
        assert asked.button_texts() == ["🎭 Your card"]  # no choices: only the menu

        def alias_and_turn() -> tuple[str, int]:
            with SyncStore.open(bot.db, sample_game()) as store:
                state = store.state("tg:7001")
            return state["strings"]["alias"], state["turn"]

        stored = alias_and_turn()
        assert stored[0] == ""
        for text, reply in HOSTILE_ANSWERS:
            before = p.count()
            p.send(text)
            (got,) = p.wait_messages(before)
            assert got.shown == reply and not got.buttons(), (text[:20], got.shown)
            assert p.quiet(p.count(), settle=0.05)
        assert alias_and_turn() == stored  # nothing stored, no turn taken

        before = p.count()
        update = p.send("  O'Hara  ")
        page = p.wait_page(before)
        assert "Lucien has written “O'Hara”" in page.shown
        answered = alias_and_turn()
        assert answered == ("O'Hara", stored[1] + 1)
        # the same update delivered again, and a message where nothing is asked
        before = p.count()
        bot.emu.replay(update)
        assert p.quiet(before, settle=0.6)
        p.send("Mallory")
        (got,) = p.wait_messages(before)
        assert got.shown == "I understand the buttons and commands: /help lists them."
        assert alias_and_turn() == answered
        assert "Traceback" not in bot.output()
