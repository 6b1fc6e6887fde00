"""`diana import twee`: the fixture stories convert to content that lints and plays; the
report of what was not converted is golden; bad input writes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import readkit
from typer.testing import CliRunner

from cli.main import app
from engine.diagnostics import Severity
from engine.lint import lint
from engine.load import load
from engine.twee import import_twee

FIXTURES = Path(__file__).parent / "fixtures" / "twee"
GOLDEN = Path(__file__).parent / "golden" / "import"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
runner = CliRunner()

# fixture -> (choice numbers typed in `diana play`, the ending fragment they reach)
PLAYS = {"sugarcube": (["1", "2", "1", "1"], "study"), "harlowe": (["1", "1", "2"], "cellar")}


def diana(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def imported(name: str, tmp_path: Path) -> Path:
    out = tmp_path / name
    code, output = diana("import", "twee", str(FIXTURES / f"{name}.twee"), "-o", str(out))
    assert code == 0, output
    return out


@pytest.mark.parametrize("name", sorted(PLAYS))
def test_fixture_lints_clean_and_plays_to_an_ending(name: str, tmp_path: Path) -> None:
    out = imported(name, tmp_path)
    errors = [d for d in lint(load(out)) if d.severity is Severity.ERROR]
    assert errors == []
    assert diana("fmt", "--check", str(out))[0] == 0
    moves, ending = PLAYS[name]
    db = tmp_path / "s.sqlite3"
    code, output = diana("play", str(out), "--db", str(db), "--new",
                         input="".join(f"{m}\n" for m in moves))
    assert code == 0, output
    assert "restart to play again" in output
    with readkit.sqlite(db) as conn:
        state = json.loads(conn.execute("SELECT state FROM saves").fetchone()[0])
    assert state["fragment"] == ending
    assert state["endings"] == [ending]


# fixture -> the passages a player can reach that have no link onward: Twine's endings.
# (Harlowe's Footer has none either, but only `(display:)` shows it, so nobody reaches it.)
ENDING_PASSAGES = {"sugarcube": {"study", "street"}, "harlowe": {"cellar", "home"}}


@pytest.mark.parametrize("name", sorted(PLAYS))
def test_explored_endings_are_the_ending_passages(name: str, tmp_path: Path) -> None:
    out = imported(name, tmp_path)
    code, output = diana("simulate", str(out), "--max-states", "3000", "--probe", "0",
                         "-f", "json")
    assert code == 0, output
    assert set(json.loads(output)["reached"]["ending"]) == ENDING_PASSAGES[name]


@pytest.mark.parametrize("name", sorted(PLAYS))
def test_report_of_what_was_not_converted(name: str, tmp_path: Path) -> None:
    report = (imported(name, tmp_path) / "import-report.txt").read_text(encoding="utf-8")
    golden = GOLDEN / f"{name}.txt"
    if UPDATE:
        golden.write_text(report, encoding="utf-8")
    assert report == golden.read_text(encoding="utf-8")


def _fixture(name: str) -> tuple[dict[str, str], object]:
    path = FIXTURES / f"{name}.twee"
    return import_twee([(path.name, path.read_text(encoding="utf-8"))])


def test_sugarcube_mapping() -> None:
    files, _ = _fixture("sugarcube")
    story = readkit.read(files["story/sugarcube.yaml"])["fragments"]
    rules = readkit.read(files["rules.yaml"])
    assert readkit.read(files["game.yaml"])["start"] == "front_door"  # StoryData's start
    assert rules == {"stats": {"gold": {"name": "gold", "initial": 3},
                               "visits_hall": {"name": "visitsHall"}},
                     "flags": {"has_key": {"description": "$hasKey"},
                               "peeked": {"description": "$peeked"}}}
    assert story["front_door"]["tags"] == ["entrance"]
    assert [(c["id"], c["goto"]) for c in story["front_door"]["choices"]] == [
        ("knock", "hallway"), ("walk_around_the_house", "garden"), ("leave", "street")]
    hall = {c["id"]: c for c in story["hallway"]["choices"]}
    assert hall["unlock_the_study"]["requires"] == {"flag": "has_key"}
    assert hall["unlock_the_study"]["when_locked"] == "hide"
    assert hall["pay_the_butler"]["effects"] == [{"stat": {"id": "gold", "sub": 2}}]
    assert hall["buy_the_key"] == {
        "id": "buy_the_key", "text": "Buy the key", "goto": "key_shop",
        "requires": {"all": [{"not": {"flag": "has_key"}}, {"stat": {"id": "gold", "gte": 2}}]},
        "when_locked": "hide", "effects": [{"stat": {"id": "gold", "sub": 2}}]}
    assert story["hallway"]["text"][1] == {"if": {"stat": {"id": "gold", "gte": 5}},
                                           "text": "Your purse feels heavy."}
    assert story["key_shop"]["on_enter"] == [{"set": "has_key"}]
    assert story["key_shop"]["choices"] == [{"id": "continue", "text": "Continue",
                                             "goto": "hallway"}]  # <<goto>>
    assert story["study"]["text"][:2] == [
        {"if": {"visited": "garden"},
         "text": "The study is warm, and you smell the roses on your coat."},
        {"if": {"not": {"visited": "garden"}}, "text": "The study is warm."}]
    assert (story["study"]["ending"], story["street"]["ending"]) == ("good", "bad")
    gold = [{"stat": {"id": "gold", "eq": n}} for n in (0, 1, 2)]
    assert story["street"]["text"][1:] == [  # <<switch>>
        {"if": gold[0], "text": "Your pockets are empty."},
        {"if": {"all": [{"not": gold[0]}, {"any": gold[1:]}]},
         "text": "A coin or two clinks in your pocket."},
        {"if": {"all": [{"not": gold[0]}, {"not": {"any": gold[1:]}}]},
         "text": "Your purse is heavy."}]
    assert story["front_door"]["text"] == "Rain drums on the awning, $name. You have" \
        " {stat.gold} coins."


def test_harlowe_mapping() -> None:
    files, conv = _fixture("harlowe")
    story = readkit.read(files["story/harlowe.yaml"])["fragments"]
    assert readkit.read(files["rules.yaml"]) == {
        "stats": {"courage": {"name": "courage", "initial": 1}},
        "flags": {"lamp": {"description": "$lamp"}}}
    gate = {c["id"]: c for c in story["gate"]["choices"]}
    assert gate["enter_the_cellar"]["requires"] == {"flag": "lamp"}
    assert gate["shout"] == {"id": "shout", "text": "Shout", "goto": "gate",
                             "effects": [{"stat": {"id": "courage", "sub": 1}}]}
    assert gate["take_the_lamp"]["goto"] == "shed"
    assert story["gate"]["on_enter"] == [
        {"stat": {"id": "courage", "add": 1}},
        {"set": "lamp", "if": {"stat": {"id": "courage", "gt": 5}}}]  # (if:)[(set:)]
    assert story["shed"]["on_enter"] == [{"set": "lamp"}]  # (put: true into $lamp)
    assert story["cellar"]["text"][0] == {"if": {"not": {"stat": {"id": "courage", "lt": 2}}},
                                          "text": "You go down without fear."}  # (unless:)
    assert conv.endings == ("cellar", "home", "footer")


def test_bad_inputs_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = diana("import", "twee", str(tmp_path / "missing.twee"), "-o", str(out))
    assert code == 2 and "cannot read" in output and "nothing written" in output
    (tmp_path / "latin1.twee").write_bytes(":: Start\ncaf\xe9\n".encode("latin-1"))
    code, output = diana("import", "twee", str(tmp_path / "latin1.twee"), "-o", str(out))
    assert code == 2 and "is not UTF-8" in output
    (tmp_path / "empty.twee").write_text("just prose, no passage\n", encoding="utf-8")
    code, output = diana("import", "twee", str(tmp_path / "empty.twee"), "-o", str(out))
    assert code == 2 and "no passages found" in output
    (tmp_path / "special.twee").write_text(":: StoryInit\n<<set $x to 1>>\n", encoding="utf-8")
    code, output = diana("import", "twee", str(tmp_path / "special.twee"), "-o", str(out))
    assert code == 2 and "no passage a player can read" in output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_refuses_a_non_empty_directory_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.md").write_text("mine\n", encoding="utf-8")
    source = str(FIXTURES / "harlowe.twee")
    code, output = diana("import", "twee", source, "-o", str(out))
    assert code == 2 and "--force" in output
    assert sorted(p.name for p in out.iterdir()) == ["notes.md"]
    code, output = diana("import", "twee", source, "-o", str(out), "--force")
    assert code == 0, output
    assert (out / "game.yaml").is_file() and (out / "notes.md").read_text() == "mine\n"
    (tmp_path / "file").write_text("x", encoding="utf-8")
    code, output = diana("import", "twee", source, "-o", str(tmp_path / "file"))
    assert code == 2 and "not a directory" in output


def test_report_counts_a_construct_repeated_on_one_line() -> None:
    from engine.twee import report_lines

    source = (":: Start\nName: <<textbox \"$a\" \"\">> <<textbox \"$b\" \"\">>"
              " <<textbox \"$c\" \"\">>\n<<audio \"rain\" play>>\n[[End]]\n:: End\nBye.\n")
    _, conv = import_twee([("s.twee", source)])
    assert report_lines(conv) == [
        'not converted: 3 <<textbox>> `"$a" ""` in passage "Start", line 2 (s.twee:2):'
        " text input does not exist in the format yet",
        'not converted: <<audio>> `"rain" play` in passage "Start", line 3 (s.twee:3):'
        " the story format's macro has no equivalent in the format",
        "Not converted: 4 constructs (3 <<textbox>>, 1 <<audio>>).",
    ]
