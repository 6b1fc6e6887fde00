"""`diana stats`: numbers from a database built by driving the store with scripted players
(tests/fixtures/mini), the JSON golden file, the PNG charts, clear errors; and
`diana play --record` replayed by `diana simulate --replay`.

The JSON golden is tests/golden/stats/mini.json: `UPDATE_GOLDEN=1 .venv/bin/pytest
tests/test_stats.py` rewrites it; review the diff."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pgkit
import pytest
from stepkit import MINI, SAMPLE, load_game
from storekit import Clock
from typer.testing import CliRunner

from cli.main import app
from engine.simulate import random_runs
from engine.stats import Rows, build, story_order, with_simulation
from engine.stats.read import StatsReadError, read_rows
from engine.step import Choose, Restart, Start
from engine.store import SyncStore

runner = CliRunner()
GOLDEN = Path(__file__).parent / "golden" / "stats"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
AS_OF = "2025-01-08T12:00:00"
DAY = "2025-01-08"


def _at(clock: Clock, hhmm: str) -> None:
    clock.set(f"{DAY}T{hhmm}:00")


def build_db(path: Path | str) -> None:
    """Seven players on the mini story (hall → vault → out|rich; `leave` → out):

    alice  free, seed 0: lamp, door, dice → rich (ending)        at 10:00–10:03
    bob    free, seed 1: door (locked: rejected), leave → out    at 11:00–11:02
    carol  vip:          vip → vault, stays                      last tap 09:05
    dave   free:         start, door (rejected), stays at hall   last tap 08:30
    erin   registered, never started                             07:00
    frank  free:         leave → out, restart, lamp (at hall)    06:00–06:03
    gina   free:         leave → out, then reset by an admin     05:00–05:30
    """
    game = load_game(MINI)
    clock = Clock(f"{DAY}T00:00:00")
    with SyncStore.open(path, game, durability="normal", clock=clock) as store:
        n = 0

        def act(player: str, hhmm: str, action) -> bool:
            nonlocal n
            n += 1
            _at(clock, hhmm)
            if not isinstance(action, Start | Restart):
                action = Choose(action, store.state(player)["turn"], DAY)
            return store.apply(player, action, key=f"k{n}").ok

        def join(player: str, hhmm: str, role: str = "free", seed: int = 0) -> None:
            _at(clock, hhmm)
            store.register(player, role=role, seed=seed)

        join("alice", "10:00", seed=0)
        assert act("alice", "10:00", Start(DAY))
        for hhmm, c in (("10:01", "lamp"), ("10:02", "door"), ("10:03", "dice")):
            assert act("alice", hhmm, c)
        assert store.state("alice")["fragment"] == "rich"
        join("bob", "11:00", seed=1)
        assert act("bob", "11:00", Start(DAY))
        assert not act("bob", "11:01", "door")
        assert act("bob", "11:02", "leave")
        join("carol", "09:00", role="vip")
        assert act("carol", "09:00", Start(DAY))
        assert act("carol", "09:05", "vip")
        join("dave", "08:00")
        assert act("dave", "08:00", Start(DAY))
        assert not act("dave", "08:30", "door")
        join("erin", "07:00")
        join("frank", "06:00")
        assert act("frank", "06:00", Start(DAY))
        assert act("frank", "06:01", "leave")
        assert act("frank", "06:02", Restart(DAY))
        assert act("frank", "06:03", "lamp")
        join("gina", "05:00")
        assert act("gina", "05:00", Start(DAY))
        assert act("gina", "05:01", "leave")
        _at(clock, "05:30")
        store.reset("gina", actor="test")


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("stats") / "players.sqlite3"
    build_db(path)
    return path


@pytest.fixture(scope="module")
def mini():
    return load_game(MINI)


def as_of() -> float:
    from cli.stats_cmd import _as_of

    return _as_of(AS_OF)


def stats(*args: str):
    result = runner.invoke(app, ["stats", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


# ---- the numbers ---------------------------------------------------------------------------


def test_story_order_is_breadth_first_from_start(mini):
    assert story_order(mini.content) == ("hall", "vault", "out", "rich")


def test_report_numbers(db, mini):
    r = build(mini.content, read_rows(db), as_of=as_of())
    assert (r.players, r.started, r.finished, r.not_started) == (7, 6, 4, 2)
    assert [(s.fragment, s.players, s.share, s.ending) for s in r.funnel] == [
        ("hall", 6, 0.8571, None), ("vault", 2, 0.2857, None), ("out", 3, 0.4286, "neutral"),
        ("rich", 1, 0.1429, "good")]
    # dave's last tap (rejected) at 08:30, carol's at 09:05; frank restarted after an
    # ending and gina was reset after one: neither has dropped off
    assert [(d.fragment, d.players, d.idle_median, d.idle_max) for d in r.dropoff] == [
        ("hall", 1, 12600.0, 12600.0), ("vault", 1, 10500.0, 10500.0)]
    split = {c.fragment: (c.taken, [(x.choice, x.taken) for x in c.choices])
             for c in r.choices}
    # rejected taps (bob's and dave's locked door) are not counted
    assert split == {
        "hall": (7, [("lamp", 2), ("door", 1), ("vip", 1), ("pay", 0), ("leave", 3)]),
        "vault": (1, [("dice", 1), ("back", 0)]),
    }
    assert [(a.achievement, a.players, a.rate) for a in r.achievements] == [
        ("first_steps", 5, 0.7143), ("gem_holder", 2, 0.2857), ("collector", 2, 0.2857)]
    assert [(e.ending, e.kind, e.players, e.first, e.share) for e in r.endings] == [
        ("out", "neutral", 3, 3, 0.75), ("rich", "good", 1, 1, 0.25)]
    assert r.simulation is None


def test_simulation_beside_the_players(mini):
    report = build(mini.content, Rows(), as_of=0.0)
    r = with_simulation(report, mini.content, {"out": 30, "rich": 10}, runs=50, seed=3,
                        policy="uniform")
    assert r.simulation is not None and r.simulation.finished == 40
    assert [(s.ending, s.runs, s.share) for s in r.simulation.endings] == [
        ("out", 30, 0.75), ("rich", 10, 0.25)]
    assert report.simulation is None  # immutable: a new report


def test_json_golden(db):
    result = stats("--db", str(db), "--content", str(MINI), "--format", "json",
                   "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    path = GOLDEN / "mini.json"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(result.stdout, encoding="utf-8")
    assert path.is_file(), f"missing {path}; run with UPDATE_GOLDEN=1 to create it"
    assert result.stdout == path.read_text(encoding="utf-8"), (
        "stats JSON differs from the golden file; if intended, rerun with UPDATE_GOLDEN=1")


def test_table_output_and_charts(db, tmp_path):
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    out = tmp_path / "charts"
    result = stats("--db", str(db), "--content", str(MINI), "--out", str(out),
                   "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "7 players · 6 started · 4 reached an ending · 2 not started" in text
    for title in ("Funnel", "Drop-off", "Choice split", "Achievements", "Endings"):
        assert title in text
    assert "3h 30m" in text and "2h 55m" in text  # dave's and carol's idle time
    for name in ("funnel.png", "endings.png", "achievements.png"):
        data = (out / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before  # read only


def test_compare_sim(db, mini, tmp_path):
    result = stats("--db", str(db), "--content", str(MINI), "--format", "json",
                   "--compare-sim", "--runs", "200", "--seed", "7", "--out",
                   str(tmp_path / "c"))
    assert result.exit_code == 0, result.output
    sim = json.loads(result.stdout)["simulation"]
    expected = random_runs(mini, runs=200, seed=7).hits["ending"]
    assert {e["ending"]: e["runs"] for e in sim["endings"]} == {
        "out": expected["out"], "rich": expected["rich"]}
    assert (sim["runs"], sim["seed"], sim["policy"]) == (200, 7, "uniform")
    assert sim["finished"] == expected["out"] + expected["rich"] == 200
    table = stats("--db", str(db), "--content", str(MINI), "--compare-sim", "--runs", "50")
    assert table.exit_code == 0 and "sim share" in table.stdout


def test_empty_database_gives_zeros(tmp_path):
    db = tmp_path / "empty.sqlite3"
    assert runner.invoke(app, ["db", "migrate", "--db", str(db)]).exit_code == 0
    result = stats("--db", str(db), "--content", str(MINI), "--format", "json",
                   "--out", str(tmp_path / "charts"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["players"], data["started"], data["finished"]) == (0, 0, 0)
    assert [s["players"] for s in data["funnel"]] == [0, 0, 0, 0]
    assert data["dropoff"] == []
    assert all(a["rate"] == 0 for a in data["achievements"])
    assert all(e["share"] == 0 for e in data["endings"])
    assert (tmp_path / "charts" / "funnel.png").stat().st_size > 0
    table = stats("--db", str(db), "--content", str(MINI))
    assert table.exit_code == 0 and "0 players" in table.stdout


# ---- PostgreSQL: the same numbers from the same players -----------------------------------


@pytest.fixture(scope="module")
def pg_db():
    with pgkit.scratch_database() as url:
        build_db(url)
        yield url


def test_postgres_gives_the_same_report(pg_db, db):
    args = ("--content", str(MINI), "--as-of", AS_OF)
    for fmt in ("json", "table"):
        on_pg = stats("--db", pg_db, "--format", fmt, *args)
        assert on_pg.exit_code == 0, on_pg.output
        assert on_pg.stdout == stats("--db", str(db), "--format", fmt, *args).stdout
    assert on_pg.stdout.startswith("7 players · 6 started")


def test_postgres_schema_too_old_or_no_server():
    with pgkit.scratch_database(migrated=False) as url:
        result = stats("--db", url, "--content", str(MINI))
        assert result.exit_code == 2
        assert "schema is version 0" in result.output and "diana db upgrade" in result.output
    gone = "postgresql://postgres@127.0.0.1:1/nowhere"
    result = stats("--db", gone, "--content", str(MINI))
    assert result.exit_code == 2 and "DIANA_DB" in result.output
    assert "Traceback" not in result.output


# ---- errors --------------------------------------------------------------------------------


def _unusable(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"this is not a database" * 100)
    newer = tmp_path / "newer.sqlite3"
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    blank = tmp_path / "blank.sqlite3"
    sqlite3.connect(blank).close()
    return {"missing": (tmp_path / "nope.sqlite3", "no such database file"),
            "corrupt": (corrupt, "not a usable"),
            "newer": (newer, "newer than this program understands"),
            "blank": (blank, "empty file, not a Diana database")}


@pytest.mark.parametrize("case", ["missing", "corrupt", "newer", "blank"])
def test_unusable_database(tmp_path, case):
    path, message = _unusable(tmp_path)[case]
    result = stats("--db", str(path), "--content", str(MINI))
    assert result.exit_code == 2
    assert message in result.output
    with pytest.raises(StatsReadError, match=message):
        read_rows(path)


def test_content_errors(db, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(MINI, broken)
    manifest = broken / "game.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("start: hall",
                                                                     "start: nowhere"),
                        encoding="utf-8")
    result = stats("--db", str(db), "--content", str(broken))
    assert result.exit_code == 1
    assert "The story has errors" in result.output
    result = stats("--db", str(db), "--content", str(tmp_path / "missing"))
    assert result.exit_code == 2 and "error:" in result.output


def test_unwritable_chart_dir_and_bad_options(db, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = stats("--db", str(db), "--content", str(MINI), "--out", str(blocker))
    assert result.exit_code == 2 and "cannot write the charts" in result.output
    result = stats("--db", str(db), "--content", str(MINI), "--as-of", "yesterday")
    assert result.exit_code == 2 and "ISO date-time" in result.output
    result = stats("--db", str(db), "--content", str(MINI), "--compare-sim", "--runs", "0")
    assert result.exit_code == 2


# ---- play --record -------------------------------------------------------------------------


def test_play_record_then_replay(tmp_path):
    from test_play import shortest_ending

    game = load_game(SAMPLE)
    path = shortest_ending(game)
    db, replay = tmp_path / "s.sqlite3", tmp_path / "run.yaml"
    lines = "".join(f"{n}\n" for n in [*path, "restart", path[0], "quit"])
    result = runner.invoke(app, ["play", str(SAMPLE), "--db", str(db), "--record",
                                 str(replay)], input=lines)
    assert result.exit_code == 0, result.output
    assert f"Recorded {len(path) + 2} steps to {replay}" in result.output
    text = replay.read_text(encoding="utf-8")
    assert text.startswith("# diana replay") and "- restart\n" in text
    check = runner.invoke(app, ["simulate", str(SAMPLE), "--replay", str(replay)])
    assert check.exit_code == 0, check.output
    assert "ok (" in check.output

    # a save in the middle of a playthrough cannot be recorded from its start...
    again = runner.invoke(app, ["play", str(SAMPLE), "--db", str(db), "--record",
                                str(tmp_path / "x.yaml")], input="quit\n")
    assert again.exit_code == 2 and "--new" in again.output
    assert not (tmp_path / "x.yaml").exists()
    # ...unless it starts over
    fresh = runner.invoke(app, ["play", str(SAMPLE), "--db", str(db), "--new", "--seed", "3",
                                "--record", str(tmp_path / "y.yaml")],
                          input=f"{path[0]}\nquit\n")
    assert fresh.exit_code == 0, fresh.output
    assert "seed: 3" in (tmp_path / "y.yaml").read_text(encoding="utf-8")
    check = runner.invoke(app, ["simulate", str(SAMPLE), "--replay", str(tmp_path / "y.yaml")])
    assert check.exit_code == 0, check.output
