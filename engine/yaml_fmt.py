"""Canonical layout of content YAML, keeping comments, key order, quotes and line breaks.

The style is the sample story's: mappings indented by 2, list items indented by 4 with the
dash at 2 (`choices:` / `  - id: …`), flow collections kept as written, long lines never
re-wrapped, quotes kept where the writer put them (so `"no"` and `"on"` stay strings for
every YAML reader). A formatted file always means exactly what the original meant: the
result is re-read and compared, and a file the format refuses (bad YAML, duplicate keys,
anchors, tags) is reported with its position and left alone.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.representer import RoundTripRepresenter

from engine.diagnostics import Diagnostic, Loc, Severity
from engine.fmt_fast import is_canonical
from engine.nesting import deepest
from engine.source import BOM, read_source

WIDTH = 1_000_000  # never fold long lines


class FormatError(Exception):
    """The file cannot be formatted; `loc` points at the cause."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(f"{loc}: {message}")
        self.loc = loc
        self.message = message


class _Verbatim(str):
    """A number kept exactly as written (`1.50`, `0x1F`, `3.616496036714906e+16`): ruamel
    re-renders numbers, sometimes with a different value."""

    tag = ""


class _Int(_Verbatim):
    tag = "tag:yaml.org,2002:int"


class _Float(_Verbatim):
    tag = "tag:yaml.org,2002:float"


class _Constructor(RoundTripConstructor):
    pass


class _Representer(RoundTripRepresenter):
    pass


def _verbatim(cls: type[_Verbatim], fallback: Any) -> Any:
    def construct(constructor: RoundTripConstructor, node: Any) -> Any:
        implicit = constructor.resolver.resolve(ScalarNode, node.value, (True, False))
        if node.style is None and str(implicit) == cls.tag:  # a plain, untagged number
            return cls(node.value)
        return fallback(constructor, node)

    return construct


_Constructor.add_constructor(_Int.tag, _verbatim(_Int, RoundTripConstructor.construct_yaml_int))
_Constructor.add_constructor(_Float.tag,
                             _verbatim(_Float, RoundTripConstructor.construct_yaml_float))
for _cls in (_Int, _Float):
    _Representer.add_representer(
        _cls, lambda representer, data: representer.represent_scalar(data.tag, str(data)))


def round_trip() -> YAML:
    """A ruamel.yaml round-trip reader/writer configured for the canonical style."""
    y = YAML(typ="rt")
    y.Constructor = _Constructor
    y.Representer = _Representer
    y.preserve_quotes = True
    y.width = WIDTH
    y.indent(mapping=2, sequence=4, offset=2)
    # `[{set: lamp}]`, not ruamel's default `[set: lamp]`
    y.brace_single_entry_mapping_in_flow_sequence = True
    return y


def dump(data: Any, y: YAML | None = None) -> str:
    buf = io.StringIO()
    (y or round_trip()).dump(data, buf)
    return buf.getvalue()


def _first_error(problems: list[Diagnostic]) -> Diagnostic | None:
    return next((d for d in problems if d.severity is Severity.ERROR), None)


def check_readable(text: str, path: str) -> Any:
    """The data of `text` as the loader reads it; FormatError when the loader refuses it."""
    parsed, problems = read_source(text.encode("utf-8"), path)
    bad = _first_error(problems)
    if bad is not None:
        raise FormatError(bad.loc, f"{bad.message} ({bad.code} {bad.name})")
    return parsed.data if parsed is not None else None


def _once(text: str, path: str) -> str:
    y = round_trip()
    try:
        data = y.load(text)
    except YAMLError as exc:  # the loader accepted it, so this is rare: report it plainly
        mark = getattr(exc, "problem_mark", None)
        loc = Loc(path, mark.line + 1, mark.column + 1) if mark else Loc(path)
        raise FormatError(loc, f"cannot format: {getattr(exc, 'problem', None) or exc}") from exc
    out = dump(data, y)
    if text.lstrip().startswith("---") and not out.lstrip().startswith("---"):
        out = "---\n" + out
    return out


_COMMENT = re.compile(r"(?:^|[ \t])(#[^\n]*?)[ \t]*$", re.MULTILINE)


