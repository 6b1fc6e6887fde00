"""The quick canonical test never vouches for a text the round trip would change."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, reject, settings
from hypothesis import strategies as st
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.emitter import EmitterError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from engine import synth
from engine.fmt_fast import is_canonical
from engine.yaml_fmt import FormatError, check_readable, dump, format_text

ROOT = Path(__file__).parent.parent
SAMPLE = sorted([*(ROOT / "content").rglob("*.yaml"), *(ROOT / "rules").rglob("*.yaml")])


def round_trip_keeps(text: str) -> bool:
    """Does the full round trip (the quick path off) return `text` unchanged?"""
    try:
        return format_text(text, "p.yaml", quick=False) == text
    except FormatError:
        return False


def assert_safe(text: str) -> None:
    """The rule: `is_canonical` may say yes only where the round trip changes nothing.
    Texts the loader refuses never reach it (format_text refuses them first)."""
    try:
        check_readable(text, "p.yaml")
    except FormatError:
        return
    if is_canonical(text):
        assert round_trip_keeps(text), text


# ---- real content -----------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_sample_is_recognised(path):
    text = path.read_text(encoding="utf-8")
    assert is_canonical(text)
    assert round_trip_keeps(text)


def test_synthetic_story_is_recognised(tmp_path):
    synth.write(tmp_path, 120, seed=3)
    files = sorted(tmp_path.rglob("*.yaml"))
    assert len(files) > 3
    for f in files:
        assert is_canonical(f.read_text(encoding="utf-8")), f.name


# ---- what it must turn down -------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "a:\n- 1\n",  # a sequence not indented
    "a:\n    b: 1\n",  # a mapping indented by 4
    "a: 1   \n",  # trailing blanks
    "a: 1\n\n",  # more than one final newline
    "a: 1",  # no final newline
    "a: 1\r\nb: 2\r\n",  # CRLF (format_text handles the line ends itself)
    "\ufeffa: 1\n",
    "a:  1\n",
    "a: {x: 1,y: 2}\n",
    "a: [set: lamp]\n",  # ruamel writes `[{set: lamp}]`
    "a: {x: 1}  # why\n",  # end-of-line comments may move
    "a: True\n",  # ruamel writes `true`
    "a: null\n",
    "a: 0x1F\n",
    "a: \"tab\\there\"\n",  # an escape
    "a: 'it''s'\nb: x\n  y\n",  # a plain scalar over two lines
    "a: >-\n    deeper than needed\n",
    "a: |+\n  kept\n\nb: 1\n",
    "---\na: 1\n",
    "a: 1\n# a comment at the end\n",
    "x: [1, 2]\n\n",
    "- a\n- b\n",  # a sequence at the root
    "a:\n  - - 1\n",
    "'a': 1\n",  # a quoted key
    "a: &x 1\n",
    "a: !!str 12\n",
])
def test_not_sure(text):
    assert not is_canonical(text)


def test_messy_story_is_not_canonical():
    from tests.test_fmt import CANONICAL, MESSY

    assert not is_canonical(MESSY)
    # CANONICAL has an end-of-line comment: canonical, but outside the subset
    assert not is_canonical(CANONICAL)
    assert is_canonical(CANONICAL.replace("       # the cellar (end-of-line comments keep"
                                          " their column)", ""))


# ---- the property: generated canonical texts, perturbed ---------------------------------

_ids = st.from_regex(r"[a-z_][a-z0-9_-]{0,8}", fullmatch=True)
_words = st.lists(st.sampled_from(["Dust", "and", "wine", "¿sí?", "💋", "ñandú", "it's",
                                   '"hi"', "a:b", "x#y", "(40 {points})", "«Algún»", "1.0.0",
                                   "50%", "-", "—", "...", "../rules", "no", "on", "@q"]),
                  min_size=1, max_size=30).map(" ".join)
_tricky = st.sampled_from(["no", "yes", "on", "off", "null", "~", "12", "1e3", "0x1f", "",
                           " lead", "trail ", "a: b", "#x", "- x", "[x]", "{y}", "it's",
                           'say "hi"', "line\nbreak", "tab\there", "a #b", "*x", "&y", "!z",
                           "%p", "`r`", ".5", "...x", "1.50", "-3", "007", "1_000", "12:30",
                           "true", "True", "back\\slash", "two\n\nparagraphs\n", "end\n",
                           "\nlead break", "  indented\nlines", "x\n  more\nless", "\u2028",
                           "nbsp\xa0x", "bom\ufeff", "\x85", "ctl\x07"])
_text = st.one_of(_tricky, _words, st.text(max_size=20),
                  st.lists(_words, min_size=1, max_size=4).map("\n".join))
_STYLES = {"plain": str, "single": SingleQuotedScalarString,
           "double": DoubleQuotedScalarString, "literal": LiteralScalarString,
           "folded": FoldedScalarString}
_styled = st.builds(lambda s, style: _STYLES[style](s), _text, st.sampled_from(list(_STYLES)))
_scalars = st.one_of(_styled, st.integers(-10**6, 10**6), st.booleans(), st.none(),
                     st.floats(allow_nan=False, allow_infinity=False, width=32))


def _seq(items: list, flow: bool) -> CommentedSeq:
    out = CommentedSeq(items)
    if flow:
        out.fa.set_flow_style()
    return out


def _map(items: dict, flow: bool) -> CommentedMap:
    out = CommentedMap(items)
    if flow:
        out.fa.set_flow_style()
    return out


_data = st.recursive(_scalars, lambda kids: st.one_of(
    st.builds(_seq, st.lists(kids, max_size=4), st.booleans()),
    st.builds(_map, st.dictionaries(_ids, kids, max_size=4), st.booleans())), max_leaves=20)
_root = st.builds(_map, st.dictionaries(_ids, _data, min_size=1, max_size=5), st.just(False))

# A perturbation: (what, which line, a number, a piece of text)
_PIECES = ["#", "# c", " ", "  ", "\t", "'", '"', ",", ":", "-", "- ", "{", "}", "[", "]",
           "\\", "\\n", "x", "💋", "\u00a0", "\n", "&a ", "!!str ", "? ", "|", ">-", "null"]
_perturb = st.tuples(
    st.sampled_from(["indent", "dedent", "blank", "comment", "aligned_comment", "eol_comment",
                     "trailing", "insert", "delete", "swap_quotes", "unquote", "crlf", "join",
                     "split", "space_out", "squeeze", "long", "dup"]),
    st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(_PIECES))


def perturb(text: str, what: str, a: int, b: int, piece: str) -> str:
    lines = text.split("\n")[:-1]
    if not lines:
        return text
    n = a % len(lines)
    line = lines[n]
    col = b % (len(line) + 1)
    if what == "indent":
        lines[n] = " " * (1 + b % 4) + line
    elif what == "dedent":
        lines[n] = line[min(len(line) - len(line.lstrip(" ")), 1 + b % 2):]
    elif what == "blank":
        lines[n:n] = [""] * (1 + b % 2)
    elif what == "comment":
        lines[n:n] = [" " * (b % 9) + "# note" + piece.strip()]
    elif what == "aligned_comment":  # in the column of the line it stands before
        lines[n:n] = [" " * (len(line) - len(line.lstrip(" "))) + "#" + piece] * (1 + b % 2)
        if b % 3 == 0:
            lines[n:n] = [""]
    elif what == "eol_comment":
        lines[n] = line + " " * (1 + b % 3) + "# why"
    elif what == "trailing":
        lines[n] = line + " "
    elif what == "insert":
        lines[n] = line[:col] + piece + line[col:]
    elif what == "delete":
        lines[n] = line[:col] + line[col + 1:]
    elif what == "swap_quotes":
        lines[n] = line.replace("'", "\x00").replace('"', "'").replace("\x00", '"')
    elif what == "unquote":
        lines[n] = line.replace("'", "").replace('"', "")
    elif what == "crlf":
        return text.replace("\n", "\r\n")
    elif what == "join" and n + 1 < len(lines):
        lines[n:n + 2] = [line + " " + lines[n + 1].lstrip()]
    elif what == "split" and " " in line.strip():
        # a line break where a space was, in the line's own indentation (folds a `>` scalar)
        at = line.strip().split(" ")
        cut = 1 + b % (len(at) - 1)
        indent = " " * (len(line) - len(line.lstrip(" ")))
        lines[n:n + 1] = [indent + " ".join(at[:cut]), indent + " ".join(at[cut:])]
    elif what == "space_out":
        lines[n] = line.replace(": ", ":  ").replace(", ", " , ", 1)
    elif what == "squeeze":
        lines[n] = line.replace(", ", ",", 1).replace("- ", "-", 1)
    elif what == "long":
        lines[n] = line + " and so on" * (10 + b % 20)
    elif what == "dup":
        lines[n:n] = [line]
    return "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=_root, changes=st.lists(_perturb, max_size=3), header=st.booleans())
@example(data=_map({"_": FoldedScalarString("ctl\x07")}, False), changes=[], header=False)
def test_says_canonical_only_when_the_round_trip_agrees(data, changes, header):
    try:
        text = dump(data)
    except EmitterError:  # e.g. a folded block of a control character: no file can hold it
        reject()
    if header:
        text = "# yaml-language-server: $schema=x.json\n" + text
    assert_safe(text)
    for change in changes:
        text = perturb(text, *change)
        assert_safe(text)
