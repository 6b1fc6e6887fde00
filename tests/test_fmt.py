"""`diana fmt`: canonical layout that keeps comments, order, quotes; idempotent; safe."""

from __future__ import annotations

import io
import os
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from typer.testing import CliRunner

from cli.main import app
from engine import yaml_fmt
from engine.yaml_fmt import FormatError, check_readable, deep_stack, format_text

ROOT = Path(__file__).parent.parent
SAMPLE = sorted([*(ROOT / "content").rglob("*.yaml"), *(ROOT / "rules").rglob("*.yaml")])

LONG = ("This line is deliberately very long so that a formatter with a normal width "
        "would fold it somewhere in the middle, which we must never do.")

MESSY = """\
# yaml-language-server: $schema=../../schemas/story.schema.json
# Chapter 9 — a comment that must survive.
fragments:
    cellar:     # the cellar (end-of-line comments keep their column)
        title: {en: "La bodega", es: Bodega}
        text:   Dust and "wine" — ¿sí? 💋
        choices:
        -   id: up
            text: 'no'
            goto: cellar
            effects: [{set: lamp}]
        -   id: long
            text: yes
            goto: cellar
            locked_text: LONG
""".replace("LONG", LONG)

CANONICAL = """\
# yaml-language-server: $schema=../../schemas/story.schema.json
# Chapter 9 — a comment that must survive.
fragments:
  cellar:       # the cellar (end-of-line comments keep their column)
    title: {en: "La bodega", es: Bodega}
    text: Dust and "wine" — ¿sí? 💋
    choices:
      - id: up
        text: 'no'
        goto: cellar
        effects: [{set: lamp}]
      - id: long
        text: yes
        goto: cellar
        locked_text: LONG
""".replace("LONG", LONG)


def invoke(*args: str):
    return CliRunner().invoke(app, ["fmt", *args])


# ---- the formatter ----------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_sample_is_canonical(path):
    text = path.read_text(encoding="utf-8")
    assert format_text(text, str(path)) == text


def test_sample_check_passes():
    result = invoke(str(ROOT / "content"))
    assert result.exit_code == 0, result.output
    assert "already formatted" in result.stdout
    assert "8 files" in result.stdout  # content/ and, through game.yaml, ../rules


def test_canonical_layout_keeps_comments_order_quotes_unicode():
    out = format_text(MESSY, "x.yaml")
    assert out == CANONICAL
    assert format_text(out, "x.yaml") == out
    assert check_readable(out, "x") == check_readable(MESSY, "x")


@pytest.mark.parametrize(("src", "want"), [
    ("a:\n- 1\n- 2\n", "a:\n  - 1\n  - 2\n"),
    ("a: 1   \nb: 2\n\n\n", "a: 1\nb: 2\n"),
    ("a: 1\r\nb: 2\r\n", "a: 1\r\nb: 2\r\n"),  # a CRLF file stays CRLF, as lint reads it
    ("a:\r\n- 1\r\n", "a:\r\n  - 1\r\n"),
    ("a: 1\r\nb: 2\n", "a: 1\nb: 2\n"),  # mixed endings become LF
    ("\ufeffa: 1\n", "a: 1\n"),
    ("x: [{a: 1}, {b: 2}]\n", "x: [{a: 1}, {b: 2}]\n"),
    ("x: 'on'\ny: \"off\"\nz: !!str 12\n", "x: 'on'\ny: \"off\"\nz: !!str 12\n"),
    ("# only a comment\n\n", "# only a comment\n"),
    ("", ""),
    ("---\na: 1\n", "---\na: 1\n"),
    ("t: >-\n  folded text\n  stays folded\n", "t: >-\n  folded text\n  stays folded\n"),
    ("t: |\n  kept\n    indented\n", "t: |\n  kept\n    indented\n"),
])
def test_cases(src, want):
    assert format_text(src, "t.yaml") == want
    assert format_text(want, "t.yaml") == want


@pytest.mark.parametrize(("src", "where", "what"), [
    ("a: [1\n", "t.yaml:2:1", "yaml-syntax"),
    ("a: 1\na: 2\n", "t.yaml:2:1", "duplicate key"),
    ("a: &x 1\nb: *x\n", "t.yaml:1:4", "anchor"),
    ("a: !foo 1\n", "t.yaml:1:4", "not allowed"),
    ("a: 1\n---\nb: 2\n", "t.yaml:2:1", "single document"),
    ("%YAML 1.1\n---\na: yes\n", "t.yaml:1:1", "%YAML"),
])
def test_refuses_what_the_loader_refuses(src, where, what):
    with pytest.raises(FormatError) as exc:
        format_text(src, "t.yaml")
    assert str(exc.value.loc) == where
    assert what in exc.value.message


