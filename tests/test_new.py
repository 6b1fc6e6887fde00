"""`diana new fragment`: scaffolds that keep comments, lint cleanly, and refuse bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import new_cmd
from cli.main import app
from engine.diagnostics import Severity
from engine.lint import lint
from engine.load import load
from engine.scaffold import Plan, scalar, slugify
from engine.yaml_fmt import format_text

HERE = Path(__file__).parent
ROOT = HERE.parent


@pytest.fixture
def mini(tmp_path) -> Path:
    d = tmp_path / "mini"
    shutil.copytree(HERE / "fixtures" / "mini", d)
    story = d / "story" / "main.yaml"
    story.write_text("# yaml-language-server: $schema=../../../schemas/story.schema.json\n"
                     "# The mini story — this comment must survive.\n"
                     + story.read_text(encoding="utf-8").replace(
                         "  vault:\n", "  # the vault\n  vault:  # gold\n"),
                     encoding="utf-8")
    return d


@pytest.fixture
def sample(tmp_path) -> Path:
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    return tmp_path / "content"


def new(*args: str):
    return CliRunner().invoke(app, ["new", "fragment", *args])


def errors(d: Path) -> list[str]:
    return [f"{x.loc}: {x.message}" for x in lint(load(d)) if x.severity is Severity.ERROR]


def snapshot(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_fragment_wired_from_a_choice(mini):
    story = mini / "story" / "main.yaml"
    before = story.read_text(encoding="utf-8")
    result = new("cellar", "--dir", str(mini), "--from", "vault", "--choice",
                 "Down to the cellar")
    assert result.exit_code == 0, result.output
    assert "added fragment `cellar`" in result.stdout
    assert "added choice `down_to_the_cellar` to `vault`" in result.stdout
    after = story.read_text(encoding="utf-8")
    # comments, the schema line and everything already written are kept
    assert after.startswith("# yaml-language-server: $schema=../../../schemas/story.schema.json\n"
                            "# The mini story — this comment must survive.\n")
    assert "  # the vault\n  vault:  # gold\n" in after
    assert after.count("\n") > before.count("\n")
    for line in before.splitlines():
        assert line in after
    assert ("      - id: down_to_the_cellar\n"
            '        text: {en: Down to the cellar, es: "TODO: Down to the cellar"}\n'
            "        goto: cellar\n") in after
    assert ("  cellar:\n"
            "    text:\n"
            '      en: "TODO: write `cellar`"\n'
            '      es: "TODO: write `cellar`"\n'
            "    choices:\n"
            "      - id: todo\n") in after
    assert errors(mini) == []
    content = load(mini).content
    assert content is not None
    assert content.fragments["cellar"].choices[0].targets[0].to == "vault"  # way back
    vault = content.fragments["vault"]
    assert vault.choices[-1].id == "down_to_the_cellar"
    assert format_text(after, "x") == after  # already in the canonical layout


def test_ending(mini):
    result = new("treasure", "--dir", str(mini), "--from", "vault", "--choice", "Dig",
                 "--ending", "secret")
    assert result.exit_code == 0, result.output
    content = load(mini).content
    assert content is not None
    f = content.fragments["treasure"]
    assert f.ending == "secret" and f.choices == ()
    assert f.text[0].text.locales == ("en", "es")
    assert errors(mini) == []


def test_without_from_goes_to_the_last_story_file(mini):
    (mini / "story" / "zz.yaml").write_text("fragments:\n  spare:\n    ending: bad\n"
                                            "    text: Spare.\n", encoding="utf-8")
    result = new("lonely", "--dir", str(mini))
    assert result.exit_code == 0, result.output
    text = (mini / "story" / "zz.yaml").read_text(encoding="utf-8")
    assert text.startswith("fragments:\n  spare:\n")
    assert "\n\n  lonely:\n" in text  # spaced like the rest of the file
    content = load(mini).content
    assert content is not None
    assert content.fragments["lonely"].choices[0].targets[0].to == "hall"  # the start
    assert errors(mini) == []


def test_new_file_gets_the_schema_line(sample):
    result = new("attic", "--dir", str(sample), "--file", "story/05_attic.yaml",
                 "--from", "foyer", "--choice", "Up to the attic")
    assert result.exit_code == 0, result.output
    text = (sample / "story" / "05_attic.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../../schemas/story.schema.json\n"
                           "fragments:\n  attic:\n")
    assert "goto: attic" in (sample / "story" / "01_invitation.yaml").read_text(
        encoding="utf-8")
    assert errors(sample) == []
    fmt = CliRunner().invoke(app, ["fmt", "--check", str(sample)])
    assert fmt.exit_code == 0, fmt.output


def test_file_path_relative_to_cwd(mini, monkeypatch):
    monkeypatch.chdir(mini.parent)
    result = new("den", "--dir", "mini", "--file", "mini/story/den.yaml")
    assert result.exit_code == 0, result.output
    assert "mini/story/den.yaml" in result.stdout
    assert (mini / "story" / "den.yaml").is_file()
    assert errors(mini) == []


def test_choice_ids_stay_unique(mini):
    for fid in ("a_room", "b_room"):
        result = new(fid, "--dir", str(mini), "--from", "vault", "--choice", "Onward!")
        assert result.exit_code == 0, result.output
    content = load(mini).content
    assert content is not None
    ids = [c.id for c in content.fragments["vault"].choices]
    assert ids[-2:] == ["onward", "onward_2"]
    assert errors(mini) == []


def test_default_choice_text(mini):
    result = new("wine_cellar", "--dir", str(mini), "--from", "hall")
    assert result.exit_code == 0, result.output
    content = load(mini).content
    assert content is not None
    c = content.fragments["hall"].choices[-1]
    assert (c.id, c.text.get("en", "en")) == ("wine_cellar", "Wine cellar")


@pytest.mark.parametrize(("args", "status", "message"), [
    (["hall"], 1, "already exists"),
    (["Bad-Id"], 2, "not a valid id"),
    (["9lives"], 2, "not a valid id"),
    (["x", "--from", "nowhere"], 1, "unknown fragment `nowhere`"),
    (["x", "--from", "hal"], 1, "unknown fragment `hal` (--from); did you mean `hall`?"),
    (["x", "--from", "out"], 1, "is an ending"),
    (["x", "--choice", "Hi"], 2, "--choice needs --from"),
    (["x", "--from", "hall", "--choice", "   "], 2, "empty"),
    (["x", "--file", "/tmp/elsewhere.yaml"], 2, "outside the content directory"),
    (["x", "--file", "story/notes.txt"], 2, "not a .yaml file"),
    (["x", "--file", "rules.yaml"], 1, "not a story file"),
    (["x", "--ending", "great"], 2, "great"),
])
def test_bad_input_writes_nothing(mini, args, status, message):
    before = snapshot(mini)
    result = new(*args, "--dir", str(mini))
    assert result.exit_code == status, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert snapshot(mini) == before


def test_many_choices_and_long_labels_are_scaffolded_as_the_bot_carries_them(mini):
    """The bot pages many choices and numbers long labels (T002, T003 are warnings), so
    scaffolding refuses neither."""
    label = "A long way round, " * 10
    for i in range(6):  # hall has 5 choices: 11 in the end, past one keyboard page
        assert new(f"room{i}", "--dir", str(mini), "--from", "hall", "--choice",
                   f"{label}{i}").exit_code == 0
    content = load(mini).content
    assert content is not None and len(content.fragments["hall"].choices) == 11
    assert content.fragments["hall"].choices[-1].text.get("en", "en").startswith(label.strip())


def test_missing_dir(tmp_path):
    result = new("x", "--dir", str(tmp_path / "nope"))
    assert result.exit_code == 2 and "does not exist" in result.output


def test_broken_content_is_refused(mini):
    (mini / "rules.yaml").write_text("rules: [\n", encoding="utf-8")
    before = snapshot(mini)
    result = new("x", "--dir", str(mini))
    assert result.exit_code == 1 and "does not load" in result.output
    assert snapshot(mini) == before


def test_rolls_back_when_the_result_would_not_lint(mini, monkeypatch):
    story = mini / "story" / "main.yaml"

    def bad_plan(*args, **kwargs):
        return Plan({story: "fragments:\n  hall:\n    text: only\n"}, story)

    monkeypatch.setattr(new_cmd, "plan_fragment", bad_plan)
    before = snapshot(mini)
    result = new("x", "--dir", str(mini))
    assert result.exit_code == 1 and "nothing written" in result.output
    assert snapshot(mini) == before


def test_slugify_and_scalar():
    assert slugify("¡Hola, señor!") == "hola_senor"
    assert slugify("123 go") == "c_123_go"
    assert slugify("!!!") == "choice"
    assert slugify("Go", {"go", "go_2"}) == "go_3"
    assert len(slugify("a" * 50, {"a" * 32})) <= 32
    for trap in ("no", "No", "on", "yes", "12", "1e3", "null", "a: b", "x #y", "[x]"):
        assert type(scalar(trap)) is not str  # quoted
    assert type(scalar("Open the door")) is str
