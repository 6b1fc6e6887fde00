"""Reading YAML: positions, YAML 1.2 scalars, and every bad input as a diagnostic."""

from __future__ import annotations

import pytest

from engine.source import MAX_FILE_BYTES, read_source


def codes(raw: bytes) -> list[tuple[str, int, int]]:
    _, problems = read_source(raw, "f.yaml")
    return [(d.code, d.loc.line, d.loc.col) for d in problems]


def test_yaml_12_scalars_keep_yes_no_on_as_text() -> None:
    f, problems = read_source(b"a: yes\nb: no\nc: on\nd: true\ne: 3\nf: '3'\ng: 1.5\nh: ~\n", "f")
    assert not problems and f is not None
    assert f.data == {"a": "yes", "b": "no", "c": "on", "d": True, "e": 3, "f": "3", "g": 1.5,
                      "h": None}


def test_yaml_11_directive_does_not_bring_back_boolean_traps() -> None:
    f, _ = read_source(b"%YAML 1.1\n---\nid: no\nx: off\n", "f")
    assert f is not None and f.data == {"id": "no", "x": "off"}


def test_positions_of_keys_and_values_are_one_based() -> None:
    f, _ = read_source(b"fragments:\n  hall:\n    choices:\n      - goto: out\n", "f")
    assert f is not None
    assert (f.loc(("fragments", "hall", "choices", 0, "goto")).line,
            f.loc(("fragments", "hall", "choices", 0, "goto")).col) == (4, 15)
    assert f.loc(("fragments", "hall"), key=True).col == 3
    # a path that does not exist falls back to its nearest ancestor
    assert f.loc(("fragments", "hall", "nope")).line == 3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"a: 1\nb: 2\na: 3\n", [("Y002", 3, 1)]),
        (b"a: &x [1]\nb: *x\n", [("Y003", 1, 4)]),
        (b"a:\n\tb: 1\n", [("Y001", 2, 1)]),
        (b"a: \xff\n", [("Y004", 1, 4)]),
        (b"", [("Y006", 1, 1)]),
        (b"# just a comment\n", [("Y006", 1, 1)]),
        (b"x: !!python/object:os.system 1\n", [("Y008", 1, 4)]),
        (b"a: 1\n---\nb: 2\n", [("Y001", 2, 1)]),
        (b"a: [1, 2\n", [("Y001", 2, 1)]),
    ],
)
def test_bad_input_is_a_located_diagnostic(raw: bytes, expected: list) -> None:
    assert codes(raw) == expected


def test_bom_is_tolerated_with_a_warning() -> None:
    f, problems = read_source(b"\xef\xbb\xbfa: 1\n", "f")
    assert f is not None and f.data == {"a": 1}
    assert [d.code for d in problems] == ["Y007"]


def test_alias_bomb_is_refused_without_expanding() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 12):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    assert codes("\n".join(lines).encode()) == [("Y003", 1, 4)]


def test_oversized_file_is_refused() -> None:
    raw = b"a: " + b"x" * (MAX_FILE_BYTES + 1)
    assert codes(raw) == [("Y005", 1, 1)]


def test_deep_nesting_does_not_crash() -> None:
    raw = b"a: " + b"[" * 5000 + b"]" * 5000
    problems = codes(raw)
    assert problems and problems[0][0] == "Y001"


@pytest.mark.parametrize(("raw", "where", "what"), [
    (b"a: 1\n\x00", "f.yaml:2:1", "a NUL byte is not allowed"),
    (b"a: 1\nb: x\x00y\n", "f.yaml:2:5", "a NUL byte is not allowed"),
    (b"a: 1\nb: \x07\n", "f.yaml:2:4", "the control character U+0007 is not allowed"),
])
def test_a_character_yaml_refuses_is_located(raw, where, what):
    _, problems = read_source(raw, "f.yaml")
    assert [str(d.loc) for d in problems] == [where]
    assert what in problems[0].message and "#x" not in problems[0].message


@pytest.mark.parametrize(("raw", "where"), [
    (b"a: [" + b"[" * 3000 + b"]" * 3000 + b"]\n", "f.yaml:1:3004"),
    (b"a:\n" + b"".join(b"  " * i + b"- x:\n" for i in range(1, 1200)), "f.yaml:1200:2399"),
])
def test_nesting_too_deep_to_read_points_at_the_deepest_place(raw, where):
    _, problems = read_source(raw, "f.yaml")
    assert [str(d.loc) for d in problems] == [where]
    assert problems[0].message.startswith("nesting is too deep to read (")
    assert "recursion" not in problems[0].message