# Property: for any content-like data written in any layout, formatting keeps the meaning
# and a second pass changes nothing.

_ids = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_tricky = st.sampled_from(["no", "yes", "on", "off", "null", "~", "12", "1e3", "0x1f", "",
                           " lead", "trail ", "a: b", "#x", "- x", "[x]", "{y}", "it's",
                           'say "hi"', "line\nbreak", "tab\there", "💋 emoji", "ñandú", "*x",
                           "&y", "!z", "%p", "@q", "`r`", "a #b"])
_scalars = st.one_of(st.integers(-1000, 1000), st.booleans(), st.none(), _tricky,
                     st.text(min_size=0, max_size=30),
                     st.floats(allow_nan=False, allow_infinity=False, width=32))
_data = st.recursive(_scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(_ids, kids, max_size=4)), max_leaves=25)


def _dump(data, flow, mapping, sequence, offset, width) -> str:
    y = YAML(typ="rt")
    y.default_flow_style = flow
    y.width = width
    y.indent(mapping=mapping, sequence=max(sequence, offset + 2), offset=offset)
    buf = io.StringIO()
    y.dump(data, buf)
    return buf.getvalue()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(_ids, _data, min_size=1, max_size=5),
       flow=st.sampled_from([False, None]), mapping=st.integers(2, 4),
       sequence=st.integers(2, 6), offset=st.integers(0, 2), width=st.sampled_from([20, 80]),
       comment=st.booleans())
def test_idempotent_and_meaning_preserving(data, flow, mapping, sequence, offset, width,
                                           comment):
    src = _dump(data, flow, mapping, sequence, offset, width)
    if comment:
        src = "# yaml-language-server: $schema=x.json\n" + src + "# the end\n"
    try:
        before = check_readable(src, "p.yaml")
    except FormatError:
        return  # e.g. a generated text the loader reads differently: not our concern here
    try:
        out = format_text(src, "p.yaml")
    except FormatError as exc:
        # ruamel drops a comment that follows some nodes ending the document (`{a: 0}`,
        # `- []`, `- - `); the formatter notices and refuses rather than lose it
        assert comment and "would be lost" in exc.message
        return
    assert check_readable(out, "p.yaml") == before
    assert format_text(out, "p.yaml") == out
    if comment:
        assert out.startswith("# yaml-language-server: $schema=x.json\n")
        assert "# the end" in out


# ---- the command ------------------------------------------------------------------------


def test_check_then_fix(tmp_path):
    story = tmp_path / "story.yaml"
    story.write_text(MESSY, encoding="utf-8")
    clean = tmp_path / "clean.yaml"
    clean.write_text(CANONICAL, encoding="utf-8")

    result = invoke("--check", str(tmp_path))
    assert result.exit_code == 1
    assert "would reformat" in result.stdout and "story.yaml" in result.stdout
    assert "clean.yaml" not in result.stdout.split("\n")[0]
    assert "-    cellar:     # the cellar" in result.stdout  # a diff
    assert "+  cellar:       # the cellar" in result.stdout
    assert "1 file would be reformatted, 1 already formatted." in result.stdout
    assert story.read_text(encoding="utf-8") == MESSY  # --check writes nothing

    result = invoke(str(story), str(clean))
    assert result.exit_code == 0
    assert "reformatted" in result.stdout
    assert story.read_text(encoding="utf-8") == CANONICAL

    result = invoke("--check", str(tmp_path))
    assert result.exit_code == 0
    assert "2 files already formatted." in result.stdout


def test_a_crlf_story_that_lint_passes_passes_fmt_check(tmp_path):
    story = tmp_path / "content"
    shutil.copytree(ROOT / "content", story)
    for f in story.rglob("*.yaml"):
        f.write_bytes(f.read_bytes().replace(b"\n", b"\r\n"))
    game = (story / "game.yaml").read_text()
    (story / "game.yaml").write_text(game.replace("../rules", str(ROOT / "rules")))
    result = invoke("--check", str(story))
    assert result.exit_code == 0, result.output


def deep_requirement(levels: int) -> str:
    return "{" + "not: {" * levels + "flag: lamp" + "}" * levels + "}"


