"""Twee 3 source: passages with their headers, and the links in a passage's text.

The notation (the Twee 3 specification; what Twine 2 and Tweego export): a line starting
with `::` opens a passage, `:: Name [tag tag] {"position":"600,400"}`; a backslash escapes
the next character of the name and tags (`\\[`, `\\]`, `\\{`, `\\}`, `\\\\`); the content runs
to the next header, trailing blank lines dropped, and a content line that starts with
`\\::` is a line starting with `::`. StoryTitle and StoryData are read here; every other
special passage is the converter's business.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Note:
    """Something about the source worth telling the writer, at file:line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Passage:
    name: str
    text: str
    tags: tuple[str, ...] = ()
    metadata: dict[str, object] = field(default_factory=dict, compare=False)
    file: str = ""
    line: int = 1  # the header's line; the text starts on the next one


@dataclass(frozen=True)
class Story:
    passages: tuple[Passage, ...]  # in source order, StoryTitle and StoryData left out
    title: str | None = None
    data: dict[str, object] = field(default_factory=dict, compare=False)
    notes: tuple[Note, ...] = ()

    def passage(self, name: str) -> Passage | None:
        return next((p for p in self.passages if p.name == name), None)


class TweeError(Exception):
    """The source cannot be read as a story at all; nothing should be written."""


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _scan_until(line: str, i: int, stops: str) -> int:
    """The index of the first unescaped character of `stops` from `i`, or len(line)."""
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] in stops:
            return i
        i += 1
    return len(line)


def parse_header(line: str, file: str = "", number: int = 1
                 ) -> tuple[str, tuple[str, ...], dict[str, object], list[Note]]:
    """Name, tags and metadata of a `::` header line (without its newline)."""
    notes: list[Note] = []
    end = _scan_until(line, 2, "[{")
    name = _unescape(line[2:end].strip())
    tags: tuple[str, ...] = ()
    meta: dict[str, object] = {}
    rest = line[end:]
    if rest.startswith("["):
        close = _scan_until(rest, 1, "]")
        if close == len(rest):
            notes.append(Note(file, number, "the tag block has no closing `]`; tags ignored"))
            rest = ""
        else:
            tags = tuple(_unescape(t) for t in rest[1:close].split())
            rest = rest[close + 1:].strip()
    if rest.startswith("{"):
        try:
            value = json.loads(rest)
        except ValueError:
            value = None
        if isinstance(value, dict):
            meta = value
        else:
            notes.append(Note(file, number, "the metadata block is not a JSON object; ignored"))
    elif rest.strip():
        notes.append(Note(file, number, f"text after the passage name ignored: {rest.strip()!r}"))
    return name, tags, meta, notes


def parse_twee(text: str, file: str = "") -> tuple[list[Passage], list[Note]]:
    """Every passage of one Twee file, in order."""
    notes: list[Note] = []
    passages: list[Passage] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header: tuple[str, tuple[str, ...], dict[str, object], int] | None = None
    body: list[str] = []
    stray = 0

    def close() -> None:
        if header is None:
            return
        while body and not body[-1].strip():
            body.pop()
        name, tags, meta, number = header
        passages.append(Passage(name, "\n".join(body), tags, meta, file, number))

    for number, line in enumerate(lines, 1):
        if line.startswith("::"):
            close()
            name, tags, meta, found = parse_header(line, file, number)
            notes.extend(found)
            if not name:
                notes.append(Note(file, number, "a passage header without a name; the"
                                  " passage is skipped"))
                header, body = None, []
                continue
            header, body = (name, tags, meta, number), []
        elif header is None:
            stray += bool(line.strip())
        else:
            body.append(line[1:] if line.startswith("\\::") else line)
    close()
    if stray:
        notes.append(Note(file, 1, f"{stray} line(s) before the first passage ignored"))
    return passages, notes


def read_story(sources: list[tuple[str, str]]) -> Story:
    """A story from several Twee files, given as (file name, text). Raises TweeError when
    no passage is found. A passage name given twice keeps its first passage."""
    passages: list[Passage] = []
    notes: list[Note] = []
    seen: dict[str, Passage] = {}
    title: str | None = None
    data: dict[str, object] = {}
    for file, text in sources:
        found, more = parse_twee(text, file)
        notes.extend(more)
        for p in found:
            if p.name in seen:
                first = seen[p.name]
                notes.append(Note(p.file, p.line, f"passage `{p.name}` is also at {first.file}:"
                                  f"{first.line}; this one is ignored"))
                continue
            seen[p.name] = p
            if p.name == "StoryTitle":
                title = p.text.strip() or None
            elif p.name == "StoryData":
                try:
                    value = json.loads(p.text or "{}")
                except ValueError:
                    value = None
                if isinstance(value, dict):
                    data = value
                else:
                    notes.append(Note(p.file, p.line, "StoryData is not a JSON object; ignored"))
            else:
                passages.append(p)
    if not passages:
        raise TweeError("no passages found (a passage starts with a line `:: Name`)")
    return Story(tuple(passages), title, data, tuple(notes))


# ---- links -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """`[[…]]`: the label shown, the passage it leads to, and SugarCube's setter
    (`[[label|target][$x to 1]]`), if any."""

    label: str
    target: str
    setter: str | None = None


def split_link(inner: str) -> Link:
    """The parts of a link from what lies between `[[` and `]]`. The rightmost `->` and
    the leftmost `<-` divide as in Twine 2 and Harlowe; else the last `|` does."""
    setter = None
    if "][" in inner:
        inner, _, setter = inner.partition("][")
        setter = setter.removesuffix("]") if setter.endswith("]") else setter
    if "->" in inner:
        label, _, target = inner.rpartition("->")
    elif "<-" in inner:
        target, _, label = inner.partition("<-")
    elif "|" in inner:
        label, _, target = inner.rpartition("|")
    else:
        label = target = inner
    return Link(label.strip(), target.strip(), setter.strip() if setter else None)
