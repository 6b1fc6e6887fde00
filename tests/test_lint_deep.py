"""`diana lint --deep` says when its bound cut the exploration short, in every format, and
when it did not: V001 and V002 are claims about every reachable state, made only when the
exploration is complete."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from engine.lint.deep import DEEP_MAX_STATES

ROOT = Path(__file__).parent.parent
CASES = Path(__file__).parent / "lint_cases"


def lint(cwd: Path, *args: str) -> tuple[int, str]:
    here = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, ["lint", "content", "--deep", *args])
    finally:
        os.chdir(here)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


# The sample has more states than a small bound: the search stops there.
BOUNDED = ("--max-states", "300")


@pytest.mark.parametrize("fmt", ["full", "concise"])
def test_text_says_the_bound_was_reached(fmt):
    code, out = lint(ROOT, *BOUNDED, "-f", fmt)
    assert code == 0
    note = out.strip().splitlines()[-1]
    assert note.startswith("Deep checks not proven: the exploration reached its bound"), note
    assert "300 states per search" in note and "V001/V002" in note


def test_github_says_the_bound_was_reached():
    code, out = lint(ROOT, *BOUNDED, "-f", "github")
    assert code == 0
    (line,) = [x for x in out.splitlines() if x.startswith("::")]
    assert line.startswith("::notice title=lint --deep::Deep checks not proven")


def test_json_has_a_field_for_it():
    code, out = lint(ROOT, *BOUNDED, "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert data["diagnostics"] == []
    deep = data["deep"]
    assert deep["complete"] is False and deep["max_states"] == 300
    assert deep["states"] >= 300 and deep["note"].startswith("Deep checks not proven")


def test_a_complete_exploration_says_nothing_of_a_bound():
    code, out = lint(CASES / "V001", "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert [d["code"] for d in data["diagnostics"]] == ["V001"]
    assert data["deep"]["complete"] is True and data["deep"]["note"] is None
    code, out = lint(CASES / "V001", "-f", "concise")
    assert "not proven" not in out


def test_plain_lint_json_stays_a_list():
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        out = CliRunner().invoke(app, ["lint", "content", "-f", "json"]).output
    finally:
        os.chdir(here)
    assert json.loads(out) == []


def test_max_states_needs_deep_and_a_positive_number():
    result = CliRunner().invoke(app, ["lint", str(ROOT / "content"), "--max-states", "0",
                                      "--deep"])
    assert result.exit_code == 2 and "--max-states" in result.output
    result = CliRunner().invoke(app, ["lint", str(ROOT / "content"), "--max-states", "10"])
    assert result.exit_code == 2 and "--deep" in result.output


def test_the_default_bound_is_the_one_the_docs_give():
    docs = (ROOT / "docs" / "simulate.md").read_text(encoding="utf-8")
    assert f"--max-states` (default {DEEP_MAX_STATES:,})" in docs
