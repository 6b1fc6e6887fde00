"""`diana lint` as a user runs it: exit statuses, output formats, --explain, --list."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from engine.catalog import CHECKS
from engine.lint import lint
from engine.load import load

ROOT = Path(__file__).parent.parent
CASES = Path(__file__).parent / "lint_cases"
runner = CliRunner()


def invoke(*args: str, cwd: Path = ROOT) -> tuple[int, str]:
    here = Path.cwd()
    os.chdir(cwd)
    try:
        result = runner.invoke(app, list(args))
    finally:
        os.chdir(here)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_sample_content_lints_clean() -> None:
    assert lint(load(ROOT / "content", display_base=ROOT)) == []
    code, out = invoke("lint", "content")
    assert (code, out.strip()) == (0, "All checks passed.")


def test_exit_status_1_on_errors() -> None:
    assert invoke("lint", "content", cwd=CASES / "G002")[0] == 1


def test_exit_status_0_on_warnings_only() -> None:
    assert invoke("lint", "content", cwd=CASES / "G001")[0] == 0


@pytest.mark.parametrize("args", [
    ["lint", "no/such/dir"],
    ["lint", "README.md"],
    ["lint", "content", "--format", "xml"],
    ["lint", "--explain", "Z999"],
    ["lint", "content", "--no-such-option"],
])
def test_exit_status_2_on_bad_usage(args: list[str]) -> None:
    assert invoke(*args)[0] == 2


def test_unreadable_file_is_a_usage_error_not_a_diagnostic(tmp_path: Path) -> None:
    shutil.copytree(CASES / "clean" / "content", tmp_path / "content")
    (tmp_path / "content" / "story" / "gone.yaml").symlink_to(tmp_path / "missing.yaml")
    code, out = invoke("lint", "content", cwd=tmp_path)
    assert code == 2
    assert "cannot read `content/story/gone.yaml`" in out
    assert "Y004" not in out


def test_json_format() -> None:
    code, out = invoke("lint", "content", "--format", "json", cwd=CASES / "R002")
    assert code == 1
    data = json.loads(out)
    assert data[0] == {
        "code": "R002", "name": "unknown-goto", "severity": "error",
        "message": "unknown goto target `hal`; did you mean `hall`?",
        "file": "content/story/main.yaml", "line": 5, "col": 46, "hint": None,
        "related": [], "suggestion": "hall",
    }
    assert json.loads(invoke("lint", "content", "--format", "json")[1]) == []


def test_github_format() -> None:
    code, out = invoke("lint", "content", "--format", "github", cwd=CASES / "R002")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("::error file=content/story/main.yaml,line=5,col=46,"
                               "title=R002 unknown-goto::unknown goto target `hal`")
    assert lines[1].startswith("::warning file=content/story/main.yaml,line=6,col=3,")


def test_full_format_shows_the_source_line_and_a_caret() -> None:
    _, out = invoke("lint", "content", cwd=CASES / "R002")
    assert "5 |       - {id: enter, text: Step inside, goto: hal}" in out
    assert "  |" + " " * 46 + "^ unknown-goto" in out
    assert "R002 unknown-goto [error] unknown goto target `hal`; did you mean `hall`?" in out


@pytest.mark.parametrize("key", ["G006", "g006", "rule-cycle"])
def test_explain_prints_the_doc_page(key: str) -> None:
    code, out = invoke("lint", "--explain", key)
    assert code == 0
    assert out.startswith("# G006 rule-cycle")


def test_list_shows_every_check() -> None:
    code, out = invoke("lint", "--list")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == list(CHECKS)
    assert all(info.name in out for info in CHECKS.values())


def test_severity_override_applies_to_reading_problems(tmp_path: Path) -> None:
    shutil.copytree(CASES / "Y007" / "content", tmp_path / "content")
    game = tmp_path / "content" / "game.yaml"
    game.write_text(game.read_text() + "lint: {severity: {byte-order-mark: error}}\n")
    code, out = invoke("lint", "content", "--format", "concise", cwd=tmp_path)
    assert code == 1
    assert "Y007 byte-order-mark [error]" in out


def test_an_override_cannot_let_a_story_that_does_not_load_pass(tmp_path: Path) -> None:
    shutil.copytree(CASES / "Y001" / "content", tmp_path / "content")
    game = tmp_path / "content" / "game.yaml"
    game.write_text(game.read_text() + "lint: {severity: {Y001: off}}\n")
    code, out = invoke("lint", "content", "--format", "concise", cwd=tmp_path)
    assert code == 1
    assert "Y001 yaml-syntax [error]" in out


# ---- snippets of huge lines ------------------------------------------------------------

HUGE = 2_000_000


def _huge_story(tmp_path: Path, before: int) -> Path:
    """A story whose choice line holds an unknown key `bogus` after `before` characters of
    label (a 2 MB line when `before` is large)."""
    content = tmp_path / "content"
    shutil.copytree(CASES / "clean" / "content", content)
    (content / "story" / "huge.yaml").write_text(
        "fragments:\n  huge:\n    text: Huge.\n    choices:\n"
        f'      - {{id: go, text: "{"x" * before}", bogus: 1, goto: huge, tail: "'
        + "y" * HUGE + '"}\n', encoding="utf-8")
    return content


@pytest.mark.parametrize("before", [HUGE, 10])
def test_a_snippet_of_a_huge_line_is_cut_around_the_column(tmp_path: Path, before: int) -> None:
    _huge_story(tmp_path, before)
    code, out = invoke("lint", "content", cwd=tmp_path)
    assert code == 1
    assert len(out) < 3_000
    lines = out.splitlines()
    i = next(n for n, line in enumerate(lines) if line.endswith("^ schema-violation"))
    source, caret = lines[i - 1], lines[i]
    col = caret.index("^")
    assert source[col:col + len("bogus")] == "bogus"  # the caret is under the unknown key
    shown = source.split(" | ", 1)[1]
    assert shown.endswith("…") and 190 <= len(shown) <= 210
    assert shown.startswith("…") == (before == HUGE)


@pytest.mark.parametrize("fmt", ["concise", "json", "github"])
def test_other_formats_do_not_echo_a_huge_line(tmp_path: Path, fmt: str) -> None:
    _huge_story(tmp_path, HUGE)
    code, out = invoke("lint", "content", "-f", fmt, cwd=tmp_path)
    assert code == 1 and "bogus" in out and len(out) < 3_000
