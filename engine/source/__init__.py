"""Read one YAML file into plain data plus the position of every node.

We compose with ruamel.yaml and convert the node tree ourselves instead of letting a
constructor do it, because that is the one place where we can: remember line and column of
every key and value, reject duplicate keys, refuse anchors and aliases (alias bombs expand
only when walked, and jsonschema walks), and resolve plain scalars by the YAML 1.2 core
schema whatever `%YAML` directive a file carries, so `no`, `on` and `yes` stay strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from engine.catalog import diag
from engine.diagnostics import Diagnostic, Loc
from engine.numbers import CONTENT_MAX
from engine.source.errors import MAX_FILE_BYTES, _reader_error, _too_deep, _utf8_error, too_large
from engine.source.fast import _fast_read
from engine.source.values import Path_, _HugeNumber, _scalar

__all__ = ["BOM", "MAX_FILE_BYTES", "Path_", "SourceFile", "read_source", "too_large"]

BOM = b"\xef\xbb\xbf"


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
