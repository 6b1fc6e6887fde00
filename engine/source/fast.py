"""The fast path of reading: libyaml's event stream (when ruamel.yaml.clib is installed)
turned straight into data and positions, for files without unusual constructs; anything
else is left to the pure path in engine.source."""

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
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

from engine.numbers import MAX_DIGITS
from engine.source.values import _BOOL, Path_, _plain

_CParser = getattr(_ruamel_main, "CParser", None)

_UNUSUAL_CHARS = "\t\x85\u2028\u2029\ufeff"  # tabs, YAML 1.1 line breaks, a byte-order mark
# After a space, a line break or a flow indicator: an anchor, an alias, a tag, an explicit
# key (or prose that looks like one). Each pattern starts with its character, which keeps
# the search fast.
_UNUSUAL_TOKENS = {
    "&": re.compile(r"&(?<=[\s\[{,:]&)(?=\S)"),
    "*": re.compile(r"\*(?<=[\s\[{,:]\*)(?=\S)"),
    "!": re.compile(r"!(?<=[\s\[{,:]!)"),
    "?": re.compile(r"\?(?<=[\s\[{,]\?)(?=\s|$)"),
}
_UNUSUAL_STARTS = ("&", "*", "!", "?", "%", "---", "...")
_UNUSUAL_LINES = ("\n%", "\n---", "\n...")  # directives and document markers


def _unusual(text: str) -> bool:
    """Does `text` use a construct the fast path leaves to the pure one?"""
    if text.startswith(_UNUSUAL_STARTS) or any(c in text for c in _UNUSUAL_CHARS):
        return True
    if any(line in text for line in _UNUSUAL_LINES):
        return True
    if "\r" in text and text.count("\r") != text.count("\r\n"):  # a CR outside CRLF
        return True
    return any(c in text and rx.search(text) for c, rx in _UNUSUAL_TOKENS.items())


# The fast path reads libyaml's event stream and builds the data straight from it, without
# composing nodes first. It keeps its own stack, so nesting costs no recursion; a file
# nested deeper than any story needs is left to the pure path all the same, which reports
# what it makes of it.
_MAX_DEPTH = 200


class _Fallback(Exception):
    """The fast path cannot vouch for this file: take the pure path."""


def _quick_tags() -> tuple[dict[str, list[tuple[Tag, re.Pattern[str]]]], list[Any], Tag]:
    reference = VersionedResolver(version=(1, 2))
    made: dict[str, Tag] = {}

    def tag(suffix: Any) -> Tag:
        return made.setdefault(str(suffix), Tag(suffix=str(suffix)))

    table = {first: [(tag(t), rx) for t, rx in entries]
             for first, entries in reference.versioned_resolver.items()}
    return table, table.pop(None, []), tag(reference.DEFAULT_SCALAR_TAG)


_IMPLICIT, _IMPLICIT_ANY, _STR_TAG = _quick_tags()


def _resolves_to_str(value: str) -> bool:
    """Does ruamel's YAML 1.2 implicit resolution (what composing gives the pure path)
    make the plain scalar `value` a string?"""
    for tag, regexp in _IMPLICIT.get(value[0] if value else "", ()):
        if regexp.match(value):
            return tag is _STR_TAG
    for tag, regexp in _IMPLICIT_ANY:
        if regexp.match(value):
            return tag is _STR_TAG
    return True


# The first characters of a plain scalar `_plain` may turn into something other than text;
# of those starting with a letter, only these words.
_NOT_TEXT_STARTS = frozenset("~nNtTfF-+.0123456789")
_WORD_STARTS = frozenset("nNtTfF")
_NOT_TEXT_WORDS = frozenset(["null", "Null", "NULL", *_BOOL])


def _fast_read(text: str) -> tuple[Any, dict[Path_, tuple[int, int]],
                                   dict[Path_, tuple[int, int]]] | None:
    """What `_Converter.convert` gives for `text`, built from libyaml's events; None when
    the fast path does not apply (no C parser, an unusual construct, no document, nesting
    deeper than `_MAX_DEPTH`, anything it does not expect)."""
    if _CParser is None or _unusual(text):
        return None
    parser = _CParser(text)
    try:
        return _from_events(parser.get_event)
    except _Fallback:
        return None
    finally:
        parser.dispose()