@pytest.mark.parametrize("text", [
    f"fragments:\n  a:\n    text: x\n    choices:\n      - requires: {deep_requirement(250)}\n",
    "flags:\n  x: " + "[" * 300 + "]" * 300 + "\n",
], ids=["requirement-250", "lists-300"])
def test_deep_nesting_that_the_loader_reads_is_formatted(tmp_path, text):
    """The loader reads these, and ruamel's round trip, which once ran out of Python's
    default recursion limit on them, formats them."""
    out = format_text(text, "deep.yaml")
    assert format_text(out, "deep.yaml") == out
    assert check_readable(out, "deep.yaml") == check_readable(text, "deep.yaml")
    (tmp_path / "deep.yaml").write_text(out)
    result = invoke("--check", str(tmp_path))
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert sys.getrecursionlimit() < 60_000  # restored


def test_nesting_deeper_than_the_loader_reads_is_its_error(tmp_path):
    f = tmp_path / "rules.yaml"
    raw = ("flags:\n  x: " + "[" * 3000 + "]" * 3000 + "\n").encode()
    f.write_bytes(raw)
    result = invoke("--check", str(tmp_path))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "rules.yaml:" in result.stderr and "file left unchanged" in result.stderr
    assert f.read_bytes() == raw


def test_a_round_trip_that_still_recurses_too_deep_points_at_the_deepest_place():
    def runaway(text: str, path: str) -> str:
        return runaway(text, path)

    text = "a:\n  b: [1, [2, [3]]]\n"
    with pytest.raises(FormatError) as exc:
        deep_stack(runaway, text, "t.yaml")
    assert str(exc.value.loc) == "t.yaml:2:14"  # the third `[`
    assert "nesting is too deep" in exc.value.message


def test_no_diff(tmp_path):
    (tmp_path / "s.yaml").write_text(MESSY, encoding="utf-8")
    result = invoke("--check", "--no-diff", str(tmp_path))
    assert result.exit_code == 1
    assert "cellar" not in result.stdout


def test_malformed_file_is_reported_and_untouched(tmp_path):
    bad = tmp_path / "bad.yaml"
    raw = b"fragments:\n  a: [1\n  b: 2\n"
    bad.write_bytes(raw)
    good = tmp_path / "good.yaml"
    good.write_text("a:\n- 1\n")
    result = invoke(str(tmp_path))
    assert result.exit_code == 1
    assert "bad.yaml:3:4: error:" in result.stderr
    assert "file left unchanged" in result.stderr
    assert "Traceback" not in result.output
    assert bad.read_bytes() == raw
    assert good.read_text() == "a:\n  - 1\n"  # the good one is still formatted
    assert "1 could not be formatted" in result.stdout


def test_not_utf8(tmp_path):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"a: caf\xe9\n")
    result = invoke(str(bad))
    assert result.exit_code == 1
    assert "latin1.yaml:1:7" in result.stderr and "UTF-8" in result.stderr
    assert bad.read_bytes() == b"a: caf\xe9\n"


def test_missing_path(tmp_path):
    result = invoke(str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.output


def test_hidden_files_and_other_suffixes_are_skipped(tmp_path):
    (tmp_path / ".hidden.yaml").write_text("a:\n- 1\n")
    (tmp_path / "notes.txt").write_text("a:\n- 1\n")
    (tmp_path / "x.yml").write_text("a:\n- 1\n")
    result = invoke(str(tmp_path))
    assert result.exit_code == 0
    assert (tmp_path / ".hidden.yaml").read_text() == "a:\n- 1\n"
    assert (tmp_path / "notes.txt").read_text() == "a:\n- 1\n"
    assert (tmp_path / "x.yml").read_text() == "a:\n  - 1\n"


def test_write_is_atomic(tmp_path, monkeypatch):
    story = tmp_path / "s.yaml"
    story.write_text(MESSY, encoding="utf-8")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    result = invoke(str(story))
    assert result.exit_code == 1
    assert "No space left on device" in result.stderr
    assert story.read_text(encoding="utf-8") == MESSY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]  # no temp file left


def test_write_keeps_mode(tmp_path):
    story = tmp_path / "s.yaml"
    story.write_text(MESSY, encoding="utf-8")
    story.chmod(0o640)
    yaml_fmt.write_atomic(story, CANONICAL)
    assert story.stat().st_mode & 0o777 == 0o640
    assert story.read_text(encoding="utf-8") == CANONICAL
