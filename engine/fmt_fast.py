"""A quick, conservative test that a YAML text is already in the canonical layout.

`diana fmt` decides "already formatted" by running ruamel.yaml's pure-Python round trip,
which costs seconds on a large story. Most files are already canonical, and for those the
answer can be had from libyaml's C parser: `is_canonical` re-derives, from the parser's
events, the text ruamel would write for a small subset of YAML (the layout of the sample
story) and compares it with the file, character for character, as it goes.

The rule it keeps: True only when `format_text` would return the text unchanged. Anything
outside the subset (an end-of-line comment, a tag, an escape, a multi-line plain scalar, a
key that is not a plain word, ...) gives False, which means "not sure": the caller then
takes the full round trip. tests/test_fmt_fast.py checks the rule against the round trip on
generated and perturbed texts.

The subset:
- the document is a block mapping at column 0, with no `---`, `...` or directives, and
  ends in exactly one newline; lines use LF, carry no trailing blanks and no tabs;
- block mappings are indented by 2; block sequences put the dash 2 past their key and the
  item 4 past it; a sequence item is a scalar, a flow collection or a block mapping;
- keys are plain words (letters, digits, `_`, `-`) that read as text;
- values on a key's line are plain scalars of safe characters (text, `true`, `false`,
  plain decimal numbers), quoted scalars ruamel writes back as they are, flow collections
  on one line spaced as ruamel writes them (`{a: 1, b: [x, y]}`), block scalars (`|`,
  `|-`, `>`, `>-`) indented 2 past their key or dash, or nothing (an empty value);
- comments stand on lines of their own: at the top of the file, or just before a key or
  a sequence item, in that key's or dash's column; blank lines may separate entries.
"""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml import main as _ruamel_main
from ruamel.yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

from engine.source.fast import _resolves_to_str

_CParser = getattr(_ruamel_main, "CParser", None)

# Deeper nesting than any story needs is left to the round trip (which this module's own
# recursion must never outrun).
MAX_DEPTH = 64

# The characters ruamel's emitter writes as they are, with `allow_unicode` (its default):
# printable ASCII and the printable Unicode planes, minus the byte-order mark.
_PRINTABLE = "\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff"
_PRINTABLE_RUN = re.compile(f"[{_PRINTABLE}]*")
_BLOCK_BODY = re.compile(f"[{_PRINTABLE}\n]*")

