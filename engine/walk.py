"""Traversals of the model shared by lint, the rules compiler and the simulator."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from engine.model import (
    All,
    AnyOf,
    Choice,
    Content,
    Effect,
    Fragment,
    Not,
    Requirement,
    Rule,
    Text,
)


@dataclass(frozen=True)
class Owner:
    """Where a piece of content hangs: a fragment, a choice of it, or a rule."""

    fragment: Fragment | None = None
    choice: Choice | None = None
    rule: Rule | None = None

    def __str__(self) -> str:
        if self.rule is not None:
            return f"rule `{self.rule.id}`"
        if self.choice is not None and self.fragment is not None:
            return f"choice `{self.choice.id}` of `{self.fragment.id}`"
        if self.fragment is not None:
            return f"fragment `{self.fragment.id}`"
        return "the manifest"


T = TypeVar("T")


def _once_per_content(walk: Callable[[Content], Iterator[T]]) -> Callable[[Content], Iterator[T]]:
    """Walk each content once: a content is immutable, and lint walks the same one many
    times (every check that looks at effects, requirements or texts). The result is kept
    while the content lives."""
    walked: dict[int, tuple[weakref.ref[Content], tuple[T, ...]]] = {}

    def forget(ref: weakref.ref[Content], key: int) -> None:
        if walked.get(key, (None,))[0] is ref:
            del walked[key]

    @functools.wraps(walk)
    def cached(content: Content) -> Iterator[T]:
        key = id(content)
        hit = walked.get(key)
        if hit is not None and hit[0]() is content:
            return iter(hit[1])
        items = tuple(walk(content))
        walked[key] = (weakref.ref(content, lambda ref: forget(ref, key)), items)
        return iter(items)

    return cached


def requirement_nodes(req: Requirement | None) -> Iterator[Requirement]:
    if req is None:
        return
    yield req
    if isinstance(req, All | AnyOf):
        for r in req.items:
            yield from requirement_nodes(r)
    elif isinstance(req, Not):
        yield from requirement_nodes(req.item)


@_once_per_content
def effects(content: Content) -> Iterator[tuple[Owner, Effect]]:
    for f in content.fragments.values():
        for e in (*f.on_enter, *f.on_first_enter):
            yield Owner(f), e
        for c in f.choices:
            for e in c.effects:
                yield Owner(f, c), e
        if f.input is not None:
            for e in f.input.choice.effects:
                yield Owner(f, f.input.choice), e
    for r in content.rules:
        for e in r.then:
            yield Owner(rule=r), e


@_once_per_content
def requirement_roots(content: Content) -> Iterator[tuple[Owner, Requirement]]:
    """Every top-level requirement (a choice's `requires`, a rule's or effect's `if`, a
    paragraph's `if`) with its owner."""
    for f in content.fragments.values():
        for p in f.text:
            if p.cond is not None:
                yield Owner(f), p.cond
        for c in f.choices:
            if c.requires is not None:
                yield Owner(f, c), c.requires
    for r in content.rules:
        if r.cond is not None:
            yield Owner(rule=r), r.cond
    for owner, e in effects(content):
        if e.cond is not None:
            yield owner, e.cond


@_once_per_content
def requirements(content: Content) -> Iterator[tuple[Owner, Requirement]]:
    """Every requirement node (nested ones included) with its owner."""
    for owner, root in requirement_roots(content):
        for node in requirement_nodes(root):
            yield owner, node


@_once_per_content
def texts(content: Content) -> Iterator[tuple[str, Text]]:
    """Every text a player can see, with what it is."""
    m = content.manifest
    yield "title", m.title
    yield "currency name", m.currency.name
    for lv in m.levels:
        yield f"level {lv.level} name", lv.name
    for f in content.fragments.values():
        if f.title is not None:
            yield f"title of `{f.id}`", f.title
        for p in f.text:
            yield f"text of `{f.id}`", p.text
            if p.otherwise is not None:
                yield f"text of `{f.id}`", p.otherwise
        for c in f.choices:
            yield f"label of `{f.id}.{c.id}`", c.text
            if c.locked_text is not None:
                yield f"locked text of `{f.id}.{c.id}`", c.locked_text
        if f.input is not None and f.input.invalid_text is not None:
            yield f"invalid text of the input of `{f.id}`", f.input.invalid_text
    for a in content.achievements.values():
        yield f"name of achievement `{a.id}`", a.name
        if a.description is not None:
            yield f"description of achievement `{a.id}`", a.description
    for i in content.items.values():
        yield f"name of item `{i.id}`", i.name
        if i.description is not None:
            yield f"description of item `{i.id}`", i.description
    for s in content.stats.values():
        if s.name is not None:
            yield f"name of stat `{s.id}`", s.name
    for v in content.strings.values():
        if v.name is not None:
            yield f"name of string variable `{v.id}`", v.name


def goto_targets(fragment: Fragment) -> Iterator[str]:
    """Fragments a player can move to from `fragment` through its choices (and its
    input)."""
    for c in fragment.choices:
        for t in c.targets:
            yield t.to
    if fragment.input is not None:
        for t in fragment.input.choice.targets:
            yield t.to
