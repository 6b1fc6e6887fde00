"""The fast paths of reading and validating give exactly what the reference paths give.

engine.source composes with libyaml when ruamel.yaml.clib is installed, and engine.schema
asks jsonschema-rs "valid?" first when it is installed; the pure-Python paths stay the
reference. These tests compare the two on every YAML file of the repository, on synthetic
stories, and on snippets chosen to hit the differences between the parsers. And
engine.frozen's `__init__` builds what a frozen dataclass's own builds.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import schema, source, synth
from engine.frozen import frozen
from engine.load import load
from engine.source import fast as source_fast

ROOT = Path(__file__).resolve().parents[1]
needs_c = pytest.mark.skipif(source_fast._CParser is None, reason="ruamel.yaml.clib not installed")
needs_rs = pytest.mark.skipif(schema._fast_validators() is None,
                              reason="jsonschema-rs not installed")


def _pure(raw: bytes, path: str = "f.yaml") -> Any:
    saved = source_fast._CParser
    source_fast._CParser = None
    try:
        return source.read_source(raw, path)
    finally:
        source_fast._CParser = saved


def _same(raw: bytes) -> None:
    fast, fast_problems = source.read_source(raw, "f.yaml")
    pure, pure_problems = _pure(raw)
    assert fast_problems == pure_problems
    if pure is None:
        assert fast is None
        return
    assert fast is not None
    assert fast.data == pure.data
    assert _typed(fast.data) == _typed(pure.data)
    assert fast.values == pure.values
    assert fast.keys == pure.keys


def _typed(value: Any) -> Any:
    """Data with every scalar's type, so 1 and True and 1.0 differ."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


def _repo_yaml() -> list[Path]:
    out = []
    for base in ("content", "rules", "tests"):
        out += sorted((ROOT / base).rglob("*.yaml"))
    return out


@needs_c
def test_fast_reading_matches_pure_on_every_repository_file() -> None:
    files = _repo_yaml()
    assert len(files) > 20
    for path in files:
        _same(path.read_bytes())


@needs_c
def test_fast_reading_matches_pure_on_a_synthetic_story() -> None:
    for text in synth.generate(600, seed=3).values():
        assert source_fast._fast_read(text) is not None  # the fast path takes it
        _same(text.encode())


SNIPPETS = [
    "a: 1\nb: -2\nc: 0o17\nd: 0x1F\ne: 1.5e3\nf: .5\ng: +.5\nh: -.inf\ni: .nan\nj: 1_000\n",
    "a: yes\nb: no\nc: on\nd: True\ne: FALSE\nf: ~\ng: null\nh: Null\ni:\nj: ''\n",
    "a: 2024-01-01\nb: 12:30\nc: 1:2:3\nd: =\ne: <\n",
    "list:\n- a\n-\n- 'b'\n- \"c\"\n- [1, {x: y}, []]\n- {}\n",
    "m:\n  k1:\n  k2: v\n  k3:\n    - x\n",
    "t: |\n  line one\n  line two\n\nu: >-\n  folded\n  more\n\nv: |+\n  keep\n\n",
    "q: \"esc \\t \\u00e9 \\x41 \\/ \\N \\_\"\ns: 'it''s'\n",
    "a: multi\n  line\n  plain\nb: next\n",
    "flow: {a: 1, b: [x, y], c: {d: e}}\nempty: {a: , b: }\n",
    "\"quoted key\": 1\n'single': 2\n3: three\ntrue: t\nnull: n\n",
    "a: 1\r\nb:\r\n  - x\r\n  - y\r\n",
    "emoji: 💋\nñ: ñandú\ntext: \"línea\"\n",
    "a: b: c\n",
    "a: [1, 2\n",
    "a: 1\na: 2\n",
    "a:\n  - b\n c: d\n",
    "key with spaces: v\n- x\n",
    "a: 'unclosed\n",
    "a: \"bad \\q escape\"\n",
    "a: @reserved\n",
    "a: `tick\n",
    "[a, b]: c\n",
    "{a: 1}: b\n",
    "a: x # comment\n# full\nb: y\n",
    "a: rock & roll\nb: Hi! there?\nc: 3 * 4\n",
    "- - - x\n- - y\n",
    "a:\n- b\n- c\n",
    "a: [b, c,]\n",
    "a: {b: c,}\n",
    "a: -\nb: - x\n",
    "a: 'x'y\n",
    "a: \"x\" y\n",
    "a: x\n  - y\n",
    "{a: b}\n",
    "[1, 2]\n",
    "plain\n",
    "",
    "# only a comment\n",
    "a: \u0007bell\n",
    "a: [x, [y, [z]]]\nb: {c: {d: {e: f}}}\n",
    "'<<': {a: 1}\n",
    "\"<<\": 1\n",
    "a: nullx\nb: Truex\nc: NULL\nd: 007\ne: '12'\nf: 0x1g\ng: -0\nh: 1e5\ni: fals\n",
    "null: 1\n'true': 2\n007: 3\nFalse: 5\nnope: 6\n",
    "- ٣\n- 12:30\n- 2024-01-01\n- .inf\n- 1_0\n- +12\n",
]


@needs_c
@pytest.mark.parametrize("text", SNIPPETS)
def test_fast_reading_matches_pure_on_snippets(text: str) -> None:
    _same(text.encode())


