"""Read one YAML file into plain data plus the position of every node.

We compose with ruamel.yaml and convert the node tree ourselves instead of letting a
constructor do it, because that is the one place where we can: remember line and column of
every key and value, reject duplicate keys, refuse anchors and aliases (alias bombs expand
only when walked, and jsonschema walks), and resolve plain scalars by the YAML 1.2 core
schema whatever `%YAML` directive a file carries, so `no`, `on` and `yes` stay strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml import main as _ruamel_main
from ruamel.yaml.error import MarkedYAMLError, YAMLError
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
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

from engine.catalog import diag
from engine.diagnostics import Diagnostic, Loc
from engine.nesting import deepest
from engine.numbers import CONTENT_MAX, MAX_DIGITS

MAX_FILE_BYTES = 5 * 1024 * 1024
BOM = b"\xef\xbb\xbf"

Path_ = tuple[str | int, ...]

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")


@dataclass(frozen=True)
class SourceFile:
    """A parsed file: `data` is plain JSON-like data; positions are 1-based (line, col)."""

    path: str
    text: str
    data: Any
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def loc(self, path: Path_, *, key: bool = False) -> Loc:
        """The location of the node at `path` (its key when `key` and the node has one).

        Falls back to the nearest ancestor, so a location always exists.
        """
        p = tuple(path)
        # The node itself is nearly always there: look it up before walking up.
        if key and p in self.keys:
            line, col = self.keys[p]
            return Loc(self.path, line, col)
        found = self.values.get(p)
        if found is not None:
            return Loc(self.path, found[0], found[1])
        while True:
            if key and p in self.keys:
                line, col = self.keys[p]
                return Loc(self.path, line, col)
            if p in self.values:
                line, col = self.values[p]
                return Loc(self.path, line, col)
            if not p:
                return Loc(self.path, 1, 1)
            p = p[:-1]

    def line(self, n: int) -> str:
        lines = self.text.splitlines()
        return lines[n - 1] if 0 < n <= len(lines) else ""


class _Reject(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


_NO_VALUE = object()
_TAG_HINT = "remove the tag; only !!str, !!int, !!float, !!bool, !!null, !!seq and !!map pass"


def _show(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


def _pos(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


# An integer literal of more digits than a number of the format can have (see
# engine.numbers): refused before `int()` meets it.
_LONG_INT = re.compile(
    rf"^(?:[-+]?[0-9]{{{MAX_DIGITS + 1},}}|0o[0-7]{{{MAX_DIGITS + 1},}}"
    rf"|0x[0-9a-fA-F]{{{MAX_DIGITS + 1},}})$")


class _HugeNumber(Exception):
    """A plain scalar is an integer literal too long to convert (see `_LONG_INT`)."""


def _scalar(node: ScalarNode) -> Any:
    if node.style is not None:  # quoted or block scalars are always strings
        return node.value
    return _plain(node.value)


def _plain(value: str) -> Any:
    """A plain scalar resolved by the YAML 1.2 core schema."""
    if _NULL.match(value):
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _LONG_INT.match(value):
        raise _HugeNumber(value)
    if _INT.match(value):
        return int(value)
    if _OCT.match(value):
        return int(value[2:], 8)
    if _HEX.match(value):
        return int(value[2:], 16)
    if _FLOAT.match(value) and any(ch.isdigit() for ch in value):
        return float(value)
    return value


_CORE = "tag:yaml.org,2002:"
# The explicit tags a file may carry: the YAML 1.2 core schema's, which say nothing the
# value does not already say (or force a string, `!!str 12`). Every other tag (`!foo`,
# `!!binary`, `!!timestamp`, `!!set`, `!!python/...`) is refused.
_SCALAR_TAGS = {"str": str, "int": int, "float": float, "bool": bool, "null": type(None)}
_COLLECTION_TAGS = {"seq": SequenceNode, "map": MappingNode}


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


class _Converter:
    def __init__(self, path: str, text: str = "") -> None:
        self.path = path
        self.text = text
        self.values: dict[Path_, tuple[int, int]] = {}
        self.keys: dict[Path_, tuple[int, int]] = {}

    def _loc(self, node: Node) -> Loc:
        line, col = _pos(node)
        return Loc(self.path, line, col)

    def _scalar(self, node: ScalarNode) -> Any:
        """The scalar's value; a huge integer literal is refused where it stands."""
        try:
            return _scalar(node)
        except _HugeNumber:
            digits = len(node.value.lstrip("+-"))
            raise _Reject(diag(
                "S001", f"`{_show(node.value)}` ({digits:,} characters) is far too large a"
                f" number; numbers in content lie between -{CONTENT_MAX:,} and {CONTENT_MAX:,}",
                self._loc(node), "write a smaller number")) from None

    def _explicit_tag(self, node: Node, tag: str) -> Any:
        """The value of a scalar with an allowed core tag, `_NO_VALUE` for an allowed
        collection tag; a tag that is not allowed, or does not fit the node, is rejected."""
        name = tag[len(_CORE):] if tag.startswith(_CORE) else None
        shown = _show_tag(tag)
        after = self.text[node.start_mark.index + 1 : node.start_mark.index + 2]
        if not after or after.isspace():  # `! 12`: the non-specific tag
            name, shown = None, "!"
        if name in _COLLECTION_TAGS and isinstance(node, _COLLECTION_TAGS[name]):
            return _NO_VALUE
        if name in _SCALAR_TAGS and isinstance(node, ScalarNode):
            if name == "str":
                return node.value
            # resolve as if it were plain
            value = self._scalar(ScalarNode(tag, node.value, node.start_mark))
            want = _SCALAR_TAGS[name]
            if want is float and isinstance(value, int) and not isinstance(value, bool):
                return float(value)
            if type(value) is want:
                return value
            raise _Reject(diag("Y008", f"`{_show(node.value)}` is not a valid `{shown}` value",
                               self._loc(node), "remove the tag, or fix the value"))
        if name in _SCALAR_TAGS or name in _COLLECTION_TAGS:
            raise _Reject(diag("Y008", f"tag `{shown}` does not fit this value", self._loc(node),
                               "remove the tag"))
        raise _Reject(diag("Y008", f"tag `{shown}` is not allowed", self._loc(node), _TAG_HINT))

    def convert(self, node: Node, path: Path_) -> Any:
        if getattr(node, "anchor", None):
            raise _Reject(
                diag(
                    "Y003",
                    f"anchor `&{node.anchor}` is not allowed",
                    self._loc(node),
                    "repeat the value instead; anchors and aliases are not part of the format",
                )
            )
        tag = str(node.tag) if node.tag is not None else ""
        # A plain or quoted scalar never starts with `!`, so `!` at the node's start is a tag
        # written in the file (the composer also puts resolved tags on untagged nodes).
        if self.text.startswith("!", node.start_mark.index):
            forced = self._explicit_tag(node, tag)
            if forced is not _NO_VALUE:
                self.values[path] = _pos(node)
                return forced
        elif tag.startswith("!") or tag.startswith(_CORE + "python"):
            raise _Reject(diag("Y008", f"tag `{_show_tag(tag)}` is not allowed", self._loc(node),
                               _TAG_HINT))
        self.values[path] = _pos(node)
        if isinstance(node, ScalarNode):
            return node.value if tag.endswith(":str") else self._scalar(node)
        if isinstance(node, SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if getattr(key_node, "anchor", None):
                    raise _Reject(
                        diag(
                            "Y003",
                            f"anchor `&{key_node.anchor}` is not allowed",
                            self._loc(key_node),
                            "remove the anchor; anchors and aliases are not part of the format",
                        )
                    )
                if not isinstance(key_node, ScalarNode):
                    raise _Reject(
                        diag("S001", "mapping keys must be plain text", self._loc(key_node),
                             "write the key as a plain word, e.g. `prologue:`")
                    )
                key = (key_node.value if key_node.style is not None
                       else self._scalar(key_node))
                if key_node.value == "<<":
                    raise _Reject(
                        diag("Y003", "merge keys (`<<`) are not allowed", self._loc(key_node))
                    )
                key = str(key) if key is not None else ""
                if key in out:
                    first = self.keys[(*path, key)]
                    raise _Reject(
                        diag(
                            "Y002",
                            f"duplicate key `{key}` (first defined at line {first[0]})",
                            self._loc(key_node),
                            "remove one of the two or give them different keys",
                        )
                    )
                self.keys[(*path, key)] = _pos(key_node)
                out[key] = self.convert(value_node, (*path, key))
                if out[key] is None and value_node.value == "" and value_node.style is None:
                    # An empty value has no text of its own; the composer places it at the
                    # next token, often on the next line. The key is where the writer looks.
                    self.values[(*path, key)] = _pos(key_node)
            return out
        raise _Reject(diag("Y001", "unsupported YAML node", self._loc(node)))


# -- the fast path: libyaml (ruamel.yaml.clib) parses, data is built from its events -------
#
# The pure-Python composer above is the reference: it reports every problem. When the C
# parser is installed, a file that uses none of the constructs the two handle differently
# (anchors, aliases, tags, directives, tabs, explicit keys, YAML 1.1 line breaks) is
# parsed by libyaml instead, and `_fast_read` builds from its events the same data and
# positions as `_Converter` gives. Anything unexpected on that path, an error included, sends
# the file down the pure path, so diagnostics always come from the reference.

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


def read_source(raw: bytes, path: str) -> tuple[SourceFile | None, list[Diagnostic]]:
    """Parse `raw` (the bytes of the file at display path `path`).

    Returns the parsed file, or None when nothing usable came out, and the diagnostics.
    """
    problems: list[Diagnostic] = []
    if len(raw) > MAX_FILE_BYTES:
        return None, [too_large(path, len(raw))]
    if raw.startswith(BOM):
        problems.append(
            diag("Y007", "file starts with a UTF-8 byte-order mark", Loc(path), "save without BOM")
        )
        raw = raw[len(BOM) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [*problems, _utf8_error(raw, exc, path)]
    try:
        fast = _fast_read(text)
        if fast is not None:
            data, values, keys = fast
            return SourceFile(path, text, data, values, keys), problems
    except Exception:  # the pure path below reports whatever went wrong
        pass
    yaml = YAML(typ="safe", pure=True)
    try:
        node = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
        hint = None
        if "\\t" in message or "'\\t'" in repr(message):
            hint = "indent with spaces, not tabs"
        if "expected a single document" in message:
            hint = "one YAML document per file: remove the `---` separator"
        return None, [*problems, diag("Y001", message, Loc(path, line, col), hint)]
    except ReaderError as exc:
        return None, [*problems, _reader_error(exc, text, path)]
    except RecursionError:
        return None, [*problems, _too_deep(text, path)]
    except (YAMLError, ValueError) as exc:
        return None, [*problems, diag("Y001", f"invalid YAML: {exc}", Loc(path))]
    if node is None:
        problems.append(diag("Y006", "file holds no YAML document", Loc(path)))
        return None, problems
    converter = _Converter(path, text)
    try:
        data = converter.convert(node, ())
    except _Reject as rej:
        return None, [*problems, rej.diagnostic]
    except RecursionError:
        return None, [*problems, _too_deep(text, path)]
    return SourceFile(path, text, data, converter.values, converter.keys), problems
