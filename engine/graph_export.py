"""The story graph as data, and as Mermaid or Graphviz DOT text.

`build(content)` turns a loaded story into a small, format-neutral `Graph`: fragments are
nodes, choices are edges (one per target of a weighted pick), and `goto` effects in rules
or fragments are edges of their own kind. `to_mermaid` and `to_dot` only render that
graph, so both formats show the same thing. Everything here is pure.

Coverage (optional) is a JSON object a simulator writes after exploring the story:

    {"fragments": {"hall": 12, "vault": 0},
     "choices": {"hall.door": 4, "vault.dice": 2},
     "rules": {"first": 12}}

Every map is optional and missing ids count as 0 hits. Choices are keyed
`FRAGMENT.CHOICE`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.model import (
    All,
    AnyOf,
    Compare,
    Content,
    Effect,
    Fragment,
    Has,
    Not,
    Requirement,
    Rule,
    Target,
    VarRef,
)

CMP_SYMBOLS = {"gte": "≥", "gt": ">", "lte": "≤", "lt": "<", "eq": "=", "ne": "≠"}
MAX_SUMMARY = 60


class CoverageError(ValueError):
    """The coverage JSON does not have the documented shape."""


@dataclass(frozen=True)
class Coverage:
    fragments: Mapping[str, int] = field(default_factory=dict)
    choices: Mapping[str, int] = field(default_factory=dict)
    rules: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Node:
    id: str  # a fragment id, or `rule:ID` for a rule that moves the player from anywhere
    label: tuple[str, ...]  # lines
    kind: str  # fragment | ending | rule
    ending: str | None = None
    start: bool = False
    hits: int | None = None  # None: no coverage given


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    label: tuple[str, ...]  # lines
    kind: str  # choice | locked | rule | effect
    hits: int | None = None

    @property
    def style(self) -> str:
        return {"choice": "solid", "locked": "dashed"}.get(self.kind, "dotted")


@dataclass(frozen=True)
class Graph:
    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    coverage: bool = False


# ---- coverage ---------------------------------------------------------------------------


def parse_coverage(data: Any) -> Coverage:
    """Check and convert decoded coverage JSON; raises CoverageError with a clear reason."""
    if not isinstance(data, dict):
        raise CoverageError("coverage must be a JSON object with `fragments`, `choices` "
                            "and/or `rules` maps")
    unknown = sorted(set(data) - {"fragments", "choices", "rules"})
    if unknown:
        raise CoverageError(f"unknown coverage key `{unknown[0]}` (expected fragments, "
                            "choices, rules)")
    out: dict[str, dict[str, int]] = {}
    for key in ("fragments", "choices", "rules"):
        part = data.get(key, {})
        if not isinstance(part, dict):
            raise CoverageError(f"coverage `{key}` must be an object of id → hit count")
        for k, v in part.items():
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise CoverageError(f"coverage `{key}.{k}` must be a whole number ≥ 0, "
                                    f"not {v!r}")
        out[key] = dict(part)
    return Coverage(out["fragments"], out["choices"], out["rules"])


# ---- summaries --------------------------------------------------------------------------


def _num(n: float | str | VarRef) -> str:
    if isinstance(n, VarRef):
        return f"stat {n.stat}"
    if isinstance(n, str):  # a string variable's value
        return f'"{n}"'
    return str(int(n)) if float(n).is_integer() else str(n)


def summarize(req: Requirement) -> str:
    """A compact, writer-facing form of a requirement: `flag lamp and points ≥ 50`."""
    if isinstance(req, Has):
        return f"{req.subject} {req.ref}"
    if isinstance(req, Compare):
        subject = f"{req.subject} {req.ref}" if req.ref else req.subject
        if req.ref and tuple(req.cmp) == (("gte", 1),):
            return subject  # `{item: gem}`, `{visited: hall}`
        return " and ".join(f"{subject} {CMP_SYMBOLS.get(op, op)} {_num(n)}" for op, n in req.cmp)
    if isinstance(req, Not):
        return f"not {_wrap(req.item)}"
    joiner = " and " if isinstance(req, All) else " or "
    return joiner.join(_wrap(r) for r in req.items)


def _wrap(req: Requirement) -> str:
    text = summarize(req)
    many = (isinstance(req, All | AnyOf) and len(req.items) > 1) or (
        isinstance(req, Compare) and len(req.cmp) > 1)
    return f"({text})" if many else text


def _short(text: str, limit: int = MAX_SUMMARY) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---- building ---------------------------------------------------------------------------


def _fragment_node(f: Fragment, content: Content, cov: Coverage | None) -> Node:
    locale = content.manifest.default_locale
    lines = [f.id]
    if f.title is not None:
        lines.append(_short(f.title.get(locale, locale), 40))
    if f.ending is not None:
        lines.append(f"ending · {f.ending}")
    hits = None if cov is None else cov.fragments.get(f.id, 0)
    if hits is not None:
        lines.append(f"×{hits}")
    return Node(f.id, tuple(lines), "ending" if f.ending else "fragment", f.ending,
                f.id == content.manifest.start, hits)


def _weights(total: int, weight: int) -> str:
    pct = 100 * weight / total
    return f"{pct:.0f}%" if pct.is_integer() or pct >= 10 else f"{pct:.1f}%"


def _effect_label(head: str, e: Effect) -> tuple[str, ...]:
    lines = [head]
    if e.cond is not None:
        lines.append("if " + _short(summarize(e.cond)))
    if e.chance is not None:
        lines.append(f"chance {_num(round(e.chance * 100, 2))}%")
    return tuple(lines)


def _rule_source(r: Rule) -> str | None:
    fragment = dict(r.filters).get("fragment")
    return fragment if isinstance(fragment, str) else None


def build(content: Content, coverage: Coverage | None = None, labels: str = "id") -> Graph:
    """The story graph. `labels` picks what names a choice edge: `id`, `text` or `both`."""
    m = content.manifest
    locale = m.default_locale
    money = m.currency.emoji or m.currency.id
    nodes: list[Node] = [_fragment_node(f, content, coverage) for f in content.fragments.values()]
    edges: list[Edge] = []

    for f in content.fragments.values():
        for e in (*f.on_enter, *f.on_first_enter):
            if e.kind == "goto" and e.target:
                edges.append(Edge(f.id, e.target, _effect_label("on enter", e), "effect"))
        for c in f.choices:
            hits = None if coverage is None else coverage.choices.get(f"{f.id}.{c.id}", 0)
            text = _short(c.text.get(locale, locale), 40)
            name = {"id": [c.id], "text": [text], "both": [c.id, text]}.get(labels, [c.id])
            extra: list[str] = []
            if c.requires is not None:
                extra.append("🔒 " + _short(summarize(c.requires)))
            if c.cost:
                extra.append(f"{money} {c.cost}")
            if c.once:
                extra.append("once")
            if hits is not None:
                extra.append(f"×{hits}")
            kind = "locked" if c.requires is not None else "choice"
            targets = c.targets or ()
            total = sum(t.weight for t in targets)
            if not targets:
                edges.append(Edge(f.id, f.id, (*name, *extra), kind, hits))
            for t in targets:
                weight = [f"{_weights(total, t.weight)} (weight {t.weight})"] \
                    if len(targets) > 1 else []
                edges.append(Edge(f.id, t.to, (*name, *weight, *extra), kind, hits))
            for e in c.effects:
                if e.kind == "goto" and e.target:
                    edges.append(Edge(f.id, e.target, _effect_label(f"after {c.id}", e),
                                      "effect", hits))
        if f.input is not None:  # the typed answer: an edge like a choice's
            hits = None if coverage is None else coverage.choices.get(f"{f.id}.input", 0)
            for t in f.input.choice.targets or (Target(f.id),):
                edges.append(Edge(f.id, t.to, ("input", f"✎ {f.input.into}"), "choice", hits))

    rule_nodes: dict[str, Node] = {}
    for r in content.rules:
        gotos = [e for e in r.then if e.kind == "goto" and e.target]
        if not gotos:
            continue
        src = _rule_source(r)
        if src is None or src not in content.fragments:
            src = f"rule:{r.id}"
            hits = None if coverage is None else coverage.rules.get(r.id, 0)
            lines = [f"rule {r.id}", f"on {r.event}"]
            if hits is not None:
                lines.append(f"×{hits}")
            rule_nodes.setdefault(src, Node(src, tuple(lines), "rule", hits=hits))
        hits = None if coverage is None else coverage.rules.get(r.id, 0)
        for e in gotos:
            on_choice = dict(r.filters).get("choice")
            head = [f"rule {r.id}" + (f" on {on_choice}" if isinstance(on_choice, str) else "")]
            if r.cond is not None:
                head.append("if " + _short(summarize(r.cond)))
            label = (*head, *_effect_label("", e)[1:])
            if hits is not None:
                label = (*label, f"×{hits}")
            edges.append(Edge(src, e.target or "", label, "rule", hits))
    nodes += rule_nodes.values()
    return Graph(_short(m.title.get(locale, locale), 80), tuple(nodes), tuple(edges),
                 coverage is not None)


# ---- colours -----------------------------------------------------------------------------

ENDING_FILL = {"good": "#d8f3dc", "bad": "#ffd6d6", "neutral": "#e9ecef", "secret": "#e5dbff"}
ENDING_STROKE = {"good": "#2d6a4f", "bad": "#c1121f", "neutral": "#6c757d", "secret": "#5f3dc4"}
HIT_FILL, MISS_FILL = "#b7e4c7", "#ffb3b3"
RULE_FILL = "#fff3bf"


def _fill(n: Node, coverage: bool) -> str:
    if coverage and n.hits is not None:
        return HIT_FILL if n.hits else MISS_FILL
    if n.kind == "rule":
        return RULE_FILL
    return ENDING_FILL.get(n.ending or "", "#ffffff")


# ---- Mermaid ----------------------------------------------------------------------------

_MERMAID_SPECIAL = re.compile(r'["#&<>|`]')


def mermaid_text(text: str) -> str:
    """Escape one line for a quoted Mermaid label: entity codes for every character Mermaid
    or its HTML labels would read as syntax."""
    text = text.replace("\r", "")
    return _MERMAID_SPECIAL.sub(lambda m: f"#{ord(m.group())};", text)


def _mermaid_label(lines: tuple[str, ...]) -> str:
    return '"' + "<br/>".join(mermaid_text(x) for ln in lines for x in ln.split("\n")) + '"'


def _mermaid_id(node_id: str) -> str:
    # A prefix keeps ids such as `end`, `o…` or `x…` from being read as Mermaid syntax.
    return "r_" + node_id[5:] if node_id.startswith("rule:") else "f_" + node_id


def _comment(text: str) -> str:
    return " ".join(text.split())


def to_mermaid(graph: Graph) -> str:
    out = [f"%% {_comment(graph.title)} — story graph (diana graph)", "flowchart TD"]
    for n in graph.nodes:
        label = _mermaid_label(n.label)
        mid = _mermaid_id(n.id)
        if n.kind == "ending":
            out.append(f"  {mid}([{label}])")
        elif n.kind == "rule":
            out.append(f"  {mid}>{label}]")
        else:
            out.append(f"  {mid}[{label}]")
    arrows = {"solid": "-->", "dashed": "-.->", "dotted": "-.->"}
    rule_links: list[int] = []
    missed_links: list[int] = []
    for i, e in enumerate(graph.edges):
        out.append(f"  {_mermaid_id(e.src)} {arrows[e.style]}|{_mermaid_label(e.label)}| "
                   f"{_mermaid_id(e.dst)}")
        if e.style == "dotted":
            rule_links.append(i)
        elif graph.coverage and e.hits == 0:
            missed_links.append(i)
    if rule_links:
        out.append(f"  linkStyle {','.join(map(str, rule_links))} "
                   "stroke:#b08900,stroke-dasharray:2 4")
    if missed_links:
        out.append(f"  linkStyle {','.join(map(str, missed_links))} stroke:#c1121f")
    classes: dict[str, list[str]] = {}
    styles: dict[str, str] = {}
    for n in graph.nodes:
        if graph.coverage and n.hits is not None:
            name = "hit" if n.hits else "missed"
            styles[name] = f"fill:{_fill(n, True)}"
        elif n.kind == "ending":
            name = f"ending_{n.ending}"
            styles[name] = (f"fill:{ENDING_FILL.get(n.ending or '', '#fff')},"
                            f"stroke:{ENDING_STROKE.get(n.ending or '', '#333')}")
        elif n.kind == "rule":
            name = "rule"
            styles[name] = f"fill:{RULE_FILL}"
        else:
            name = ""
        if name:
            classes.setdefault(name, []).append(_mermaid_id(n.id))
        if n.start:
            classes.setdefault("start", []).append(_mermaid_id(n.id))
            styles["start"] = "stroke-width:3px"
    for name, style in styles.items():
        out.append(f"  classDef {name} {style}")
    for name, ids in classes.items():
        out.append(f"  class {','.join(ids)} {name}")
    return "\n".join(out) + "\n"


# ---- DOT --------------------------------------------------------------------------------


def dot_text(text: str) -> str:
    """Escape one line for a double-quoted DOT string (backslashes would start escapes
    such as \\n or \\N)."""
    return text.replace("\r", "").replace("\\", "\\\\").replace('"', '\\"')


def _dot_label(lines: tuple[str, ...]) -> str:
    return '"' + "\\n".join(dot_text(x) for ln in lines for x in ln.split("\n")) + '"'


def _dot_id(node_id: str) -> str:
    return '"' + dot_text(node_id) + '"'


def to_dot(graph: Graph) -> str:
    out = [
        "digraph story {",
        f"  graph [label={_dot_label((graph.title,))}, labelloc=t, rankdir=TB, "
        'fontname="Helvetica"];',
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", '
        'fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for n in graph.nodes:
        attrs = [f"label={_dot_label(n.label)}"]
        if n.kind == "ending":
            attrs.append("shape=doubleoctagon")
            attrs.append(f'color="{ENDING_STROKE.get(n.ending or "", "#333333")}"')
        elif n.kind == "rule":
            attrs.append('shape=cds, style="filled"')
        fill = _fill(n, graph.coverage)
        if fill != "#ffffff":
            attrs.append(f'fillcolor="{fill}"')
        if n.start:
            attrs.append("penwidth=3")
        out.append(f"  {_dot_id(n.id)} [{', '.join(attrs)}];")
    for e in graph.edges:
        attrs = [f"label={_dot_label(e.label)}"]
        if e.style != "solid":
            attrs.append(f"style={e.style}")
        if e.kind in ("rule", "effect"):
            attrs.append('color="#b08900"')
        elif graph.coverage and e.hits == 0:
            attrs.append('color="#c1121f"')
        out.append(f"  {_dot_id(e.src)} -> {_dot_id(e.dst)} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def render(graph: Graph, fmt: str) -> str:
    if fmt == "dot":
        return to_dot(graph)
    if fmt == "mermaid":
        return to_mermaid(graph)
    raise ValueError(f"unknown graph format `{fmt}`")