# Plain scalars ruamel writes back unchanged: they start with a letter-like character (no
# YAML indicator, digit or sign, nor `...`), and hold no `: `, ` #`, or final `:`. In a flow
# collection none of `,[]{}:#` may appear at all.
_PLAIN_BLOCK = re.compile(rf"[^\s\-?:,\[\]{{}}#&*!|>'\"%@`0-9+~][{_PRINTABLE}]*")
_PLAIN_FLOW = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`0-9+~][^,?\[\]{}:#\s]*"
                         r"(?: [^,?\[\]{}:#\s]+)*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]{0,15})(?:\.[0-9]{1,15})?")
_DIGIT_TEXT = re.compile(r"[0-9][0-9A-Za-z.]*")
_BOOLS = ("true", "false")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_BLOCK_HEADERS = ("|", "|-", ">", ">-")
# Lines the round trip reads otherwise or rewrites: directives and document markers.
_MARKERS = re.compile(r"^(?:%|---|\.\.\.)", re.MULTILINE)


def _plain_kept(value: str, *, flow: bool) -> bool:
    """Does ruamel write the plain scalar `value` back plain and as it is?"""
    if value in _BOOLS or _NUMBER.fullmatch(value):
        return True  # numbers are kept verbatim (see yaml_fmt); `true`, `false` as they are
    if value[:1].isdigit() and value.isascii():
        # text that starts with a digit (`1.0.0`): plain only if it reads as text
        return bool(_DIGIT_TEXT.fullmatch(value)) and _resolves_to_str(value)
    if not (_PLAIN_FLOW if flow else _PLAIN_BLOCK).fullmatch(value):
        return False
    if ": " in value or " #" in value or value.endswith(":") or value.startswith("..."):
        return False
    return bool(_PRINTABLE_RUN.fullmatch(value)) and _resolves_to_str(value)


class _Unsure(Exception):
    """The text is outside the subset this module can vouch for."""


def is_canonical(text: str) -> bool:
    """True only if `format_text(text)` is `text`; False means "not sure".

    `text` must already have passed the loader (`check_readable`): this judges layout only.
    """
    if _CParser is None or not text.endswith("\n") or text.endswith("\n\n"):
        return False
    if "\r" in text or "\t" in text or " \n" in text or text.startswith(("\ufeff", "\n")):
        return False
    if _MARKERS.search(text) or ":\n\n" in text:  # a blank line under a key: not sure
        return False
    parser = _CParser(text)
    try:
        events = []
        while True:
            event = parser.get_event()
            events.append(event)
            if isinstance(event, StreamEndEvent):
                break
    except Exception:  # the loader read it, so this is unexpected: leave it to the round trip
        return False
    finally:
        parser.dispose()
    try:
        _Layout(text, events).check()
    except Exception:  # `_Unsure`, or anything unforeseen: either way, not sure
        return False
    return True


class _Layout:
    """Walks the events and the text together; each step consumes what ruamel would write
    for the event, or raises `_Unsure`."""

    def __init__(self, text: str, events: list[Any]) -> None:
        self.text = text
        self.events = events
        self.i = 0
        self.pos = 0
        self.depth = 0

    # -- the cursor ------------------------------------------------------------------------

    def next(self) -> Any:
        event = self.events[self.i]
        self.i += 1
        return event

    def peek(self) -> Any:
        return self.events[self.i]

    def expect(self, piece: str) -> None:
        if not self.text.startswith(piece, self.pos):
            raise _Unsure
        self.pos += len(piece)

    def at(self, event: Any) -> None:
        """The event must start where the cursor is, and be a plain node: no anchor, tag."""
        if event.start_mark.index != self.pos:
            raise _Unsure
        if getattr(event, "anchor", None) is not None or getattr(event, "tag", None) is not None:
            raise _Unsure

    def line_break(self, column: int) -> None:
        """The end of a line, then any blank lines and full-line comments in `column`, then
        the indentation of the next entry, which starts in `column`."""
        self.expect("\n")
        text, comment = self.text, " " * column + "#"
        while True:
            if text.startswith("\n", self.pos):
                self.pos += 1
            elif text.startswith(comment, self.pos):
                self.pos = text.index("\n", self.pos) + 1
            else:
                break
        self.expect(" " * column)

    # -- the document ----------------------------------------------------------------------

    def check(self) -> None:
        if not isinstance(self.next(), StreamStartEvent):
            raise _Unsure
        start = self.next()
        if not isinstance(start, DocumentStartEvent) or getattr(start, "explicit", False):
            raise _Unsure
        # a header of comment lines (and blank lines after the first comment)
        text = self.text
        while text.startswith("#", self.pos):
            self.pos = text.index("\n", self.pos) + 1
            while text.startswith("\n", self.pos):
                self.pos += 1
        root = self.next()
        if not isinstance(root, MappingStartEvent) or root.flow_style:
            raise _Unsure
        self.at(root)
        self.block_mapping(0)
        end = self.next()
        if not isinstance(end, DocumentEndEvent) or getattr(end, "explicit", False):
            raise _Unsure
        if not isinstance(self.next(), StreamEndEvent):
            raise _Unsure
        self.expect("\n")
        if self.pos != len(text):
            raise _Unsure

    # -- block collections -----------------------------------------------------------------

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Unsure

    def block_mapping(self, column: int) -> None:
        """A block mapping whose first key starts at the cursor, in `column`."""
        self.nest()
        first = True
        while not isinstance(self.peek(), MappingEndEvent):
            if not first:
                self.line_break(column)
            first = False
            key = self.next()
            if not isinstance(key, ScalarEvent) or key.style:
                raise _Unsure
            self.at(key)
            if not _KEY.fullmatch(key.value) or not _resolves_to_str(key.value):
                raise _Unsure
            self.expect(key.value + ":")
            self.block_value(column, in_sequence=False)
        self.next()
        self.depth -= 1

    def block_sequence(self, dash: int) -> None:
        """A block sequence whose first dash is at the cursor, in column `dash`."""
        self.nest()
        first = True
        while not isinstance(self.peek(), SequenceEndEvent):
            if not first:
                self.line_break(dash)
            first = False
            self.expect("-")
            self.block_value(dash, in_sequence=True)
        self.next()
        self.depth -= 1

    def block_value(self, column: int, *, in_sequence: bool) -> None:
        """The value after a key in `column` (cursor after its `:`) or a sequence item
        whose dash is in `column` (cursor after the dash)."""
        event = self.next()
        if isinstance(event, ScalarEvent):
            if event.value == "" and not event.style and not in_sequence:
                # an empty value: ruamel writes `key:` and nothing after it
                if event.implicit[0] is not True:
                    raise _Unsure
                return
            self.expect(" ")
            self.at(event)
            if event.style in ("|", ">"):
                self.block_scalar(event, column + 2)
            else:
                self.inline_scalar(event, flow=False)
        elif isinstance(event, (MappingStartEvent, SequenceStartEvent)):
            if event.flow_style:
                self.expect(" ")
                self.flow(event)
            elif isinstance(event, MappingStartEvent):
                if in_sequence:
                    self.expect(" ")
                    self.at(event)
                    self.block_mapping(column + 2)
                else:
                    self.line_break(column + 2)
                    self.at(event)
                    self.block_mapping(column + 2)
            elif in_sequence:
                raise _Unsure  # a sequence directly in a sequence (`- - x`)
            else:
                self.line_break(column + 2)
                self.at(event)
                self.block_sequence(column + 2)
        else:
            raise _Unsure  # an alias, or something unforeseen

    # -- scalars ---------------------------------------------------------------------------

    def inline_scalar(self, event: ScalarEvent, *, flow: bool) -> None:
        value, style = event.value, event.style
        if style == "'":
            if not _PRINTABLE_RUN.fullmatch(value):
                raise _Unsure
            self.expect("'" + value.replace("'", "''") + "'")
        elif style == '"':
            if '"' in value or "\\" in value or not _PRINTABLE_RUN.fullmatch(value):
                raise _Unsure
            self.expect('"' + value + '"')
        elif style:
            raise _Unsure  # a block scalar where only a one-line one may stand
        else:
            if not _plain_kept(value, flow=flow):
                raise _Unsure
            self.expect(value)
        if event.end_mark.index != self.pos:
            raise _Unsure

    def block_scalar(self, event: ScalarEvent, indent: int) -> None:
        """A `|`, `|-`, `>` or `>-` scalar whose body is indented to `indent`; the cursor
        ends after its last line's text, before that line's newline."""
        text = self.text
        eol = text.index("\n", self.pos)
        if text[self.pos:eol] not in _BLOCK_HEADERS:
            raise _Unsure
        folded = event.style == ">"
        prefix = " " * indent
        p = eol + 1
        last = -1  # the end of the last line of text in the body
        while p < len(text):
            eol = text.index("\n", p)
            line = text[p:eol]
            if line:
                if not line.startswith(prefix):
                    break
                # the first line sets the indentation, and a folded scalar's more-indented
                # lines are written back differently: both must start at `indent`
                if line[indent] == " " and (last < 0 or folded):
                    raise _Unsure
                last = eol
            elif last < 0:
                raise _Unsure  # leading empty lines
            p = eol + 1
        if last < 0:
            raise _Unsure
        if not _BLOCK_BODY.fullmatch(text, self.pos, last):
            raise _Unsure
        # libyaml ends the scalar after the empty lines that follow it
        if text[last:event.end_mark.index].strip("\n"):
            raise _Unsure
        self.pos = last

    # -- flow collections ------------------------------------------------------------------

    def flow(self, event: Any) -> None:
        """A flow collection on one line, as ruamel writes it: `{a: 1, b: [x, y]}`."""
        self.at(event)
        self.nest()
        mapping = isinstance(event, MappingStartEvent)
        end = MappingEndEvent if mapping else SequenceEndEvent
        self.expect("{" if mapping else "[")
        first = True
        while not isinstance(self.peek(), end):
            if not first:
                self.expect(", ")
            first = False
            if mapping:
                key = self.next()
                if not isinstance(key, ScalarEvent) or key.style:
                    raise _Unsure
                self.at(key)
                if not _KEY.fullmatch(key.value) or not _resolves_to_str(key.value):
                    raise _Unsure
                self.expect(key.value + ": ")
            item = self.next()
            if isinstance(item, ScalarEvent):
                if item.value == "" and not item.style:
                    raise _Unsure  # an empty value in a flow collection
                self.at(item)
                self.inline_scalar(item, flow=True)
            elif isinstance(item, (MappingStartEvent, SequenceStartEvent)) and item.flow_style:
                self.flow(item)
            else:
                raise _Unsure
        self.next()
        self.expect("}" if mapping else "]")
        self.depth -= 1
