"""A Twee story to Diana content: passages to fragments, links to choices, `set` to
effects on declared stats and flags, `if` to requirements and conditional text. Pure: the
result is the text of every file to write and the report of what was not converted."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.twee.expr import Unsupported, assignments, condition
from engine.twee.ids import make_id
from engine.twee.markup import (
    Goto,
    If,
    LinkNode,
    Node,
    Other,
    Print,
    Set,
    Text,
    parse_body,
)
from engine.twee.parse import Note, Passage, Story
from engine.twee.prose import CODE, CONTROL, MARK, escape, paragraph
from engine.twee.support import NOT_YET, reason
from engine.twee.variables import Req, Variables, number

ENDING_TAGS = ("good", "bad", "neutral", "secret")
INIT_NAMES = ("StoryInit",)
INIT_TAGS = ("startup",)
SPECIAL_NAMES = (
    "StoryMenu", "StoryCaption", "StoryBanner", "StorySubtitle", "StoryAuthor",
    "StoryInterface", "StoryShare", "PassageReady", "PassageDone", "PassageHeader",
    "PassageFooter", "StoryIncludes", "StorySettings",
)
SPECIAL_TAGS = ("script", "stylesheet", "widget", "header", "footer", "debug-header",
                "debug-footer", "debug-startup", "Twine.private")
_HARLOWE_HINT = re.compile(r"\((?:set|if|link-goto|goto|print|put|else):")


@dataclass(frozen=True)
class Unconverted:
    """A construct left out, where it stands."""

    file: str
    line: int
    passage: str
    construct: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class Conversion:
    manifest: dict[str, Any]
    story_files: dict[str, dict[str, Any]]  # relative path -> {"fragments": {...}}
    declarations: dict[str, Any]  # {"stats": ..., "flags": ...}, empty when none
    unconverted: tuple[Unconverted, ...]
    notes: tuple[Note, ...]
    fragment_of: dict[str, str]  # passage name -> fragment id
    endings: tuple[str, ...]  # fragment ids
    harlowe: bool

    @property
    def fragments(self) -> int:
        return sum(len(f["fragments"]) for f in self.story_files.values())

    @property
    def choices(self) -> int:
        return sum(len(fr.get("choices", [])) for f in self.story_files.values()
                   for fr in f["fragments"].values())


def is_harlowe(story: Story) -> bool:
    """The story format from StoryData; without one, Harlowe when its macros show up."""
    fmt = str(story.data.get("format", "")).lower()
    if fmt:
        return "harlowe" in fmt
    return any(_HARLOWE_HINT.search(p.text) for p in story.passages) and not any(
        "<<" in p.text for p in story.passages)


def _kind_of(p: Passage) -> str:
    if p.name in INIT_NAMES or set(p.tags) & set(INIT_TAGS):
        return "init"
    if p.name in SPECIAL_NAMES or set(p.tags) & set(SPECIAL_TAGS):
        return "special"
    return "story"


@dataclass
class _Page:
    """What one passage becomes while it is walked."""

    passage: Passage
    fid: str
    parts: list[tuple[tuple[str, ...], list[str]]] = field(default_factory=list)
    reqs: dict[str, Req] = field(default_factory=dict)  # key of a condition -> requirement
    labels: list[str] = field(default_factory=list)
    choices: list[dict[str, Any]] = field(default_factory=list)
    choice_ids: set[str] = field(default_factory=set)
    on_enter: list[dict[str, Any]] = field(default_factory=list)

    def write(self, conds: tuple[str, ...], text: str) -> None:
        if text == CODE and self.parts:  # a mark on the line, under whatever condition
            self.parts[-1][1].append(text)
            return
        if not self.parts or self.parts[-1][0] != conds:
            self.parts.append((conds, []))
        self.parts[-1][1].append(text)


class _Converter:
    def __init__(self, story: Story) -> None:
        self.story = story
        self.harlowe = is_harlowe(story)
        self.unconverted: list[Unconverted] = []
        self.notes: list[Note] = list(story.notes)
        self.trees: dict[str, list[Node]] = {
            p.name: parse_body(p.text, p.line + 1, self.harlowe) for p in story.passages}
        self.vars = Variables.of(self.trees.values(), self.harlowe)
        taken: set[str] = set()
        self.fragment_of = {p.name: make_id(p.name, taken, "passage")
                            for p in story.passages if _kind_of(p) == "story"}

    def report(self, p: Passage, line: int, construct: str, key: str, detail: str = "") -> None:
        self.unconverted.append(Unconverted(p.file, line, p.name, construct, reason(key),
                                            detail))

    # ---- conditions --------------------------------------------------------------------

    def _req(self, page: _Page, text: str, negate: bool = False) -> Req:
        req = self.vars.requirement(condition(text), page.fid, self.fragment_of)
        return {"not": req} if negate else req

    def _when(self, page: _Page, conds: tuple[str, ...]) -> Req | None:
        reqs = [page.reqs[c] for c in conds]
        if not reqs:
            return None
        return reqs[0] if len(reqs) == 1 else {"all": reqs}

    # ---- the walk --------------------------------------------------------------------------

    def walk(self, page: _Page, nodes: list[Node], conds: tuple[str, ...],
             quiet: bool = False) -> None:
        p = page.passage
        i = 0
        while i < len(nodes):
            n = nodes[i]
            i += 1
            if isinstance(n, If) and not quiet:
                used = self._inline_if(page, n, nodes, i, conds)
                if used >= 0:
                    i += used
                    continue
            if not quiet and not isinstance(n, Text | Print | LinkNode):
                page.write(conds, CODE)  # a line of only such nodes is no line of prose
            if isinstance(n, Text):
                if not quiet:
                    page.write(conds, escape(n.text))
            elif isinstance(n, Print):
                self._print(page, n, conds, quiet)
            elif isinstance(n, Set):
                try:
                    for e in self.vars.effects(n.expr):
                        when = self._when(page, conds)
                        page.on_enter.append({**e, "if": when} if when else e)
                except Unsupported as exc:
                    self.report(p, n.line, n.construct, exc.key, n.expr)
            elif isinstance(n, LinkNode):
                self._link(page, n, conds, quiet)
            elif isinstance(n, Goto):
                if n.target is None:
                    self.report(p, n.line, n.construct, "goto", n.raw)
                else:
                    self._choice(page, n, "Continue", n.target, [], conds, quiet=True)
            elif isinstance(n, If):
                self._if(page, n, conds, quiet)
            else:
                self._other(page, n, conds, quiet)

    def _print(self, page: _Page, n: Print, conds: tuple[str, ...], quiet: bool) -> None:
        var = n.var.strip()
        try:
            if not re.fullmatch(r"\$[A-Za-z_]\w*", var):
                raise Unsupported("property" if var.startswith("$") and re.match(
                    r"\$\w+[.\[]", var) else "expression", var)
            ident = self.vars.declared(var)
            if self.vars.kind(var) == "boolean":
                raise Unsupported("flag shown", var)
        except Unsupported as exc:
            self.report(page.passage, n.line, n.construct, exc.key, exc.detail)
            if not quiet:
                page.write(conds, escape(var))
            return
        if not quiet:
            page.write(conds, f"{{stat.{ident}}}")

    def _if(self, page: _Page, n: If, conds: tuple[str, ...], quiet: bool) -> None:
        try:
            keys = self._branch_keys(page, n, conds)
        except Unsupported as exc:
            self.report(page.passage, n.line, n.construct, exc.key,
                        (exc.detail or "") + "; every branch kept unconditionally")
            keys = [conds] * len(n.branches)
        for (_, body), key in zip(n.branches, keys, strict=True):
            self.walk(page, body, key, quiet)

    def _words(self, page: _Page, nodes: list[Node]) -> str | None:
        """The text of prose-only nodes (text and printed variables), else None."""
        out = []
        for n in nodes:
            if isinstance(n, Text):
                out.append(escape(n.text))
            elif isinstance(n, Print):
                scratch = _Page(page.passage, page.fid)
                self._print(scratch, n, (), False)
                out.append("".join(c for _, chunks in scratch.parts for c in chunks))
            else:
                return None
        return "".join(out)

    def _inline_if(self, page: _Page, n: If, nodes: list[Node], start: int,
                   conds: tuple[str, ...]) -> int:
        """An `if` of prose inside a line ("The study is warm<<if …>>, and …<</if>>."):
        each branch becomes a conditional paragraph holding the whole line. Returns how
        many nodes after `n` the line used, or -1 when `n` is not such an `if`."""
        last = page.parts[-1] if page.parts and page.parts[-1][0] == conds else None
        before = "".join(last[1]) if last else ""
        prefix = before.rpartition("\n")[2]
        if MARK.search(prefix):
            return -1
        branch_text = []
        for _, body in n.branches:
            if any(not isinstance(m, Text | Print) for m in body):
                return -1
            branch_text.append(body)
        suffix_nodes: list[Node] = []
        rest: str | None = None
        for m in nodes[start:]:
            if not isinstance(m, Text):
                if isinstance(m, Print):
                    suffix_nodes.append(m)
                    continue
                break
            head, newline, tail = m.text.partition("\n")
            suffix_nodes.append(Text(head, m.line))
            if newline:
                rest = tail
                break
        suffix = self._words(page, suffix_nodes) or ""
        if not prefix.strip() and not suffix.strip():
            return -1
        try:
            keys = self._branch_keys(page, n, conds)
        except Unsupported as exc:
            self.report(page.passage, n.line, n.construct, exc.key,
                        (exc.detail or "") + "; every branch kept unconditionally")
            return -1
        if last is not None:
            last[1][:] = [before[: len(before) - len(prefix)]]
        bodies = [self._words(page, body) or "" for body in branch_text]
        if n.branches[-1][0] is not None:  # no else: the line as it reads without the if
            earlier = [page.reqs[k[-1]] for k in keys if k != conds]
            key = f"{id(n)}:none"
            page.reqs[key] = {"all": [{"not": r} for r in earlier]} if len(earlier) > 1 \
                else {"not": earlier[0]}
            keys.append((*conds, key))
            bodies.append("")
        for key, body in zip(keys, bodies, strict=True):
            page.write(key, prefix + body + suffix)
        used = len(suffix_nodes)
        if rest is not None:
            nodes[start + used - 1] = Text(rest, nodes[start + used - 1].line)  # type: ignore[union-attr]
            used -= 1
        return used

    def _branch_keys(self, page: _Page, n: If, conds: tuple[str, ...]) -> list[tuple[str, ...]]:
        """The condition keys of each branch of `n` (each branch: not the earlier ones, and
        its own condition); raises Unsupported when a condition cannot be said."""
        earlier: list[Req] = []
        keys: list[tuple[str, ...]] = []
        for i, (cond, _) in enumerate(n.branches):
            this = None if cond is None else self._req(page, cond, n.negate_first and i == 0)
            parts = [{"not": r} for r in earlier] + ([this] if this else [])
            if this is not None:
                earlier.append(this)
            if not parts:
                keys.append(conds)
                continue
            key = f"{id(n)}:{i}"
            page.reqs[key] = parts[0] if len(parts) == 1 else {"all": parts}
            keys.append((*conds, key))
        return keys

    def _other(self, page: _Page, n: Node, conds: tuple[str, ...], quiet: bool) -> None:
        assert isinstance(n, Other)
        p = page.passage
        if n.name in ("nobr", "silently"):
            self.walk(page, n.body, conds, quiet or n.name == "silently")
            return
        key = n.construct if n.construct in NOT_YET else "code" if n.drop else "macro"
        self.report(p, n.line, n.construct, key, n.args)
        if not n.drop:
            self.walk(page, n.body, conds, quiet)

    def _link(self, page: _Page, n: LinkNode, conds: tuple[str, ...], quiet: bool) -> None:
        p = page.passage
        effects: list[dict[str, Any]] = []
        target = n.target
        if n.bad_target is not None:
            self.report(p, n.line, n.construct, "link target", n.bad_target)
            return
        if n.setter:
            try:
                effects += self.vars.effects(n.setter)
            except Unsupported as exc:
                self.report(p, n.line, "[[link][setter]]", exc.key, n.setter)
        target = self._link_body(page, n, n.body, (), effects, target)
        self._choice(page, n, n.label, target, effects, conds, quiet)

    def _link_body(self, page: _Page, link: LinkNode, nodes: list[Node], inner: tuple[str, ...],
                   effects: list[dict[str, Any]], target: str | None) -> str | None:
        """Effects and target of a link macro's body (`<<link>>…<</link>>`, `(link:)[…]`)."""
        p = page.passage
        for n in nodes:
            if isinstance(n, Text) and not n.text.strip():
                continue
            if isinstance(n, Set):
                try:
                    for e in self.vars.effects(n.expr):
                        when = self._when(page, inner)
                        effects.append({**e, "if": when} if when else e)
                except Unsupported as exc:
                    self.report(p, n.line, n.construct, exc.key, n.expr)
            elif isinstance(n, Goto) and n.target is not None and not inner:
                target = n.target
            elif isinstance(n, If) and not any(isinstance(m, Goto | LinkNode | Text) and (
                    not isinstance(m, Text) or m.text.strip())
                    for _, body in n.branches for m in body):
                try:
                    keys = self._branch_keys(page, n, inner)
                    for (_, body), key in zip(n.branches, keys, strict=True):
                        target = self._link_body(page, link, body, key, effects, target)
                except Unsupported as exc:
                    self.report(p, n.line, n.construct, exc.key, exc.detail)
            else:
                construct = getattr(n, "construct", "text")
                self.report(p, getattr(n, "line", link.line), f"{construct} in {link.construct}",
                            "macro", "only set and goto are converted in a link's body")
        return target

    def _choice(self, page: _Page, n: LinkNode | Goto, label: str, target: str | None,
                effects: list[dict[str, Any]], conds: tuple[str, ...], quiet: bool) -> None:
        p = page.passage
        goto = None
        if target is not None:
            goto = self.fragment_of.get(target)
            if goto is None:
                self.report(p, n.line, n.construct, "missing passage", target)
                return
        label = CONTROL.sub("", label).strip() or target or "Continue"
        choice: dict[str, Any] = {"id": make_id(label, page.choice_ids, "choice"),
                                  "text": escape(label)}
        if goto is not None:
            choice["goto"] = goto
        when = self._when(page, conds)
        if when is not None:
            choice["requires"] = when
            choice["when_locked"] = "hide"
        if effects:
            choice["effects"] = effects
        page.choices.append(choice)
        if not quiet:
            page.labels.append(label)
            page.write(conds, f"\x00{len(page.labels) - 1}\x01")

    # ---- passages --------------------------------------------------------------------------

    def fragment(self, p: Passage) -> dict[str, Any]:
        page = _Page(p, self.fragment_of[p.name])
        self.walk(page, self.trees[p.name], ())
        node: dict[str, Any] = {"title": escape(p.name)}
        paragraphs = []
        for conds, chunks in page.parts:
            text = paragraph("".join(chunks), page.labels)
            if not text:
                continue
            when = self._when(page, conds)
            paragraphs.append({"if": when, "text": text} if when else text)
        if not paragraphs:
            node["text"] = escape(p.name)
        elif len(paragraphs) == 1 and isinstance(paragraphs[0], str):
            node["text"] = paragraphs[0]
        else:
            node["text"] = paragraphs
        if page.on_enter:
            node["on_enter"] = page.on_enter
        tags = [CONTROL.sub("", t) for t in p.tags if t not in ENDING_TAGS]
        if page.choices:
            node["choices"] = page.choices
        else:
            node["ending"] = next((t for t in p.tags if t in ENDING_TAGS), "neutral")
        if tags:
            node["tags"] = tags
        return node

    def initial_values(self) -> tuple[dict[str, float], dict[str, bool]]:
        stats: dict[str, float] = {}
        flags: dict[str, bool] = {}
        for p in self.story.passages:
            if _kind_of(p) != "init":
                continue
            for n in self.trees[p.name]:
                if isinstance(n, Text) and not n.text.strip():
                    continue
                if not isinstance(n, Set):
                    self.report(p, getattr(n, "line", p.line), getattr(n, "construct", "text"),
                                "initial value")
                    continue
                try:
                    for var, op, value in assignments(n.expr, self.harlowe):
                        ident = self.vars.declared(var)
                        if op != "set":
                            raise Unsupported("initial value", n.expr)
                        if self.vars.kind(var) == "boolean":
                            flags[ident] = bool(value)
                        else:
                            stats[ident] = number(value)
                except Unsupported as exc:
                    self.report(p, n.line, n.construct, exc.key, n.expr)
        return stats, flags

    def run(self) -> Conversion:
        story = self.story
        start = self._start()
        stats0, flags0 = self.initial_values()
        files: dict[str, dict[str, Any]] = {}
        file_names: dict[str, str] = {}
        taken_files: set[str] = set()
        endings = []
        for p in story.passages:
            kind = _kind_of(p)
            if kind == "special":
                self.report(p, p.line, f":: {p.name}" + (f" [{' '.join(p.tags)}]"
                                                         if p.tags else ""), "special passage")
                continue
            if kind == "init":
                continue
            if p.file not in file_names:
                stem = re.sub(r"\.(twee|tw|txt)$", "", p.file.rsplit("/", 1)[-1], flags=re.I)
                file_names[p.file] = f"story/{make_id(stem, taken_files, 'story')}.yaml"
            frag = self.fragment(p)
            if "ending" in frag:
                endings.append(self.fragment_of[p.name])
            files.setdefault(file_names[p.file], {"fragments": {}})["fragments"][
                self.fragment_of[p.name]] = frag
        manifest = {
            "format": 1, "version": "1.0.0",
            "title": escape(story.title or "Imported story"),
            "start": start,
            "currency": {"id": "points", "name": "Points"},
        }
        decls: dict[str, Any] = {}
        for var, ident in self.vars.ids.items():
            if self.vars.kinds[var] == "number":
                entry: dict[str, Any] = {"name": var[1:]}
                if ident in stats0 and stats0[ident] != 0:
                    entry["initial"] = number(stats0[ident])
                decls.setdefault("stats", {})[ident] = entry
            else:
                flag: dict[str, Any] = {"description": var}
                if flags0.get(ident):
                    flag["initial"] = True
                decls.setdefault("flags", {})[ident] = flag
        return Conversion(manifest, files, decls, tuple(self.unconverted), tuple(self.notes),
                          dict(self.fragment_of), tuple(endings), self.harlowe)

    def _start(self) -> str:
        named = self.story.data.get("start")
        stories = [p for p in self.story.passages if _kind_of(p) == "story"]
        if not stories:
            raise Unsupported("special passage", "no story passage")
        if isinstance(named, str) and named in self.fragment_of:
            return self.fragment_of[named]
        if isinstance(named, str):
            first = stories[0]
            self.notes.append(Note(first.file, first.line, f"StoryData's start passage `{named}`"
                                   f" does not exist; the story starts at `{first.name}`"))
        if "Start" in self.fragment_of:
            return self.fragment_of["Start"]
        return self.fragment_of[stories[0].name]


def convert(story: Story) -> Conversion:
    """Diana content for `story`. Raises Unsupported only when the story has no passage a
    player could read (every passage is a special one)."""
    return _Converter(story).run()


def summary(items: Iterable[Unconverted]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for u in items:
        counts[u.construct] = counts.get(u.construct, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
