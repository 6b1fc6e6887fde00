"""A hostile writer: mutated copies of the sample through every writer-facing command.

Each example copies the sample (content/ and rules/), damages one file (a structure-aware
mutation of its data, or bytes), and runs lint, lint --deep, fmt --check, graph, simulate
(random), new fragment, play and stats on it. Whatever the damage: the exit status is 0, 1
or 2, no traceback is printed, every diagnostic has a file:line:col, and no command but
`new` changes a file.

A few examples run in the normal suite; `DIANA_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py`
keeps looking for as long as that takes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from typer.testing import CliRunner

from cli.main import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("DIANA_FUZZ_EXAMPLES", "8"))
FILES = sorted([*(ROOT / "content").rglob("*.yaml"), *(ROOT / "rules").rglob("*.yaml")])
LOCATED = re.compile(r"^[^:\n]+\.ya?ml:\d+:\d+: ", re.MULTILINE)

runner = CliRunner()


def _yaml() -> YAML:
    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    y.allow_unicode = True
    y.width = 200
    return y


# ---- mutations ------------------------------------------------------------------------

ODD_TEXT = st.sampled_from(["", " ", "x" * 5000, "\u202e\u0000\ufeff", "🦄" * 300, "a\nb",
                            "{{ player.name }}", "${x}", "%", "null", "~", "yes", "- x",
                            "\ud7ff\ue000"])
ODD_VALUES = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 2**63, -(2**63) - 1, 10**4000, 1.5, float("inf"), True, None]),
    ODD_TEXT,
    st.just([]), st.just({}), st.just([[[[["deep"]]]]]),
)


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a node of the data (dict keys and list indices)."""
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*prefix, i))
    return out


def _get(data: Any, path: tuple) -> Any:
    for p in path:
        data = data[p]
    return data


def _set(data: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    _get(data, path[:-1])[path[-1]] = value
    return data


def _nested_requirement(levels: int) -> dict:
    req: dict = {"flag": "lamp"}
    for i in range(levels):
        req = {"not": req} if i % 2 else {"all": [req]}
    return req


def _ids(data: Any) -> list[str]:
    return [p[-1] for p in _paths(data) if p and isinstance(p[-1], str)]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """(file relative to the copy, its new bytes)."""
    path = draw(st.sampled_from(FILES))
    rel = str(path.relative_to(ROOT))
    raw = path.read_bytes()
    kind = draw(st.sampled_from(["value", "delete", "duplicate", "reference", "nest",
                                 "swap", "bytes"]))
    if kind == "bytes":
        data = bytearray(raw)
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(data)))
            what = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
            if what == "flip" and at < len(data):
                data[at] ^= draw(st.integers(1, 255))
            elif what == "insert":
                data[at:at] = draw(st.sampled_from(
                    [b"\x00", b"\t", b"\r", b"\xff", b": ", b"- ", b"{", b"]", b"&a ", b"*a",
                     b"!!python/object ", b"\n  ", b"#", b"'", b'"', b"\xe2\x80"]))
            elif what == "delete":
                del data[at:at + draw(st.integers(1, 40))]
            elif what == "truncate":
                del data[at:]
        return rel, bytes(data)
    y = _yaml()
    data = y.load(raw.decode("utf-8"))
    nodes = _paths(data)[1:] or [()]
    target = draw(st.sampled_from(nodes))
    if kind == "value":
        data = _set(data, target, draw(ODD_VALUES))
    elif kind == "delete" and target:
        parent = _get(data, target[:-1])
        del parent[target[-1]]
    elif kind == "duplicate" and target:
        parent = _get(data, target[:-1])
        if isinstance(parent, list):
            parent.append(parent[target[-1]])
        else:
            ids = [k for k in parent if isinstance(k, str)]
            if ids:
                parent[target[-1]] = parent[draw(st.sampled_from(ids))]
    elif kind == "reference":
        ids = _ids(data) or ["x"]
        data = _set(data, target, draw(st.sampled_from([*ids, "nowhere", target[-1] if target
                                                        else "self"])))
    elif kind == "nest":
        data = _set(data, target, _nested_requirement(draw(st.integers(5, 400))))
    elif kind == "swap":
        node = _get(data, target)
        if isinstance(node, list):
            data = _set(data, target, {str(i): v for i, v in enumerate(node)})
        elif isinstance(node, dict):
            data = _set(data, target, list(node.values()))
    buf = io.StringIO()
    y.dump(data, buf)
    return rel, buf.getvalue().encode("utf-8")


# ---- running the commands -------------------------------------------------------------

def _digest(where: Path) -> dict[str, str]:
    return {str(p.relative_to(where)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(where.rglob("*")) if p.is_file() and ".sqlite3" not in p.name}


def _run(*args: str, stdin: str = "") -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin,
                           env={"DIANA_DB": None, "DIANA_ENV_FILE": None, "COLUMNS": "200"})
    out = result.output
    assert "Traceback" not in out, f"diana {' '.join(args)}:\n{out[-3000:]}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"diana {' '.join(args)} raised {result.exception!r}"
                             ) from result.exception
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, out[-2000:])
    return result.exit_code, out


def _check_json_locations(out: str) -> None:
    report = json.loads(out)
    diagnostics = report["diagnostics"] if isinstance(report, dict) else report
    for d in diagnostics:
        assert d["file"] and d["line"] >= 1 and d["col"] >= 1, d


def commands_hold(work: Path) -> None:
    content, db = work / "content", work / "fuzz.sqlite3"
    before = _digest(work)
    _, out = _run("lint", str(content))
    for line in out.splitlines():  # the full format starts each diagnostic with its place
        if re.search(r"\b[A-Z]\d{3} [a-z-]+ \[(error|warning|info)\]", line):
            assert LOCATED.match(line), line
    _check_json_locations(_run("lint", str(content), "-f", "json")[1])
    _run("lint", str(content), "--deep", "--max-states", "300")
    _run("fmt", "--check", str(content))
    _run("graph", str(content), "-f", "dot")
    _run("simulate", str(content), "--mode", "random", "--runs", "5", "--max-steps", "60")
    _run("play", str(content), "--db", str(db), stdin="1\n2\nwhy\nstatus\n1\nquit\n")
    _run("stats", "--db", str(db), "--content", str(content))
    assert _digest(work) == before, "a command changed the content"
    _run("new", "fragment", "fuzz_added", "--dir", str(content), "--from", "prologue",
         "--choice", "Fuzz")


@settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 8,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_every_writer_command_holds_on_damaged_content(case):
    rel, data = case
    with tempfile.TemporaryDirectory(prefix="diana-fuzz-") as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "content", work / "content")
        shutil.copytree(ROOT / "rules", work / "rules")
        (work / rel).write_bytes(data)
        commands_hold(work)


def test_the_undamaged_sample_holds():
    with tempfile.TemporaryDirectory(prefix="diana-fuzz-") as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "content", work / "content")
        shutil.copytree(ROOT / "rules", work / "rules")
        commands_hold(work)
