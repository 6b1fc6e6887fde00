"""`diana graph`: golden Mermaid and DOT output, escaping, coverage, PNG rendering, errors.

Regenerate the golden files after an intended change with
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_graph.py` and review the diff.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from engine import graph_export
from engine.graph_export import Edge, Graph, Node, dot_text, mermaid_text
from engine.load import load

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
GOLDEN = HERE / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

COVERAGE = {"fragments": {"hall": 4, "vault": 2, "out": 1},
            "choices": {"hall.leave": 1, "hall.pay": 2, "vault.dice": 1}}


def invoke(*args: str):
    return CliRunner().invoke(app, ["graph", *args])


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"missing {path}; run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs from the golden file; if intended, rerun with UPDATE_GOLDEN=1")


CASES = [
    ("mini", ["--format", "mermaid"], "graph_mini.mmd"),
    ("mini", ["--format", "dot"], "graph_mini.dot"),
    ("graph_escape", ["--format", "mermaid", "--labels", "both"], "graph_escape.mmd"),
    ("graph_escape", ["--format", "dot", "--labels", "both"], "graph_escape.dot"),
]


@pytest.mark.parametrize(("fixture", "args", "golden"), CASES)
def test_golden(fixture, args, golden):
    result = invoke(str(FIXTURES / fixture), *args)
    assert result.exit_code == 0, result.output
    check_golden(golden, result.stdout)


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_golden_coverage(tmp_path, fmt):
    cov = tmp_path / "coverage.json"
    cov.write_text(json.dumps(COVERAGE))
    result = invoke(str(FIXTURES / "mini"), "--format", fmt, "--coverage", str(cov))
    assert result.exit_code == 0, result.output
    check_golden(f"graph_mini_coverage.{'mmd' if fmt == 'mermaid' else 'dot'}", result.stdout)


def test_graph_content():
    content = load(FIXTURES / "mini").content
    assert content is not None
    g = graph_export.build(content)
    ids = [n.id for n in g.nodes]
    assert ids == list(content.fragments)
    kinds = {n.id: n.kind for n in g.nodes}
    assert kinds["out"] == kinds["rich"] == "ending"
    assert next(n for n in g.nodes if n.start).id == "hall"
    by_label = {e.label[0]: e for e in g.edges}
    assert by_label["door"].style == "dashed" and "🔒 flag lamp" in by_label["door"].label
    assert "🪙 8" in by_label["pay"].label
    assert by_label["lamp"].src == by_label["lamp"].dst == "hall"  # stays in place
    dice = [e for e in g.edges if e.label[0] == "dice"]
    assert {e.dst for e in dice} == {"out", "rich"}
    assert all("50% (weight 1)" in e.label for e in dice)


def test_rule_gotos_are_dotted():
    content = load(FIXTURES / "graph_escape").content
    assert content is not None
    g = graph_export.build(content)
    rules = [e for e in g.edges if e.kind == "rule"]
    assert {(e.src, e.dst) for e in rules} == {("x_room", "o_pit"), ("rule:dread", "o_pit")}
    assert all(e.style == "dotted" for e in rules)
    assert any("chance 25%" in e.label for e in rules)
    assert "rule" in {n.kind for n in g.nodes}


def test_requirement_summaries():
    content = load(FIXTURES / "graph_escape").content
    assert content is not None
    x = content.fragments["end"].choice("x")
    assert x is not None and x.requires is not None
    assert graph_export.summarize(x.requires) == "flag lamp or (points ≥ 10 and points < 20)"


def test_escaping():
    assert mermaid_text('a "b" <c> | #d & `e`') == \
        "a #34;b#34; #60;c#62; #124; #35;d #38; #96;e#96;"
    assert mermaid_text("[x] {y} (z) 💋") == "[x] {y} (z) 💋"
    assert dot_text('say "hi" \\n') == 'say \\"hi\\" \\\\n'
    g = Graph('T "1"\nline', (Node("a", ('x"\ny',), "fragment"),),
              (Edge("a", "a", ("p|q", "r\"s"), "choice"),))
    mmd = graph_export.to_mermaid(g)
    assert 'f_a["x#34;<br/>y"]' in mmd
    assert '-->|"p#124;q<br/>r#34;s"|' in mmd
    assert "%% T \"1\" line" in mmd  # a comment stays on one line
    dot = graph_export.to_dot(g)
    assert '"a" [label="x\\"\\ny"]' in dot
    assert 'label="T \\"1\\"\\nline"' in dot


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("fixture", ["mini", "graph_escape"])
def test_dot_output_is_valid_graphviz(fixture):
    text = invoke(str(FIXTURES / fixture), "--format", "dot").stdout
    done = subprocess.run(["dot", "-Tsvg"], input=text.encode(), capture_output=True,
                          check=False)
    assert done.returncode == 0, done.stderr


def test_out_writes_file(tmp_path):
    out = tmp_path / "story.mmd"
    result = invoke(str(FIXTURES / "mini"), "--out", str(out))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("%% Mini")


def test_png_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = invoke(str(FIXTURES / "mini"), "--png", str(tmp_path / "g.png"))
    assert result.exit_code == 2
    assert "Graphviz" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "g.png").exists()


def _fake_dot(bin_dir: Path, body: str) -> None:
    bin_dir.mkdir()
    exe = bin_dir / "dot"
    exe.write_text("#!/bin/sh\n" + body)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)


@pytest.mark.skipif(os.name == "nt", reason="shell script stand-in for dot")
def test_png_through_dot(tmp_path, monkeypatch):
    # A stand-in `dot` that records its arguments and input, so the test needs no Graphviz.
    bin_dir = tmp_path / "bin"
    _fake_dot(bin_dir, f'echo "$@" > {tmp_path}/args\ncat > {tmp_path}/input\n'
                       'touch "$3"\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    png = tmp_path / "g.png"
    result = invoke(str(FIXTURES / "mini"), "--png", str(png))
    assert result.exit_code == 0, result.output
    assert png.exists()
    assert (tmp_path / "args").read_text().split() == ["-Tpng", "-o", str(png)]
    assert (tmp_path / "input").read_text(encoding="utf-8").startswith("digraph story {")


@pytest.mark.skipif(os.name == "nt", reason="shell script stand-in for dot")
def test_png_dot_fails(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    _fake_dot(bin_dir, 'echo "Error: syntax error" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    result = invoke(str(FIXTURES / "mini"), "--png", str(tmp_path / "g.png"))
    assert result.exit_code == 2
    assert "syntax error" in result.stderr and "Traceback" not in result.output


def test_broken_content_prints_lint_summary(tmp_path):
    shutil.copytree(FIXTURES / "mini", tmp_path / "s")
    story = tmp_path / "s" / "story" / "main.yaml"
    story.write_text(story.read_text().replace("goto: out", "goto: nowhere"))
    result = invoke(str(tmp_path / "s"))
    assert result.exit_code == 1
    assert "Found 1 error" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.output


def test_unparsable_content(tmp_path):
    shutil.copytree(FIXTURES / "mini", tmp_path / "s")
    (tmp_path / "s" / "rules.yaml").write_text("rules: [\n")
    result = invoke(str(tmp_path / "s"))
    assert result.exit_code == 1
    assert "error" in result.stderr and "Traceback" not in result.output


def test_missing_directory(tmp_path):
    result = invoke(str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


@pytest.mark.parametrize("data", [
    "not json", "[1, 2]", '{"fragments": {"hall": -1}}', '{"fragments": {"hall": true}}',
    '{"choices": []}', '{"frags": {}}',
])
def test_bad_coverage(tmp_path, data):
    cov = tmp_path / "c.json"
    cov.write_text(data)
    result = invoke(str(FIXTURES / "mini"), "--coverage", str(cov))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output


def test_missing_coverage_file(tmp_path):
    result = invoke(str(FIXTURES / "mini"), "--coverage", str(tmp_path / "none.json"))
    assert result.exit_code == 2 and "cannot read" in result.stderr


def test_bad_format_option():
    result = invoke(str(FIXTURES / "mini"), "--format", "svg")
    assert result.exit_code == 2 and "Traceback" not in result.output
