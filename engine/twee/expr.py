"""Conditions and assignments of SugarCube and Harlowe, read into small terms the
converter maps to requirements and effects. Anything else raises `Unsupported` with the
key of the support table (engine/twee/support.py) that says why.

A condition term is one of
  ("and", [terms]) · ("or", [terms]) · ("not", term)
  ("cmp", "$var", op, value)   op: gt gte lt lte eq ne; value: number, bool or str
  ("truthy", "$var")
  ("visited", passage name or None for the current passage, op, number)
"""

from __future__ import annotations

import re
from typing import Any

Term = tuple[Any, ...]


class Unsupported(Exception):
    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.detail = detail


_TOKEN = re.compile(r"""
    \s+
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<var>\$[A-Za-z_]\w*)
  | (?P<temp>_[A-Za-z]\w*)
  | (?P<op>===|!==|==|!=|>=|<=|\+=|-=|\+\+|--|&&|\|\||[<>!()+\-*/%=,;.\[\]{}?:])
  | (?P<word>[A-Za-z][\w-]*:?)
  | (?P<other>.)
""", re.X)

_OPS = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "==": "eq", "===": "eq",
        "!=": "ne", "!==": "ne", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte",
        "eq": "eq", "neq": "ne", "is": "eq"}
_FLIP = {"gt": "lt", "gte": "lte", "lt": "gt", "lte": "gte", "eq": "eq", "ne": "ne"}


def tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind is None:
            continue
        value = m.group(0)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append((kind, value))
    return out


class _Cursor:
    def __init__(self, toks: list[tuple[str, str]], text: str) -> None:
        self.toks = toks
        self.i = 0
        self.text = text

    def peek(self, k: int = 0) -> tuple[str, str]:
        return self.toks[self.i + k] if self.i + k < len(self.toks) else ("end", "")

    def take(self) -> tuple[str, str]:
        t = self.peek()
        self.i += 1
        return t

    def accept(self, *values: str) -> bool:
        kind, value = self.peek()
        if kind in ("op", "word") and value in values:
            self.i += 1
            return True
        return False


def condition(text: str) -> Term:
    """A condition term from the text of an `<<if>>`/`(if:)`."""
    cur = _Cursor(tokens(text), text)
    if not cur.toks:
        raise Unsupported("expression", "an empty condition")
    term = _or(cur)
    if cur.peek()[0] != "end":
        raise Unsupported("expression", text.strip())
    return term


def _or(cur: _Cursor) -> Term:
    items = [_and(cur)]
    while cur.accept("or", "||"):
        items.append(_and(cur))
    return items[0] if len(items) == 1 else ("or", items)


def _and(cur: _Cursor) -> Term:
    items = [_not(cur)]
    while cur.accept("and", "&&"):
        items.append(_not(cur))
    return items[0] if len(items) == 1 else ("and", items)


def _not(cur: _Cursor) -> Term:
    if cur.accept("not", "!"):
        return ("not", _not(cur))
    return _comparison(cur)


def _operand(cur: _Cursor) -> tuple[str, Any]:
    kind, value = cur.take()
    if kind == "op" and value == "-" and cur.peek()[0] == "num":
        return "value", -float(cur.take()[1])
    if kind == "num":
        return "value", float(value)
    if kind == "str":
        return "value", value
    if kind == "word" and value in ("true", "false"):
        return "value", value == "true"
    if kind == "var":
        if cur.peek() in (("op", "."), ("op", "[")):
            raise Unsupported("property", value)
        return "var", value
    if kind == "temp":
        raise Unsupported("temporary variable", value)
    if (kind == "word" and value in ("visited", "visits", "hasVisited")) or (
            kind == "word" and value == "visited:"):
        return "visited", _visited_call(cur, value)
    if kind == "op" and value == "(":
        if cur.peek() == ("word", "history:") and cur.peek(1) == ("op", ")"):
            cur.i += 2
            if cur.accept("contains") and cur.peek()[0] == "str":
                return "history", cur.take()[1]
            raise Unsupported("expression", cur.text.strip())
        inner = _or(cur)
        if not cur.accept(")"):
            raise Unsupported("expression", cur.text.strip())
        return "term", inner
    raise Unsupported("expression", cur.text.strip())


def _visited_call(cur: _Cursor, word: str) -> str | None:
    """`visited()`, `visited("Name")`, `hasVisited("Name")`; Harlowe's bare `visits`."""
    if word == "visits":
        return None
    if cur.accept("("):
        if cur.accept(")"):
            return None
        kind, name = cur.take()
        if kind != "str" or not cur.accept(")"):
            raise Unsupported("expression", cur.text.strip())
        return name
    return None


