"""What reading refuses, as located diagnostics: bytes that are not UTF-8, characters YAML
does not allow, nesting too deep to read, files too large."""

from __future__ import annotations

from ruamel.yaml.reader import ReaderError

from engine.catalog import diag
from engine.diagnostics import Diagnostic, Loc
from engine.nesting import deepest

MAX_FILE_BYTES = 5 * 1024 * 1024


def _utf8_error(raw: bytes, exc: UnicodeDecodeError, path: str) -> Diagnostic:
    before = raw[: exc.start]
    line = before.count(b"\n") + 1
    col = len(before) - (before.rfind(b"\n") + 1) + 1
    return diag(
        "Y004",
        f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
        Loc(path, line, col),
        "save the file as UTF-8",
    )


def _place(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def _reader_error(exc: ReaderError, text: str, path: str) -> Diagnostic:
    """A character YAML does not allow (a NUL byte, a control character), where it is."""
    line, col = _place(text, exc.position if isinstance(exc.position, int) else 0)
    char = exc.character if isinstance(exc.character, int) else 0
    what = "a NUL byte" if char == 0 else f"the control character U+{char:04X}"
    return diag("Y001", f"{what} is not allowed in YAML", Loc(path, line, col),
                "delete it (editors often show it as ^@ or not at all)" if char == 0 else
                "delete it, or write it as an escape such as \\x07 in double quotes")


def _too_deep(text: str, path: str) -> Diagnostic:
    line, col, depth = deepest(text)
    return diag("Y001", f"nesting is too deep to read ({depth} levels here)",
                Loc(path, line, col), "flatten the structure: no story needs this depth")


def _size(n: int) -> str:
    """Bytes, exact, plus a rounded MB figure a reader takes in at a glance."""
    mb = n / (1024 * 1024)
    rounded = f"{mb:.0f}" if mb == int(mb) else f"{mb:.2f}".rstrip("0")
    return f"{n:,} bytes ({'about ' if mb != int(mb) else ''}{rounded} MB)"


def too_large(path: str, size: int) -> Diagnostic:
    return diag(
        "Y005",
        f"file is {_size(size)}; the limit is {_size(MAX_FILE_BYTES)}",
        Loc(path),
        "split the story into several files",
    )


