"""The immutable, typed model of a story: what the loader builds and the engine reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from engine.diagnostics import Loc

NOWHERE = Loc("", 0, 0)


def frozen_map(d: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(d or {}))


@dataclass(frozen=True)
class Text:
    """A text in one or more locales; `get` falls back to the default locale."""

    by_locale: tuple[tuple[str, str], ...]
    loc: Loc = field(default=NOWHERE, compare=False)

    def get(self, locale: str, default_locale: str) -> str:
        d = dict(self.by_locale)
        if locale in d:
            return d[locale]
        if default_locale in d:
            return d[default_locale]
        return self.by_locale[0][1] if self.by_locale else ""

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.by_locale)

    def values(self) -> tuple[str, ...]:
        return tuple(v for _, v in self.by_locale)


# ---- requirements ---------------------------------------------------------------------


@dataclass(frozen=True)
class VarRef:
    """Another stat's value where a number could stand: `{stat: loot}` in an effect's
    operand or a comparison."""

    stat: str
    loc: Loc = field(default=NOWHERE, compare=False)


Operand = float | VarRef

# ((op, value), ...), all must hold; a value is a number, a VarRef (stat comparisons), or
# a text (string variables)
Comparison = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class All:
    items: tuple[Requirement, ...]
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Requirement, ...]
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Not:
    item: Requirement
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Compare:
    """A test of a value. `subject` is points, level, item, stat, visited, visited_count,
    achievements_count or endings_count (numbers), or string (a string variable, tested
    with eq / ne only); `ref` names the item, stat, string variable or fragment."""

    subject: str
    ref: str | None
    cmp: Comparison
    loc: Loc = field(default=NOWHERE, compare=False)
    dynamic: bool = False  # some value of `cmp` is a VarRef, read at the state

    def refs(self) -> tuple[VarRef, ...]:
        return tuple(v for _, v in self.cmp if isinstance(v, VarRef)) if self.dynamic else ()


@dataclass(frozen=True)
class Has:
    """A membership test. `subject` is role, flag, achievement or ending."""

    subject: str
    ref: str
    loc: Loc = field(default=NOWHERE, compare=False)


Requirement = All | AnyOf | Not | Compare | Has


# ---- effects ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    """One effect. `kind` is award, spend, set, clear, give, take, stat, string, unlock,
    goto, emit.

    `target` is the flag, item, stat, string variable, achievement, fragment or event id;
    `amount` the points or count or stat operand; `op` the stat operation (add, sub, set,
    mul, clamp); `source` another stat read as the operand instead of `amount`; `low` and
    `high` a clamp's bounds; `text` the value a `string` effect stores.
    """

    kind: str
    target: str | None = None
    amount: float = 0
    op: str | None = None
    reason: str | None = None
    cond: Requirement | None = None
    chance: float | None = None
    text: str | None = None
    source: VarRef | None = None
    low: Operand | None = None
    high: Operand | None = None
    loc: Loc = field(default=NOWHERE, compare=False)
    target_loc: Loc = field(default=NOWHERE, compare=False)

    def refs(self) -> tuple[VarRef, ...]:
        """The stats this effect reads (its operand, a clamp's bounds)."""
        return tuple(v for v in (self.source, self.low, self.high) if isinstance(v, VarRef))


# ---- story -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Paragraph:
    text: Text
    cond: Requirement | None = None
    otherwise: Text | None = None


@dataclass(frozen=True)
class Target:
    to: str
    weight: int = 1
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Choice:
    id: str
    text: Text
    targets: tuple[Target, ...] = ()  # empty: stay in this fragment; several: weighted pick
    requires: Requirement | None = None
    cost: int = 0
    effects: tuple[Effect, ...] = ()
    when_locked: str = "show"
    locked_text: Text | None = None
    once: bool = False
    loc: Loc = field(default=NOWHERE, compare=False)


INPUT_CHOICE = "input"  # the choice id an answer to a fragment's `input` is taken as


@dataclass(frozen=True)
class Input:
    """A fragment's question: the player's text, once valid, is stored in the string
    variable `into`, and the player goes on as if they had taken `choice` (id `input`: the
    input's `goto` and `effects`)."""

    into: str
    choice: Choice
    min_length: int = 1
    pattern: str | None = None
    allowed: tuple[str, ...] = ()  # letters, digits, spaces, punctuation, symbols
    invalid_text: Text | None = None
    loc: Loc = field(default=NOWHERE, compare=False)
    into_loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Fragment:
    id: str
    text: tuple[Paragraph, ...]
    title: Text | None = None
    on_enter: tuple[Effect, ...] = ()
    on_first_enter: tuple[Effect, ...] = ()
    choices: tuple[Choice, ...] = ()
    ending: str | None = None
    tags: tuple[str, ...] = ()
    image: str | None = None
    input: Input | None = None
    menu: Text | None = None  # a menu's button label: the fragment opens from any page
    loc: Loc = field(default=NOWHERE, compare=False)

    def choice(self, choice_id: str) -> Choice | None:
        return next((c for c in self.choices if c.id == choice_id), None)


# ---- rules and declarations -------------------------------------------------------------


@dataclass(frozen=True)
class Achievement:
    id: str
    name: Text
    description: Text | None = None
    reward: int = 0
    secret: bool = False
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Item:
    id: str
    name: Text
    description: Text | None = None
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Flag:
    id: str
    initial: bool = False
    description: str | None = None
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Stat:
    id: str
    name: Text | None = None
    initial: float = 0
    min: float | None = None
    max: float | None = None
    loc: Loc = field(default=NOWHERE, compare=False)

    def clamp(self, value: float) -> float:
        if self.min is not None and value < self.min:
            value = self.min
        if self.max is not None and value > self.max:
            value = self.max
        return int(value) if float(value).is_integer() else value


@dataclass(frozen=True)
class StringVar:
    """A string variable: an enum (`values`) or free text of at most `max_length`
    characters, with the sample values the simulator types for it."""

    id: str
    name: Text | None = None
    values: tuple[str, ...] | None = None
    max_length: int | None = None
    initial: str = ""
    samples: tuple[str, ...] = ()
    loc: Loc = field(default=NOWHERE, compare=False)

    def allows(self, value: str) -> bool:
        if self.values is not None:
            return value in self.values
        return self.max_length is None or len(value) <= self.max_length

    @property
    def domain(self) -> tuple[str, ...]:
        """The values play can give it that lint can know of: an enum's values, or free
        text's initial value and samples."""
        if self.values is not None:
            return self.values
        return tuple(dict.fromkeys((self.initial, *self.samples)))


@dataclass(frozen=True)
class CustomEvent:
    id: str
    description: str | None = None
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Rule:
    id: str
    event: str
    filters: tuple[tuple[str, Any], ...] = ()  # value, or a comparison as a sorted tuple
    cond: Requirement | None = None
    then: tuple[Effect, ...] = ()
    priority: int = 0
    once: bool = False
    order: int = 0  # position across files, the tie-breaker for equal priority
    loc: Loc = field(default=NOWHERE, compare=False)
    # where the `when:` clause names the event and each filter value, for diagnostics
    when_locs: tuple[tuple[str, Loc], ...] = field(default=(), compare=False)

    def when_loc(self, key: str) -> Loc:
        """The location of `when.event` (key "event") or of a filter's value."""
        return dict(self.when_locs).get(key, self.loc)


@dataclass(frozen=True)
class Level:
    level: int
    name: Text
    points: int
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Currency:
    id: str
    name: Text
    emoji: str = ""


@dataclass(frozen=True)
class Layout:
    """How a front end with small buttons (the Telegram bot) presents a page's choices:
    presentation only, never part of a step."""

    long_labels: str = "numbered"  # or "cut"
    choices_per_page: int = 8


@dataclass(frozen=True)
class Manifest:
    format: int
    version: str
    title: Text
    start: str
    currency: Currency
    locales: tuple[str, ...] = ("en",)
    levels: tuple[Level, ...] = ()
    roles: tuple[str, ...] = ("free",)
    daily_points: int | None = None
    max_chain: int = 100
    severity: Mapping[str, str] = field(default_factory=frozen_map)
    rule_dirs: tuple[str, ...] = ()
    # old fragment id -> the fragment that replaces it, for saves made under older versions
    migrate: Mapping[str, str] = field(default_factory=frozen_map)
    layout: Layout = Layout()
    loc: Loc = field(default=NOWHERE, compare=False)

    @property
    def default_locale(self) -> str:
        return self.locales[0]

    @property
    def default_role(self) -> str:
        return self.roles[0]


@dataclass(frozen=True)
class Content:
    manifest: Manifest
    fragments: Mapping[str, Fragment]
    achievements: Mapping[str, Achievement]
    items: Mapping[str, Item]
    flags: Mapping[str, Flag]
    stats: Mapping[str, Stat]
    events: Mapping[str, CustomEvent]
    rules: tuple[Rule, ...]
    strings: Mapping[str, StringVar] = field(default_factory=frozen_map)
    digest: str = ""  # sha256 of the source files, for caching and ruleset names

    @property
    def version(self) -> str:
        return self.manifest.version

    @cached_property
    def menus(self) -> tuple[str, ...]:
        """The menu fragments, in content order."""
        return tuple(f.id for f in self.fragments.values() if f.menu is not None)

    def level_for(self, earned: int) -> Level | None:
        reached = [lv for lv in self.manifest.levels if earned >= lv.points]
        return reached[-1] if reached else None
