"""Story variables: what kind each holds (number, boolean, string), the stat or flag it
becomes, and the mapping of condition and assignment terms to requirements and effects."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.twee.expr import Term, Unsupported, assignments, condition
from engine.twee.ids import make_id
from engine.twee.markup import If, LinkNode, Node, Other, Set
from engine.twee.support import VALUE_KINDS

Req = dict[str, Any]


LIMIT = 10 ** 12  # the format's bound on every number


def number(value: float) -> int | float:
    if abs(value) > LIMIT:
        raise Unsupported("expression", f"{value:g} is beyond the format's ±10^12")
    return int(value) if float(value).is_integer() else value


def walk(nodes: Iterable[Node]) -> Iterator[Node]:
    for n in nodes:
        yield n
        if isinstance(n, If):
            for _, body in n.branches:
                yield from walk(body)
        elif isinstance(n, LinkNode | Other):
            yield from walk(n.body)


def _camel_to_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)


@dataclass
class Variables:
    """Kinds and ids of a story's `$variables`, found from every assignment (which decides)
    and every comparison (which decides only for variables never assigned)."""

    harlowe: bool
    kinds: dict[str, str] = field(default_factory=dict)  # $var -> number|boolean|string|mixed
    ids: dict[str, str] = field(default_factory=dict)  # $var -> stat or flag id

    @classmethod
    def of(cls, trees: Iterable[list[Node]], harlowe: bool) -> Variables:
        strong: dict[str, set[str]] = {}
        weak: dict[str, set[str]] = {}
        for tree in trees:
            for node in walk(tree):
                for text in _sets_of(node):
                    try:
                        found = assignments(text, harlowe)
                    except Unsupported:
                        continue
                    for var, _, value in found:
                        strong.setdefault(var, set()).add(_kind(value))
                for text in _conditions_of(node):
                    try:
                        _weak_kinds(condition(text), weak)
                    except Unsupported:
                        continue
        out = cls(harlowe)
        for var in sorted({*strong, *weak}):
            kinds = strong.get(var) or set()
            if "string" in kinds:
                out.kinds[var] = "string"
            elif len(kinds) > 1:
                out.kinds[var] = "mixed"
            elif kinds:
                out.kinds[var] = kinds.pop()
            else:
                seen = weak[var]
                out.kinds[var] = next(k for k in ("string", "number", "boolean") if k in seen)
        taken: set[str] = set()
        for var, kind in out.kinds.items():
            if VALUE_KINDS.get(kind):
                out.ids[var] = make_id(_camel_to_snake(var[1:]), taken, "var")
        return out

    def kind(self, var: str) -> str | None:
        return self.kinds.get(var)

    def declared(self, var: str) -> str:
        """The stat or flag id of `var`; raises Unsupported when it has none."""
        kind = self.kinds.get(var)
        if kind is None:
            raise Unsupported("expression", f"{var} is never set or compared")
        if kind == "mixed":
            raise Unsupported("mixed variable", var)
        if not VALUE_KINDS.get(kind):
            raise Unsupported(f"{kind} variable", var)
        return self.ids[var]

    # ---- terms to the format -------------------------------------------------------------

    def requirement(self, term: Term, here: str, passages: dict[str, str]) -> Req:
        tag = term[0]
        if tag in ("and", "or"):
            return {"all" if tag == "and" else "any":
                    [self.requirement(t, here, passages) for t in term[1]]}
        if tag == "not":
            return {"not": self.requirement(term[1], here, passages)}
        if tag == "truthy":
            ident = self.declared(term[1])
            if self.kinds[term[1]] == "boolean":
                return {"flag": ident}
            return {"stat": {"id": ident, "ne": 0}}
        if tag == "cmp":
            _, var, op, value = term
            ident = self.declared(var)
            if self.kinds[var] == "boolean":
                if not isinstance(value, bool) or op not in ("eq", "ne"):
                    raise Unsupported("expression", f"{var} compared with {value!r}")
                return {"flag": ident} if (op == "eq") == value else {"not": {"flag": ident}}
            if isinstance(value, bool) or not isinstance(value, float):
                raise Unsupported("expression", f"{var} compared with {value!r}")
            return {"stat": {"id": ident, op: number(value)}}
        _, name, op, count = term  # visited
        fid = here if name is None else passages.get(name)
        if fid is None:
            raise Unsupported("missing passage", str(name))
        if op == "gte" and count == 1:
            return {"visited": fid}
        return {"visited": {"fragment": fid, op: number(count)}}

    def effects(self, text: str) -> list[Req]:
        out: list[Req] = []
        for var, op, value in assignments(text, self.harlowe):
            ident = self.declared(var)
            if self.kinds[var] == "boolean":
                if op != "set" or not isinstance(value, bool):
                    raise Unsupported("expression", text)
                out.append({"set" if value else "clear": ident})
            else:
                if isinstance(value, bool) or not isinstance(value, float):
                    raise Unsupported("expression", text)
                out.append({"stat": {"id": ident, op: number(value)}})
        return out


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    return "number"


def _weak_kinds(term: Term, weak: dict[str, set[str]]) -> None:
    tag = term[0]
    if tag in ("and", "or"):
        for t in term[1]:
            _weak_kinds(t, weak)
    elif tag == "not":
        _weak_kinds(term[1], weak)
    elif tag == "truthy":
        weak.setdefault(term[1], set()).add("boolean")
    elif tag == "cmp":
        weak.setdefault(term[1], set()).add(_kind(term[3]))


def _sets_of(node: Node) -> list[str]:
    if isinstance(node, Set):
        return [node.expr]
    if isinstance(node, LinkNode) and node.setter:
        return [node.setter]
    return []


def _conditions_of(node: Node) -> list[str]:
    if isinstance(node, If):
        return [c for c, _ in node.branches if c is not None]
    return []