def _comparison(cur: _Cursor) -> Term:
    left = _operand(cur)
    kind, value = cur.peek()
    op = None
    if kind in ("op", "word") and value in _OPS:
        cur.i += 1
        op = _OPS[value]
        if value == "is" and cur.accept("not"):
            op = "ne"
    if op is None:
        return _alone(left, cur)
    right = _operand(cur)
    return _compare(left, op, right, cur)


def _alone(left: tuple[str, Any], cur: _Cursor) -> Term:
    kind, value = left
    if kind == "var":
        return ("truthy", value)
    if kind == "term":
        return value
    if kind == "visited":
        return ("visited", value, "gte", 1)
    if kind == "history":
        return ("visited", value, "gte", 1)
    raise Unsupported("expression", cur.text.strip())


def _compare(left: tuple[str, Any], op: str, right: tuple[str, Any], cur: _Cursor) -> Term:
    if (left[0] != "var" and right[0] == "var") or (left[0] == "value" and right[0] == "visited"):
        left, right, op = right, left, _FLIP[op]
    if left[0] == "var" and right[0] == "var":
        raise Unsupported("variable comparison", f"{left[1]} and {right[1]}")
    if left[0] == "var" and right[0] == "value":
        return ("cmp", left[1], op, right[1])
    if left[0] == "visited" and right[0] == "value" and isinstance(right[1], float):
        return ("visited", left[1], op, right[1])
    raise Unsupported("expression", cur.text.strip())


# ---- assignments -----------------------------------------------------------------------


def assignments(text: str, harlowe: bool = False) -> list[tuple[str, str, Any]]:
    """(`$var`, op, value) for each assignment of a `<<set>>`/`(set:)`/`(put:)`: op is
    set, add or sub; value a number, a bool or a string."""
    out = []
    for part in _split_top(text):
        if harlowe and re.search(r"\binto\b", part):
            value, _, var = part.rpartition("into")
            part = f"{var.strip()} to {value.strip()}"
        out.append(_assignment(part))
    return out


def _split_top(text: str) -> list[str]:
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        if c in "\"'":
            m = re.compile(r'"(?:[^"\\]|\\.)*"|' + r"'(?:[^'\\]|\\.)*'").match(text, i)
            i = m.end() if m else len(text)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c in ",;" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _assignment(text: str) -> tuple[str, str, Any]:
    toks = tokens(text)
    if not toks or toks[0][0] != "var":
        kind = "temporary variable" if toks and toks[0][0] == "temp" else "expression"
        raise Unsupported(kind, text)
    var = toks[0][1]
    if len(toks) > 1 and toks[1] in (("op", "."), ("op", "[")):
        raise Unsupported("property", var)
    rest = toks[1:]
    if rest in ([("op", "++")], [("op", "--")]):
        return var, "add" if rest[0][1] == "++" else "sub", 1.0
    if not rest or rest[0] not in (("word", "to"), ("op", "="), ("op", "+="), ("op", "-=")):
        raise Unsupported("expression", text)
    op = {"+=": "add", "-=": "sub"}.get(rest[0][1], "set")
    value = rest[1:]
    lit = _literal(value)
    if lit is not None:
        if op != "set" and not isinstance(lit[0], float):
            raise Unsupported("expression", text)
        return var, op, lit[0]
    if op == "set" and len(value) == 3 and value[1] in (("op", "+"), ("op", "-")):
        a, sign, b = value
        same = (a in (("var", var), ("word", "it")))
        if same and b[0] == "num":
            return var, "add" if sign[1] == "+" else "sub", float(b[1])
        if sign[1] == "+" and b in (("var", var), ("word", "it")) and a[0] == "num":
            return var, "add", float(a[1])
    others = [v for k, v in value if k == "var" and v != var]
    if others:
        raise Unsupported("variable arithmetic", text)
    if any(k == "str" for k, _ in value):
        raise Unsupported("string expression", text)
    raise Unsupported("expression", text)


def _literal(toks: list[tuple[str, str]]) -> tuple[Any] | None:
    if len(toks) == 1:
        kind, value = toks[0]
        if kind == "num":
            return (float(value),)
        if kind == "str":
            return (value,)
        if kind == "word" and value in ("true", "false"):
            return (value == "true",)
    if len(toks) == 2 and toks[0] == ("op", "-") and toks[1][0] == "num":
        return (-float(toks[1][1]),)
    return None
