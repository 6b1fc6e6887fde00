"""The story graph and the rule graph: reachability, dead ends, loops, cycles."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from engine.catalog import diag
from engine.diagnostics import Diagnostic
from engine.lint.registry import check
from engine.load import LoadResult
from engine.model import Content, Effect, Rule
from engine.walk import goto_targets


def reachable_fragments(content: Content) -> set[str]:
    """Fragments reachable from start through gotos, ignoring requirements."""
    rule_gotos = {e.target for r in content.rules for e in r.then if e.kind == "goto"}
    start = content.manifest.start
    seen = {start, *(t for t in rule_gotos if t)} & set(content.fragments)
    queue = deque(seen)
    while queue:
        f = content.fragments[queue.popleft()]
        nxt = set(goto_targets(f))
        nxt |= {e.target for e in (*f.on_enter, *f.on_first_enter) if e.kind == "goto"}
        nxt |= {e.target for c in f.choices for e in c.effects if e.kind == "goto"}
        for n in nxt:
            if n in content.fragments and n not in seen:
                seen.add(n)
                queue.append(n)
    return {s for s in seen if isinstance(s, str)}


@check
def unreachable(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    if content.manifest.start not in content.fragments:
        return  # unknown-start already explains why nothing is reachable
    reached = reachable_fragments(content)
    for f in content.fragments.values():
        if f.id not in reached:
            yield diag("G001", f"fragment `{f.id}` cannot be reached from "
                       f"`{content.manifest.start}`", f.loc,
                       "add a choice that goes here, or remove the fragment")


@check
def dead_ends_and_endings(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    for f in content.fragments.values():
        moves = any(e.kind == "goto" for e in (*f.on_enter, *f.on_first_enter))
        if f.ending is None and not f.choices and not moves:
            yield diag("G002", f"fragment `{f.id}` has no choices and is not an ending", f.loc,
                       "add a choice, or mark it `ending: good|bad|neutral|secret`")
        if f.ending is not None and f.choices:
            yield diag("G003", f"ending `{f.id}` has choices; endings offer only a restart",
                       f.choices[0].loc, "remove the choices or the `ending:` key")


@check
def choice_sets(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    default = content.manifest.default_locale
    for f in content.fragments.values():
        ids: dict[str, str] = {}
        labels: dict[str, str] = {}
        for c in f.choices:
            if c.id in ids:
                yield diag("C001", f"choice id `{c.id}` appears twice in `{f.id}`", c.loc,
                           "choice ids must be unique within a fragment")
            ids.setdefault(c.id, c.id)
            label = c.text.get(default, default).strip().casefold()
            if label in labels:
                yield diag("C002", f"choices `{labels[label]}` and `{c.id}` of `{f.id}` have the"
                           " same label", c.text.loc, "players cannot tell them apart")
            labels.setdefault(label, c.id)
        if f.choices and all(c.when_locked == "hide" and c.requires for c in f.choices):
            yield diag("G004", f"every choice of `{f.id}` is hidden when locked, so a player can"
                       " be left with none", f.loc,
                       "give one choice no requirement, or `when_locked: show`")


@check
def self_loops(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    chosen = {dict(r.filters).get("choice") for r in content.rules if r.event == "choice"}
    for f in content.fragments.values():
        for c in f.choices:
            stays = not c.targets or all(t.to == f.id for t in c.targets)
            reenters = bool(c.targets) and bool(f.on_enter)
            if stays and not c.effects and not c.cost and not reenters and c.id not in chosen:
                yield diag("G005", f"choice `{c.id}` stays in `{f.id}` and changes nothing",
                           c.loc, "give it a goto or an effect")


# Which event each effect raises, and the field a rule's filter would compare.
_RAISES = {
    "award": ("award", None), "spend": ("spend", None), "set": ("flag", "flag"),
    "clear": ("flag", "flag"), "give": ("item", "item"), "take": ("item", "item"),
    "stat": ("stat", "stat"), "unlock": ("unlock", "achievement"), "goto": ("enter", "fragment"),
}


def _raised(effect: Effect) -> tuple[str, str | None]:
    if effect.kind == "emit":
        return str(effect.target), None
    return _RAISES[effect.kind]


def _triggers(a: Rule, b: Rule) -> bool:
    """Can firing `a` raise an event that `b` listens to? Filters narrow it when they can."""
    if b.once:
        return False  # a once-rule cannot take part in a runaway chain
    filters = dict(b.filters)
    for e in a.then:
        event, field = _raised(e)
        also = {"award", "level_up"} if event in ("unlock", "award") else set()
        if b.event == event:
            want = filters.get(field) if field else None
            if want is None or not isinstance(want, str) or want == e.target:
                return True
        elif b.event in also:
            return True
    return False


@check
def rule_cycles(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    rules = list(content.rules)
    edges = {a.id: [b.id for b in rules if _triggers(a, b)] for a in rules}
    by_id = {r.id: r for r in rules}
    reported: set[frozenset[str]] = set()
    for start in rules:
        # depth-first search for a path back to `start`
        stack: list[tuple[str, list[str]]] = [(start.id, [start.id])]
        while stack:
            node, path = stack.pop()
            for nxt in edges[node]:
                if nxt == start.id:
                    key = frozenset(path)
                    if key not in reported:
                        reported.add(key)
                        cycle = " -> ".join([*path, start.id])
                        yield diag("G006", f"rules can trigger each other forever: {cycle}",
                                   by_id[min(path, key=lambda r: by_id[r].order)].loc,
                                   "add `once: true`, a filter, or an `if:` that the chain"
                                   " makes false")
                elif nxt not in path and len(path) < 8:
                    stack.append((nxt, [*path, nxt]))