@needs_c
def test_unusual_constructs_take_the_pure_path() -> None:
    for text in ["a: &x 1\nb: *x\n", "a: !!str 1\n", "? a\n: b\n", "%YAML 1.1\n---\na: no\n",
                 "a:\tb\n", "a: [*x]\n", "a: 1\rb: 2\n", "--- \na: 1\n"]:
        assert source_fast._unusual(text), text
        _same(text.encode())
    assert not source_fast._unusual("title: Salt & pepper! Really? 3 * 4\n")


@needs_c
def test_deep_nesting_is_left_to_the_pure_path() -> None:
    text = "a: " + "[" * 20_000 + "]" * 20_000
    assert source_fast._fast_read(text) is None
    _same(text.encode())


@needs_rs
def test_fast_schema_answer_agrees_with_jsonschema_on_repository_files() -> None:
    seen = 0
    for path in _repo_yaml():
        parsed, _ = source.read_source(path.read_bytes(), str(path))
        if parsed is None:
            continue
        for kind in schema.KINDS:
            fast = schema._surely_valid(parsed.data, kind)
            assert fast == schema._validators()[kind].is_valid(parsed.data), (path, kind)
            seen += 1
    assert seen > 60


def _mutations(data: Any, rng: random.Random, n: int) -> list[Any]:
    """Copies of `data` with one random change each: a value of another type, a key
    removed or added, a list emptied."""
    import copy

    junk = [None, True, 0, -1, 1.5, 10**30, "", "x", "Not An Id", [], {}, ["a"], {"k": 1}]
    out = []
    for _ in range(n):
        d = copy.deepcopy(data)
        node, path = d, []
        while isinstance(node, dict | list) and node and rng.random() < 0.8:
            key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
            parent, node = node, node[key]
            path.append((parent, key))
        if not path:
            continue
        parent, key = path[-1]
        action = rng.random()
        if action < 0.6:
            parent[key] = rng.choice(junk)
        elif action < 0.8 and isinstance(parent, dict):
            del parent[key]
        elif isinstance(parent, dict):
            parent[rng.choice(["extra", "goto", "ending", "when_locked", "reward"])] = \
                rng.choice(junk)
        else:
            parent.append(rng.choice(junk))
        out.append(d)
    return out


@needs_rs
def test_fast_schema_answer_agrees_with_jsonschema_on_mutations() -> None:
    rng = random.Random(1)
    files = synth.generate(30, seed=2)
    checked = 0
    for name, text in files.items():
        parsed, _ = source.read_source(text.encode(), name)
        assert parsed is not None
        kind = "game" if name.endswith("game.yaml") else schema.kind_of(parsed, False)
        for mutated in _mutations(parsed.data, rng, 150):
            fast = schema._surely_valid(mutated, kind)
            slow = schema._validators()[kind].is_valid(mutated)
            # The fast answer may only ever be "valid" when jsonschema agrees.
            assert not fast or slow, (name, mutated)
            checked += 1
    assert checked > 500


def test_lint_of_a_faulty_story_is_the_same_with_and_without_fast_paths(
        tmp_path: Path) -> None:
    root = synth.write(tmp_path, 300, seed=4,
                       faults=["dead-end", "unknown-goto", "missing-translation"])
    fast = load(root, display_base=tmp_path)
    saved = source_fast._CParser
    source_fast._CParser = None
    schema._fast_validators.cache_clear()
    real = schema._fast_validators
    try:
        schema._fast_validators = lambda: None  # type: ignore[assignment]
        slow = load(root, display_base=tmp_path)
    finally:
        schema._fast_validators = real  # type: ignore[assignment]
        source_fast._CParser = saved
    assert fast.diagnostics == slow.diagnostics
    assert fast.content == slow.content


@frozen
class _Fast:
    a: int
    b: str | None = None
    c: tuple[int, ...] = ()
    d: Any = dataclasses.field(default=None, compare=False)


@dataclasses.dataclass(frozen=True)
class _Slow:
    a: int
    b: str | None = None
    c: tuple[int, ...] = ()
    d: Any = dataclasses.field(default=None, compare=False)


@given(st.integers(), st.none() | st.text(max_size=5), st.tuples(st.integers()),
       st.integers(), st.integers(0, 4))
def test_frozen_builds_what_a_frozen_dataclass_builds(a: int, b: str | None,
                                                     c: tuple[int, ...], d: int,
                                                     given_: int) -> None:
    args = [a, b, c, d][:max(1, given_)]
    fast, slow = _Fast(*args), _Slow(*args)
    assert vars(fast) == vars(slow)
    assert repr(fast).removeprefix("_Fast") == repr(slow).removeprefix("_Slow")
    assert fast == _Fast(*args[:3]) and hash(fast) == hash(_Fast(*args[:3]))
    assert dataclasses.replace(fast, a=a + 1) == _Fast(a + 1, *args[1:])
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.a = 0  # type: ignore[misc]
    assert _Fast(a=a, c=c).c == c and _Fast(a=a).b is None


def test_frozen_refuses_what_it_cannot_build() -> None:
    with pytest.raises(TypeError, match="plain fields only"):
        @frozen
        class _Factory:
            a: list[int] = dataclasses.field(default_factory=list)
    with pytest.raises(TypeError, match="plain fields only"):
        @frozen
        class _Post:
            a: int

            def __post_init__(self) -> None:
                pass
    with pytest.raises(TypeError):
        _Fast()  # type: ignore[call-arg]


def test_frozen_fields_may_take_any_name() -> None:
    @frozen
    class _Names:
        self: int
        d: int
        d_: int = 3

    assert vars(_Names(1, 2)) == {"self": 1, "d": 2, "d_": 3}
