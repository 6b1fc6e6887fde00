"""Golden tests of `diana lint`: every case in tests/lint_cases/ is linted and compared with
its expected.txt. `UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_lint_golden.py`
rewrites the expected files; review the diff before committing it.

A case is a directory `tests/lint_cases/NAME/` holding `content/` (the story to lint), an
optional `args.txt` (more `diana lint` options, such as `--deep`) and
`expected.txt` (the exact `diana lint content --format concise` output, run from the case
directory). NAME starts with the code the case is about (`G006`, `Y003-alias-bomb`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from engine import load as load_module
from engine.catalog import CHECKS

CASES = Path(__file__).parent / "lint_cases"
DOCS = Path(__file__).parent.parent / "docs" / "checks"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

# Files too big to commit, made in the copy of the case: (relative path, size in bytes).
# A sparse file has the size without the disk use; lint refuses it before reading it.
GENERATED = {"Y005": [("content/story/huge.yaml", 50 * 1024 * 1024)]}


def case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "content").is_dir())


def run_lint(case_dir: Path, *args: str) -> tuple[int, str]:
    """`diana lint content ARGS` with `case_dir` as the working directory; a case's optional
    `args.txt` adds options (e.g. `--deep` for the V checks)."""
    extra = case_dir / "args.txt"
    if extra.is_file():
        args = (*args, *extra.read_text(encoding="utf-8").split())
    runner = CliRunner()
    cwd = Path.cwd()
    os.chdir(case_dir)
    try:
        result = runner.invoke(app, ["lint", "content", *args])
    finally:
        os.chdir(cwd)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    return result.exit_code, result.output


def prepare(name: str, tmp_path: Path) -> Path:
    """A copy of the case, with its generated files."""
    target = tmp_path / name
    shutil.copytree(CASES / name, target, symlinks=True)
    for rel, size in GENERATED.get(name, []):
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            f.truncate(size)
    return target


@pytest.mark.parametrize("name", case_names())
def test_golden(name: str, tmp_path: Path) -> None:
    code, out = run_lint(prepare(name, tmp_path), "--format", "concise")
    expected_file = CASES / name / "expected.txt"
    if UPDATE:
        expected_file.write_text(out, encoding="utf-8")
    expected = expected_file.read_text(encoding="utf-8")
    assert out == expected
    assert "Traceback" not in out
    errors = any(" [error] " in line for line in out.splitlines())
    assert code == (1 if errors else 0)


@pytest.mark.parametrize("name", case_names())
def test_output_does_not_depend_on_file_order(name: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    case = prepare(name, tmp_path)
    _, forward = run_lint(case, "--format", "concise")
    listing = load_module._yaml_files
    monkeypatch.setattr(load_module, "_yaml_files", lambda d: list(reversed(listing(d))))
    _, backward = run_lint(case, "--format", "concise")
    assert backward == forward


@pytest.mark.parametrize("code", sorted(CHECKS))
def test_every_check_has_a_doc_page_and_a_golden_case(code: str) -> None:
    assert (DOCS / f"{code}.md").is_file(), f"docs/checks/{code}.md is missing"
    expected = CASES / code / "expected.txt"
    assert expected.is_file(), f"tests/lint_cases/{code}/ is missing"
    assert f" {code} {CHECKS[code].name} " in expected.read_text(encoding="utf-8")


def test_every_case_is_named_for_a_check() -> None:
    for name in case_names():
        assert name == "clean" or name.split("-")[0] in CHECKS, name
