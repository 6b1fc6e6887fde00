"""A passage's text as a tree of what the converter cares about: prose, links, variables
printed, `set`, `if`, link macros and `goto`, and every other macro kept by name so the
report can list it. One tree for both story formats: SugarCube 2 (`<<if $x>>…<</if>>`)
and Harlowe 3 (`(if: $x)[…]`).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from engine.twee.parse import Link, split_link


@dataclass
class Text:
    text: str
    line: int


@dataclass
class LinkNode:
    """A way on: `[[…]]`, `<<link>>`, `(link-goto:)`, `(link:)[…]`. `target` None stays in
    the passage (or the target is an expression, then `bad_target` says what it was)."""

    label: str
    target: str | None
    line: int
    construct: str = "[[link]]"
    setter: str | None = None
    body: list[Node] = field(default_factory=list)
    bad_target: str | None = None


@dataclass
class Set:
    expr: str
    line: int
    construct: str


@dataclass
class Goto:
    target: str | None
    line: int
    construct: str
    raw: str = ""


@dataclass
class If:
    branches: list[tuple[str | None, list[Node]]]  # (condition, body); None: else
    line: int
    construct: str
    negate_first: bool = False  # Harlowe's (unless:)


@dataclass
class Print:
    var: str  # `$name`, or the expression when it is not one variable
    line: int
    construct: str


@dataclass
class Other:
    """A macro the converter does not map. `body` is converted as if the macro were not
    there (`<<timed>>` text is still shown), unless `drop` (code, styles, widgets)."""

    name: str
    line: int
    construct: str
    body: list[Node] = field(default_factory=list)
    drop: bool = False
    args: str = ""


Node = Text | LinkNode | Set | Goto | If | Print | Other


class _Lines:
    def __init__(self, text: str, first_line: int) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.first = first_line

    def at(self, pos: int) -> int:
        return self.first + bisect.bisect_right(self.starts, pos) - 1


def _skip_string(text: str, i: int) -> int:
    """The index after the quoted string starting at `i`."""
    quote = text[i]
    i += 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    return len(text)


_VAR = re.compile(r"\$[A-Za-z_][\w]*((?:\.[A-Za-z_]\w*|\[[^\]\n]*\])*)")
_COMMENT = re.compile(r"<!--.*?-->|/\*.*?\*/|/%.*?%/", re.S)


def _strip_comments(text: str) -> str:
    # Comments become spaces and newlines so every position keeps its line.
    return _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def quoted_args(args: str) -> list[str | Link]:
    """SugarCube/Harlowe macro arguments: quoted strings, `[[links]]`, other words kept
    as written."""
    out: list[str | Link] = []
    i = 0
    while i < len(args):
        c = args[i]
        if c in " \t\n,":
            i += 1
        elif c in "\"'`":
            end = _skip_string(args, i)
            out.append(re.sub(r"\\(.)", r"\1", args[i + 1:end - 1]))
            i = end
        elif args.startswith("[[", i):
            end = args.find("]]", i)
            end = len(args) if end < 0 else end
            out.append(split_link(args[i + 2:end]))
            i = end + 2
        else:
            m = re.compile(r"[^\s,]+").match(args, i)
            assert m is not None
            out.append("\x00" + m.group(0))  # a bare word: not a string literal
            i = m.end()
    return out


def _literal(arg: str | Link | None) -> str | None:
    if isinstance(arg, str) and not arg.startswith("\x00"):
        return arg
    return None


# ---- SugarCube ---------------------------------------------------------------------------


@dataclass
class _Tok:
    kind: str  # text, link, var, open, close
    pos: int
    value: str = ""
    args: str = ""


_SC_NAME = re.compile(r"<<(/?)([A-Za-z=\-][\w\-]*)")
_RAW = ("script", "css", "style")


def _sc_tokens(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, start = 0, 0

    def flush(end: int) -> None:
        if end > start:
            toks.append(_Tok("text", start, text[start:end]))

    while i < len(text):
        if text.startswith("<<", i):
            m = _SC_NAME.match(text, i)
            if m:
                j = m.end()
                while j < len(text) and not text.startswith(">>", j):
                    j = _skip_string(text, j) if text[j] in "\"'`" else j + 1
                flush(i)
                name = m.group(2)
                if m.group(1):
                    toks.append(_Tok("close", i, name))
                elif name.startswith("end") and len(name) > 3 and name != "end":
                    toks.append(_Tok("close", i, name[3:]))  # SugarCube 1 `<<endif>>`
                else:
                    toks.append(_Tok("open", i, name, text[m.end():j].strip()))
                i = start = min(j + 2, len(text))
                if not m.group(1) and name in _RAW:  # code: keep it whole, untouched
                    close = text.find(f"<</{name}>>", i)
                    close = len(text) if close < 0 else close
                    i = start = min(close + len(f"<</{name}>>"), len(text))
                    toks.append(_Tok("close", close, name))
                continue
        if text.startswith("[[", i):
            end = text.find("]]", i + 2)
            if end >= 0:
                flush(i)
                toks.append(_Tok("link", i, text[i + 2:end]))
                i = start = end + 2
                continue
        if text[i] == "$":
            m = _VAR.match(text, i)
            if m:
                flush(i)
                toks.append(_Tok("var", i, m.group(0)))
                i = start = m.end()
                continue
        i += 1
    flush(len(text))
    return toks


def _has_close(toks: list[_Tok], i: int, name: str) -> bool:
    depth = 0
    for t in toks[i + 1:]:
        if t.kind == "open" and t.value == name:
            depth += 1
        elif t.kind == "close" and t.value == name:
            if depth == 0:
                return True
            depth -= 1
    return False


class _SugarCube:
    def __init__(self, text: str, first_line: int) -> None:
        self.text = text
        self.lines = _Lines(text, first_line)
        self.toks = _sc_tokens(text)
        self.i = 0

    def nodes(self, closes: tuple[str, ...] = (), opens: tuple[str, ...] = ()
              ) -> tuple[list[Node], _Tok | None]:
        """Nodes up to the closing tag of one of `closes` or an `opens` macro (`<<else>>`
        in an `<<if>>`), which is consumed and returned."""
        out: list[Node] = []
        while self.i < len(self.toks):
            t = self.toks[self.i]
            line = self.lines.at(t.pos)
            if (t.kind == "close" and t.value in closes) or (
                    t.kind == "open" and t.value in opens):
                self.i += 1
                return out, t
            self.i += 1
            if t.kind == "text":
                out.append(Text(t.value, line))
            elif t.kind == "link":
                link = split_link(t.value)
                out.append(LinkNode(link.label, link.target, line, setter=link.setter))
            elif t.kind == "var":
                out.append(Print(t.value, line, "$variable"))
            elif t.kind == "close":
                out.append(Other(t.value, line, f"<</{t.value}>>"))
            else:
                out.append(self.macro(t, line))
        return out, None

    def macro(self, t: _Tok, line: int) -> Node:
        name, args = t.value, t.args
        construct = f"<<{name}>>"
        container = _has_close(self.toks, self.i - 1, name)
        if name == "if" and container:
            branches: list[tuple[str | None, list[Node]]] = []
            cond: str | None = args
            while True:
                body, stop = self.nodes(("if",), ("elseif", "else"))
                branches.append((cond, body))
                if stop is None or stop.kind == "close":
                    break
                cond = stop.args if stop.value == "elseif" else None
            return If(branches, line, construct)
        if name == "switch" and container:
            return self.switch(args, line)
        body: list[Node] = []
        if container:
            body, _ = self.nodes((name,))
        if name == "set":
            return Set(args, line, construct)
        if name in ("link", "button"):
            parsed = quoted_args(args)
            label_arg = parsed[0] if parsed else None
            if isinstance(label_arg, Link):
                return LinkNode(label_arg.label, label_arg.target, line, construct,
                                setter=label_arg.setter, body=body)
            target_arg = parsed[1] if len(parsed) > 1 else None
            target = _literal(target_arg) if target_arg is not None else None
            if isinstance(target_arg, Link):
                target = target_arg.target
            bad = args if target_arg is not None and target is None else None
            return LinkNode(_literal(label_arg) or "…", target, line, construct, body=body,
                            bad_target=bad)
        if name == "goto":
            parsed = quoted_args(args)
            first = parsed[0] if parsed else None
            target = first.target if isinstance(first, Link) else _literal(first)
            return Goto(target, line, construct, args)
        if name in ("print", "=", "-"):
            return Print(args, line, construct)
        if name in ("nobr", "silently"):
            return Other(name, line, construct, body, args=args)
        return Other(name, line, construct, body, drop=name in _RAW or name == "widget",
                     args=args)


    def switch(self, subject: str, line: int) -> Node:
        """`<<switch $x>><<case 1 2>>…<<default>>…<</switch>>` as the `if` it means:
        `$x is 1 or $x is 2`, …, else."""
        branches: list[tuple[str | None, list[Node]]] = []
        before, stop = self.nodes(("switch",), ("case", "default"))
        while stop is not None and stop.kind == "open":
            values = re.findall(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\S+", stop.args)
            cond = (" or ".join(f"{subject} is {v}" for v in values)
                    if stop.value == "case" else None)
            body, stop = self.nodes(("switch",), ("case", "default"))
            branches.append((cond, body))
        stray = [n for n in before if not (isinstance(n, Text) and not n.text.strip())]
        if stray or not branches or any(c is None for c, _ in branches[:-1]):
            return Other("switch", line, "<<switch>>", stray + [
                n for _, body in branches for n in body], args=subject)
        return If(branches, line, "<<switch>>")


# ---- Harlowe -----------------------------------------------------------------------------


_HW_NAME = re.compile(r"\(([A-Za-z][\w\-]*):")


def harlowe_name(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


class _Harlowe:
    def __init__(self, text: str, first_line: int) -> None:
        self.text = text
        self.lines = _Lines(text, first_line)

    def _close_paren(self, i: int) -> int:
        depth = 0
        while i < len(self.text):
            c = self.text[i]
            if c in "\"'`":
                i = _skip_string(self.text, i)
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    return i
            i += 1
        return -1

    def _close_hook(self, i: int) -> int:
        depth = 0
        while i < len(self.text):
            c = self.text[i]
            if c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
                if depth == 0:
                    return i
            i += 1
        return -1

    def nodes(self, start: int, end: int) -> list[Node]:
        out: list[Node] = []
        i = text_start = start
        text = self.text

        def flush(upto: int) -> None:
            if upto > text_start:
                out.append(Text(text[text_start:upto], self.lines.at(text_start)))

        while i < end:
            if text.startswith("[[", i):
                close = text.find("]]", i + 2, end)
                if close >= 0:
                    flush(i)
                    link = split_link(text[i + 2:close])
                    out.append(LinkNode(link.label, link.target, self.lines.at(i)))
                    i = text_start = close + 2
                    continue
            if text[i] == "(":
                m = _HW_NAME.match(text, i)
                close = self._close_paren(i) if m else -1
                if m and 0 <= close < end:
                    flush(i)
                    name = harlowe_name(m.group(1))
                    args = text[m.end():close].strip()
                    j = close + 1
                    while j < end and text[j] in " \t":
                        j += 1
                    hook: tuple[int, int] | None = None
                    # `[[link]]` right after a macro is a link; `[[[link]]]` a hook holding one
                    if j < end and text[j] == "[" and (not text.startswith("[[", j)
                                                        or text.startswith("[[[", j)):
                        hook_end = self._close_hook(j)
                        if 0 <= hook_end < end:
                            hook = (j + 1, hook_end)
                    node = self.macro(name, m.group(1), args, hook, self.lines.at(i), out)
                    if node is not None:
                        out.append(node)
                    i = text_start = (hook[1] + 1) if hook else close + 1
                    continue
            if text[i] == "$":
                m = _VAR.match(text, i)
                if m and m.end() <= end:
                    flush(i)
                    out.append(Print(m.group(0), self.lines.at(i), "$variable"))
                    i = text_start = m.end()
                    continue
            i += 1
        flush(end)
        return out

    def macro(self, name: str, written: str, args: str, hook: tuple[int, int] | None,
              line: int, siblings: list[Node]) -> Node | None:
        construct = f"({written.lower()}:)"
        body = self.nodes(*hook) if hook else []
        if name in ("if", "unless") and hook:
            return If([(args, body)], line, construct, negate_first=name == "unless")
        if name in ("elseif", "else") and hook:
            last = next((n for n in reversed(siblings) if not (
                isinstance(n, Text) and not n.text.strip())), None)
            if isinstance(last, If) and last.branches[-1][0] is not None:
                last.branches.append((args if name == "elseif" else None, body))
                return None
            return Other(name, line, construct, body, args=args)
        if name in ("set", "put"):
            return Set(args, line, construct)
        if name == "goto":
            return Goto(_literal((quoted_args(args) or [None])[0]), line, construct, args)
        if name == "linkgoto":
            parsed = quoted_args(args)
            label = _literal(parsed[0]) if parsed else None
            target = _literal(parsed[1]) if len(parsed) > 1 else label
            bad = args if target is None else None
            return LinkNode(label or "…", target, line, construct, bad_target=bad)
        if name in ("link", "linkrepeat") and hook:
            label = _literal((quoted_args(args) or [None])[0])
            return LinkNode(label or "…", None, line, construct, body=body)
        if name == "print":
            return Print(args, line, construct)
        return Other(name, line, construct, body, args=args)


def parse_body(text: str, first_line: int, harlowe: bool) -> list[Node]:
    """The tree of a passage's text; `first_line` is the line its text starts on."""
    text = _strip_comments(text)
    if harlowe:
        return _Harlowe(text, first_line).nodes(0, len(text))
    return _SugarCube(text, first_line).nodes()[0]
