"""The story graph and the rule graph: reachability, dead ends, loops, cycles."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from engine.catalog import diag
from engine.diagnostics import Diagnostic
from engine.lint.events import Emission, Token, Values, may_match, rule_effects
from engine.lint.registry import check
from engine.load import LoadResult
from engine.model import (
    INPUT_CHOICE,
    All,
    AnyOf,
    Compare,
    Content,
    Effect,
    Fragment,
    Has,
    Not,
    Rule,
)
from engine.walk import goto_targets, requirements


def reachable_from(content: Content, starts: set[str]) -> set[str]:
    """Fragments reachable from `starts` through gotos, ignoring requirements."""
    seen = {s for s in starts if s in content.fragments}
    queue = deque(seen)
    while queue:
        f = content.fragments[queue.popleft()]
        nxt = set(goto_targets(f))
        nxt |= {str(e.target) for e in (*f.on_enter, *f.on_first_enter) if e.kind == "goto"}
        nxt |= {str(e.target) for c in f.choices for e in c.effects if e.kind == "goto"}
        for n in nxt:
            if n in content.fragments and n not in seen:
                seen.add(n)
                queue.append(n)
    return seen


def reachable_fragments(content: Content) -> set[str]:
    """Fragments reachable from start (or a rule's goto, or a menu) through gotos."""
    rule_gotos = {str(e.target) for r in content.rules for e in r.then if e.kind == "goto"}
    # a menu opens from any page
    return reachable_from(content, {content.manifest.start, *rule_gotos, *content.menus})


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


def _always(effects: tuple[Effect, ...]) -> Effect | None:
    """A goto among `effects` that always runs: no `if:` and no `chance:`."""
    return next((e for e in effects if e.kind == "goto" and e.cond is None and e.chance is None),
                None)


def _rule_moves_on(content: Content, f: Fragment) -> bool:
    """A rule that fires on every entry into `f` and always moves the player on."""
    return any(
        r.event == "enter" and not r.once and r.cond is None and _always(r.then)
        and may_match(r, "enter", {"fragment": Values.of(f.id)})
        for r in content.rules
    )


@check
def dead_ends_and_endings(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    for f in content.fragments.values():
        # Story effects cannot `goto` (the schema allows it in rules only), so the one way
        # out of a fragment without choices is a rule that fires on every entry into it and
        # always moves the player on.
        if f.ending is None and not f.choices and f.input is None and f.menu is None \
                and not _rule_moves_on(content, f):
            yield diag("G002", f"fragment `{f.id}` has no choices and is not an ending", f.loc,
                       "add a choice, or mark it `ending: good|bad|neutral|secret`")
        if f.ending is not None and (f.choices or f.input is not None):
            where = f.choices[0].loc if f.choices else f.input.loc  # type: ignore[union-attr]
            yield diag("G003", f"ending `{f.id}` has choices; endings offer only a restart",
                       where, "remove the choices or the `ending:` key")


@check
def choice_sets(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    default = content.manifest.default_locale
    for f in content.fragments.values():
        ids: dict[str, str] = {INPUT_CHOICE: INPUT_CHOICE} if f.input is not None else {}
        labels: dict[str, str] = {}
        for c in f.choices:
            if c.id in ids:
                yield diag("C001", f"choice id `{c.id}` appears twice in `{f.id}`"
                           + (" (an answer to its input is the choice `input`)"
                              if c.id == INPUT_CHOICE else ""), c.loc,
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


def _reads_visits(content: Content, fragment: str) -> bool:
    """Does any requirement compare how often `fragment` was visited?"""
    return any(isinstance(r, Compare) and r.subject == "visited" and r.ref == fragment
               and r.cmp != (("gte", 1),) for _, r in requirements(content))


@check
def self_loops(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    for f in content.fragments.values():
        for c in f.choices:
            if c.targets and any(t.to != f.id for t in c.targets):
                continue  # it can lead elsewhere
            if c.effects or c.cost or c.once:
                continue
            event = {"fragment": Values.of(f.id), "choice": Values.of(c.id)}
            if any(may_match(r, "choice", event) for r in content.rules):
                continue  # a rule reacts to the choice
            if c.targets:  # re-entering runs on_enter, raises `enter`, counts a visit
                entered = {"fragment": Values.of(f.id)}
                if (f.on_enter or _reads_visits(content, f.id)
                        or any(may_match(r, "enter", entered) for r in content.rules)):
                    continue
            how = "goes back to" if c.targets else "stays in"
            yield diag("G005", f"choice `{c.id}` {how} `{f.id}` and changes nothing", c.loc,
                       "give it an effect, a cost or `once: true`, or a goto elsewhere")


def _components(nodes: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan), each in the order of `nodes`."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    order = {n: i for i, n in enumerate(nodes)}

    def visit(v: str) -> None:
        # iterative Tarjan: rules are few, but recursion depth must not depend on content
        work = [(v, iter(sorted(edges[v], key=order.__getitem__)))]
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    out.append(sorted(comp, key=order.__getitem__))
            elif nxt not in index:
                index[nxt] = low[nxt] = len(index)
                stack.append(nxt)
                on_stack.add(nxt)
                work.append((nxt, iter(sorted(edges[nxt], key=order.__getitem__))))
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])

    for n in nodes:
        if n not in index:
            visit(n)
    return out


def _shortest_cycle(start: str, edges: dict[str, set[str]], order: dict[str, int]
                    ) -> list[str]:
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(edges[node], key=order.__getitem__):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return path[::-1]
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return [start]


def _downstream(start: str, after: dict[str, set[str]]) -> set[str]:
    """The rules `start` can fire, directly or through others, and itself."""
    seen, queue = {start}, [start]
    while queue:
        for b in after.get(queue.pop(), ()):
            if b not in seen:
                seen.add(b)
                queue.append(b)
    return seen


def _guards_itself(rule: Rule, later: set[Token]) -> bool:
    """The rule's `if:` turns false when the rule fires, and stays false for the rest of
    the chain: the rule itself always sets a flag its `if:` needs unset (or clears one it
    needs set), and nothing it can go on to fire (`later`: their effects) undoes that."""
    always = [e for e in rule.then if e.cond is None and e.chance is None]
    sets = {str(e.target) for e in always if e.kind == "set"}
    clears = {str(e.target) for e in always if e.kind == "clear"}

    def fails(req: object) -> bool:
        if isinstance(req, Not) and isinstance(req.item, Has) and req.item.subject == "flag":
            return req.item.ref in sets and ("clear", req.item.ref) not in later
        if isinstance(req, Has) and req.subject == "flag":
            return req.ref in clears and ("set", req.ref) not in later
        if isinstance(req, All):
            return any(fails(r) for r in req.items)
        if isinstance(req, AnyOf):
            return all(fails(r) for r in req.items)
        return False

    return rule.cond is not None and fails(rule.cond)


@check
def rule_cycles(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    """Rules that can fire each other without end. A link a -> b exists when an effect of
    `a` raises an event `b`'s `when:` can match; it counts only if that event can be raised
    again and again given the other effects of the loop (see engine.lint.events)."""
    rules = list(content.rules)
    ids = [r.id for r in rules]
    order = {r.id: i for i, r in enumerate(rules)}
    made = {r.id: rule_effects(content, r) for r in rules}
    links: dict[tuple[str, str], list[Emission]] = {}
    listeners: dict[str, list[Rule]] = {}
    for b in rules:
        listeners.setdefault(b.event, []).append(b)
    for a in rules:
        for em in made[a.id].emissions:
            for b in listeners.get(em.event, ()):
                if may_match(b, em.event, em.fields):
                    links.setdefault((a.id, b.id), []).append(em)
    # A rule that fires at most once per chain cannot take part in a loop: a once-rule,
    # and one whose `if:` its own firing turns false for good.
    after: dict[str, set[str]] = {}
    for a, b in links:
        after.setdefault(a, set()).add(b)
    single = {r.id for r in rules if r.once or (r.cond is not None and _guards_itself(
        r, set().union(*(made[x].tokens for x in _downstream(r.id, after)))))}
    links = {k: ems for k, ems in links.items() if k[1] not in single}
    active = {k for k, ems in links.items() if any(em.renews is not False for em in ems)}
    tokens: list[set[Token]] = []
    while True:
        edges: dict[str, set[str]] = {i: set() for i in ids}
        for a, b in active:
            edges[a].add(b)
        comps = _components(ids, edges)
        where = {r: n for n, comp in enumerate(comps) for r in comp}
        tokens = [set().union(*(made[r].tokens for r in comp)) for comp in comps]
        kept = {(a, b) for a, b in active if where[a] == where[b]
                and any(em.renewable(tokens[where[a]]) for em in links[(a, b)])}
        if kept == active:
            break
        active = kept
    for comp in sorted(comps, key=lambda c: order[c[0]]):
        first = comp[0]
        if len(comp) == 1 and first not in edges[first]:
            continue
        cycle = _shortest_cycle(first, edges, order)
        steps = []
        for a, b in zip(cycle, [*cycle[1:], first], strict=True):
            em = next(em for em in links[(a, b)] if em.renewable(tokens[where[a]]))
            steps.append(f"`{a}` {em.what}, which fires `{b}`")
        others = [r for r in comp if r not in cycle]
        more = f" (also involved: {', '.join(f'`{r}`' for r in others)})" if others else ""
        yield diag("G006", "rules can fire each other without end: " + "; ".join(steps) + more,
                   content.rules[order[first]].loc,
                   "add `once: true` to one of these rules, or a `when:` filter that the loop's"
                   " events do not match; at play time the action is rejected after"
                   f" {content.manifest.max_chain} firings")