def _comments(text: str) -> Counter[str]:
    """The comments of a YAML text: `#` after a blank or at a line's start, outside every
    scalar (the scalars, quoted and block ones included, are blanked out first)."""
    chars = list(text)
    stack = [YAML(typ="rt").compose(text)]
    while stack:
        node = stack.pop()
        if isinstance(node, ScalarNode):
            for i in range(node.start_mark.index, node.end_mark.index):
                if chars[i] != "\n":
                    chars[i] = " "
        elif isinstance(node, SequenceNode):
            stack += node.value
        elif isinstance(node, MappingNode):
            stack += [n for pair in node.value for n in pair]
    masked = "".join(chars)
    return Counter(m.group(1) for m in _COMMENT.finditer(masked))


def format_text(text: str, path: str = "<text>", *, quick: bool = True) -> str:
    """The canonical form of one YAML file's text. Raises FormatError, never changes
    meaning, and formatting the result again gives the same text. A file whose lines all
    end in CRLF keeps CRLF; any other file gets LF.

    With `quick`, a text that `engine.fmt_fast` recognises as already canonical is returned
    as it is, without ruamel's slow round trip (which would return it unchanged)."""
    if text.startswith(BOM.decode("utf-8")):
        text = text[1:]
    crlf = "\r\n" in text and text.count("\n") == text.count("\r\n")
    text = text.replace("\r\n", "\n")
    # Read at the loader's own limits, not the deep stack's below: fmt formats what lint
    # reads, and refuses what it refuses, with its message.
    before = check_readable(text, path)
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("%YAML"):
            raise FormatError(Loc(path, n, 1), "a `%YAML` directive cannot be formatted; "
                                               "remove it (content is always read as YAML 1.2)")
        if line.startswith("---"):
            break
    if before is None and not any(
        ln.strip() and not ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        # empty or only comments: ruamel would write `null`; just tidy the whitespace
        lines = [ln.rstrip() for ln in text.splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        out = "\n".join(lines) + "\n" if lines else ""
    elif quick and is_canonical(text):
        out = text
    else:
        out = deep_stack(_canonical, text, path, before)
    return out.replace("\n", "\r\n") if crlf else out


def _canonical(text: str, path: str, before: Any) -> str:
    out = text
    for _ in range(3):  # ruamel settles comment placement in at most two passes
        nxt = _once(out, path)
        if nxt == out:
            break
        out = nxt
    else:
        raise FormatError(Loc(path), "cannot format: the layout does not settle "
                                     "(please report this file)")
    if out != text:  # the same text means the same data and the same comments
        if check_readable(out, path) != before:
            raise FormatError(Loc(path), "cannot format: the result would change the file's "
                                         "meaning (please report this file)")
        lost = _comments(text) - _comments(out)
        if lost:
            comment = next(iter(lost))
            line = next((n for n, ln in enumerate(text.splitlines(), 1) if comment in ln), 1)
            raise FormatError(Loc(path, line, 1), f"cannot format: the comment `{comment}`"
                                                  " would be lost (please report this file)")
    trimmed = out.rstrip("\n") + "\n"
    if trimmed != out and check_readable(trimmed, path) == before:  # `|+` may keep them
        out = trimmed
    return out


# ruamel's round trip recurses a dozen Python frames per level of nesting, so the default
# limit stops it near 80 levels, far below what the loader reads. It runs on a thread with
# a large stack and a high limit; a file deeper than even that is refused at its deepest
# point.
DEEP_STACK_BYTES = 512 << 20
DEEP_RECURSION = 60_000


def deep_stack(fn: Callable[..., str], text: str, path: str, *args: Any) -> str:
    box: list[Any] = []

    def target() -> None:
        try:
            box.append(fn(text, path, *args))
        except BaseException as exc:  # re-raised on the caller's thread
            box.append(exc)

    limit = sys.getrecursionlimit()
    size = threading.stack_size()
    sys.setrecursionlimit(max(limit, DEEP_RECURSION))
    try:
        threading.stack_size(DEEP_STACK_BYTES)
        worker = threading.Thread(target=target, name="diana-fmt")
        worker.start()
    finally:
        threading.stack_size(size)
    worker.join()
    sys.setrecursionlimit(limit)
    result = box[0]
    if isinstance(result, RecursionError):
        line, col, depth = deepest(text)
        raise FormatError(Loc(path, line, col), f"cannot format: nesting is too deep"
                                                f" ({depth} levels here)") from result
    if isinstance(result, BaseException):
        raise result
    return result


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` so readers see the old or the new file, never half."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except FileNotFoundError:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