def _from_events(get: Any) -> tuple[Any, dict[Path_, tuple[int, int]],
                                    dict[Path_, tuple[int, int]]] | None:
    values: dict[Path_, tuple[int, int]] = {}
    keys: dict[Path_, tuple[int, int]] = {}
    plain, to_str = _plain, _resolves_to_str
    not_text, not_key = _NOT_TEXT_STARTS, _NOT_TEXT_STARTS | {"<"}
    word_starts, words = _WORD_STARTS, _NOT_TEXT_WORDS
    scalar, map_start, seq_start = ScalarEvent, MappingStartEvent, SequenceStartEvent
    ends = (MappingEndEvent, SequenceEndEvent)

    if get().__class__ is not StreamStartEvent:
        raise _Fallback
    event = get()
    if event.__class__ is StreamEndEvent:
        return None  # no document: the pure path reports it
    if event.__class__ is not DocumentStartEvent:
        raise _Fallback

    # The open collections, innermost last: (container, its path, is it a mapping).
    stack: list[tuple[Any, Path_, bool]] = []
    container: Any = None  # the innermost open collection (None: the document's root)
    path: Path_ = ()
    in_map = False
    key: Any = None  # in a mapping: the key read and awaiting its value, or None
    here: Path_ = ()
    root: Any = None
    while True:
        event = get()
        cls = event.__class__
        if cls is scalar:
            if event.anchor is not None or event.ctag is not None:
                raise _Fallback
            mark = event.start_mark
            raw = event.value
            if in_map:
                if key is None:  # a mapping key
                    if (raw and raw[0] not in not_key) or (
                            raw[:1] in word_starts and raw not in words):
                        key = raw  # plain text `_plain` leaves as is
                    elif raw == "<<":
                        raise _Fallback  # a merge key, quoted or not
                    elif event.style:
                        key = raw
                    else:
                        key = plain(raw)
                        key = str(key) if key is not None else ""
                    if key in container:
                        raise _Fallback
                    here = (*path, key)
                    keys[here] = (mark.line + 1, mark.column + 1)
                    continue
            elif container is not None:
                here = (*path, len(container))
            if event.style or (raw and raw[0] not in not_text) or (
                    raw[:1] in word_starts and raw not in words):
                value = raw  # quoted or block text, or plain text `_plain` leaves as is
                values[here] = (mark.line + 1, mark.column + 1)
            elif raw.isdigit() and raw.isascii() and len(raw) <= MAX_DIGITS:
                # what `_plain` and the resolver make of it (a longer one `_plain` refuses)
                value = int(raw)
                values[here] = (mark.line + 1, mark.column + 1)
            else:
                value = plain(raw)
                if value is not raw and to_str(raw):
                    value = raw
                if value is None and raw == "" and in_map:
                    # An empty value has no text of its own; libyaml places it at the next
                    # token, often on the next line. The key is where the writer looks.
                    values[here] = keys[here]
                else:
                    values[here] = (mark.line + 1, mark.column + 1)
            if in_map:
                container[key] = value
                key = None
            elif container is not None:
                container.append(value)
            else:
                root = value
            continue
        if cls is map_start or cls is seq_start:
            if event.anchor is not None or event.ctag is not None:
                raise _Fallback
            if in_map:
                if key is None:
                    raise _Fallback  # a collection as a mapping key
            elif container is not None:
                here = (*path, len(container))
            mark = event.start_mark
            values[here] = (mark.line + 1, mark.column + 1)
            value = {} if cls is map_start else []
            if in_map:
                container[key] = value
                key = None
            elif container is not None:
                container.append(value)
            else:
                root = value
            if len(stack) >= _MAX_DEPTH:
                raise _Fallback
            in_map = cls is map_start
            container, path = value, here
            stack.append((container, path, in_map))
            continue
        if cls in ends:
            if not stack or key is not None:
                raise _Fallback
            stack.pop()
            if stack:
                container, path, in_map = stack[-1]
            else:
                container, path, in_map = None, (), False
            continue
        if cls is DocumentEndEvent and not stack and container is None:
            break
        raise _Fallback  # an alias, a second document, or something unforeseen
    if get().__class__ is not StreamEndEvent:
        raise _Fallback  # a second document
    return root, values, keys


