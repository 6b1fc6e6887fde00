"""Build the immutable model from schema-valid files: what `engine.load` does once every
file has read and matched its schema. Only identity problems (a duplicate id, an unknown
include) can still occur here; they are collected as diagnostics in `problems`."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from engine.catalog import diag
from engine.diagnostics import Diagnostic, Loc
from engine.model import (
    INPUT_CHOICE,
    Achievement,
    All,
    AnyOf,
    Choice,
    Compare,
    Comparison,
    Content,
    Currency,
    CustomEvent,
    Effect,
    Flag,
    Fragment,
    Has,
    Input,
    Item,
    Layout,
    Level,
    Manifest,
    Not,
    Paragraph,
    Requirement,
    Rule,
    Stat,
    StringVar,
    Target,
    Text,
    VarRef,
    frozen_map,
)
from engine.source import Path_, SourceFile

_OPS = ("gte", "gt", "lte", "lt", "eq", "ne")


class Builder:
    """Turns schema-valid data into the model. Only identity problems can still occur here."""

    def __init__(self, files: list[SourceFile], kinds: dict[str, str], manifest: SourceFile):
        self.files = files
        self.kinds = kinds
        self.manifest_file = manifest
        self.problems: list[Diagnostic] = []
        self.default_locale = "en"
        self.file: SourceFile = manifest
        self.raw_includes: dict[str, tuple[SourceFile, dict[str, Any]]] = {}
        self.built_includes: dict[tuple[str, str], tuple[Any, ...]] = {}
        self.building: set[str] = set()

    # -- helpers -------------------------------------------------------------------------

    def loc(self, path: Path_, key: bool = False) -> Loc:
        return self.file.loc(path, key=key)

    def text(self, value: Any, path: Path_) -> Text:
        if isinstance(value, dict):
            return Text(tuple((k, str(v)) for k, v in value.items()), self.loc(path))
        return Text(((self.default_locale, str(value)),), self.loc(path))

    def opt_text(self, value: Any, path: Path_) -> Text | None:
        return None if value is None else self.text(value, path)

    @staticmethod
    def comparison(value: Any) -> Comparison:
        if isinstance(value, dict):
            return tuple((op, v) for op, v in value.items() if op in _OPS)
        return (("gte", value),)

    def requirement(self, raw: Any, path: Path_) -> Requirement:
        (key, value), = raw.items()
        p = (*path, key)
        here = self.loc(p)
        if key in ("all", "any"):
            items = tuple(self.requirement(r, (*p, i)) for i, r in enumerate(value))
            return All(items, here) if key == "all" else AnyOf(items, here)
        if key == "not":
            return Not(self.requirement(value, p), here)
        if key in ("points", "level", "visited_count", "achievements_count", "endings_count"):
            return Compare(key, None, self.comparison(value), here)
        if key in ("role", "flag", "achievement", "ending"):
            return Has(key, value, here)
        if key == "string":
            cmp = tuple((op, value[op]) for op in ("eq", "ne") if op in value)
            return Compare(key, value["id"], cmp, self.loc((*p, "id")))
        if key in ("item", "stat", "visited"):
            if isinstance(value, str):
                return Compare(key, value, (("gte", 1),), here)
            ref_key = "fragment" if key == "visited" else "id"
            cmp = tuple((op, self.operand(v, (*p, op))) for op, v in self.comparison(
                {k: v for k, v in value.items() if k != ref_key}))
            return Compare(key, value[ref_key], cmp or (("gte", 1),), self.loc((*p, ref_key)),
                           dynamic=any(isinstance(v, VarRef) for _, v in cmp))
        raise AssertionError(f"schema let through requirement {key}")

    def effect(self, raw: dict[str, Any], path: Path_) -> Effect:
        cond = self.requirement(raw["if"], (*path, "if")) if "if" in raw else None
        chance = raw.get("chance")
        (kind,) = [k for k in raw if k not in ("if", "chance")]
        value = raw[kind]
        p = (*path, kind)
        common: dict[str, Any] = {"cond": cond, "chance": chance, "loc": self.loc(path)}
        if kind in ("award", "spend"):
            if isinstance(value, dict):
                return Effect(kind, amount=value["points"], reason=value.get("reason"),
                              target_loc=self.loc(p), **common)
            return Effect(kind, amount=value, target_loc=self.loc(p), **common)
        if kind in ("give", "take"):
            if isinstance(value, dict):
                return Effect(kind, target=value["item"], amount=value.get("count", 1),
                              target_loc=self.loc((*p, "item")), **common)
            return Effect(kind, target=value, amount=1, target_loc=self.loc(p), **common)
        if kind == "stat":
            (op,) = [k for k in value if k in ("add", "sub", "set", "mul", "clamp")]
            if op == "clamp":
                bounds = value[op]
                return Effect(kind, target=value["id"], op=op,
                              low=self.operand(bounds.get("min"), (*p, op, "min")),
                              high=self.operand(bounds.get("max"), (*p, op, "max")),
                              target_loc=self.loc((*p, "id")), **common)
            operand = self.operand(value[op], (*p, op))
            if isinstance(operand, VarRef):
                return Effect(kind, target=value["id"], op=op, source=operand,
                              target_loc=self.loc((*p, "id")), **common)
            return Effect(kind, target=value["id"], amount=operand, op=op,
                          target_loc=self.loc((*p, "id")), **common)
        if kind == "string":
            return Effect(kind, target=value["id"], op="set", text=value["set"],
                          target_loc=self.loc((*p, "id")), **common)
        return Effect(kind, target=value, target_loc=self.loc(p), **common)

    def operand(self, raw: Any, path: Path_) -> Any:
        """A number as it is; `{stat: ID}` as a VarRef (None stays None)."""
        if isinstance(raw, dict):
            return VarRef(raw["stat"], self.loc((*path, "stat")))
        return raw

    def effects(self, raw: list[Any] | None, path: Path_) -> tuple[Effect, ...]:
        return tuple(self.effect(e, (*path, i)) for i, e in enumerate(raw or ()))

    def paragraphs(self, raw: Any, path: Path_) -> tuple[Paragraph, ...]:
        items = raw if isinstance(raw, list) else [raw]
        base = path if not isinstance(raw, list) else None
        out: list[Paragraph] = []
        for i, item in enumerate(items):
            p = base if base is not None else (*path, i)
            if isinstance(item, dict) and "include" in item:
                out.extend(self.included(item["include"], "text", (*p, "include")))
            elif isinstance(item, dict) and "if" in item and "text" in item:
                out.append(Paragraph(
                    self.text(item["text"], (*p, "text")),
                    self.requirement(item["if"], (*p, "if")),
                    self.opt_text(item.get("else"), (*p, "else")),
                ))
            else:
                out.append(Paragraph(self.text(item, p)))
        return tuple(out)

    def choice(self, raw: dict[str, Any], path: Path_) -> Choice:
        goto = raw.get("goto")
        targets: tuple[Target, ...] = ()
        if isinstance(goto, str):
            targets = (Target(goto, 1, self.loc((*path, "goto"))),)
        elif isinstance(goto, dict):
            targets = tuple(
                Target(t["to"], t.get("weight", 1), self.loc((*path, "goto", "random", i, "to")))
                for i, t in enumerate(goto["random"])
            )
        return Choice(
            id=raw["id"],
            text=self.text(raw["text"], (*path, "text")),
            targets=targets,
            requires=self.requirement(raw["requires"], (*path, "requires"))
            if "requires" in raw else None,
            cost=raw.get("cost", 0),
            effects=self.effects(raw.get("effects"), (*path, "effects")),
            when_locked=raw.get("when_locked", "show"),
            locked_text=self.opt_text(raw.get("locked_text"), (*path, "locked_text")),
            once=raw.get("once", False),
            loc=self.loc(path),
        )

    def fragment(self, fid: str, raw: dict[str, Any], path: Path_) -> Fragment:
        return Fragment(
            id=fid,
            text=self.paragraphs(raw["text"], (*path, "text")),
            title=self.opt_text(raw.get("title"), (*path, "title")),
            on_enter=self.effects(raw.get("on_enter"), (*path, "on_enter")),
            on_first_enter=self.effects(raw.get("on_first_enter"), (*path, "on_first_enter")),
            choices=tuple(c for i, raw_c in enumerate(raw.get("choices", ()))
                          for c in (self.included(raw_c["include"], "choices",
                                                  (*path, "choices", i, "include"))
                                    if "include" in raw_c
                                    else (self.choice(raw_c, (*path, "choices", i)),))),
            ending=raw.get("ending"),
            tags=tuple(raw.get("tags", ())),
            image=raw.get("image"),
            input=self.input(raw["input"], (*path, "input")) if "input" in raw else None,
            menu=self.text(raw["menu"]["label"], (*path, "menu", "label"))
            if "menu" in raw else None,
            loc=self.loc(path, key=True),
        )

    def input(self, raw: dict[str, Any], path: Path_) -> Input:
        goto = raw.get("goto")
        targets = (Target(goto, 1, self.loc((*path, "goto"))),) if goto else ()
        choice = Choice(INPUT_CHOICE, Text(()), targets,
                        effects=self.effects(raw.get("effects"), (*path, "effects")),
                        loc=self.loc(path))
        return Input(raw["into"], choice, raw.get("min_length", 1), raw.get("pattern"),
                     tuple(raw.get("allowed", ())),
                     self.opt_text(raw.get("invalid_text"), (*path, "invalid_text")),
                     self.loc(path), self.loc((*path, "into")))

    # -- includes --------------------------------------------------------------------------

    def collect_includes(self) -> None:
        """Every `includes:` entry of every story file, before any fragment is built (a
        fragment may include what a later file declares)."""
        for f in self.files:
            data = f.data if isinstance(f.data, dict) else {}
            for iid, raw in (data.get("includes") or {}).items():
                first = self.raw_includes.get(iid)
                if first is not None:
                    here = f.loc(("includes", iid), key=True)
                    where = first[0].loc(("includes", iid), key=True)
                    self.problems.append(diag(
                        "R001", f"include `{iid}` is declared twice (first at {where})", here,
                        "give one of them another id"))
                    continue
                self.raw_includes[iid] = (f, raw)

    def included(self, iid: str, kind: str, path: Path_) -> tuple[Any, ...]:
        """The paragraphs (`kind` "text") or choices of include `iid`, built once, with
        the locations of their declaration; () with a diagnostic when there is none."""
        entry = self.raw_includes.get(iid)
        if entry is None or kind not in entry[1]:
            known = [i for i, (_, raw) in self.raw_includes.items() if kind in raw]
            close = difflib.get_close_matches(iid, known, n=1)
            what = "text block" if kind == "text" else "set of choices"
            self.problems.append(diag(
                "R004", f"unknown include `{iid}` (no {what} is declared with that id)",
                self.loc(path), f"did you mean `{close[0]}`?" if close else
                f"declare it under `includes:` in a story file: `{iid}: {{{kind}: ...}}`"))
            return ()
        if iid in self.building:
            self.problems.append(diag(
                "R004", f"include `{iid}` includes itself", self.loc(path),
                "an include holds paragraphs or choices, not other includes"))
            return ()
        hit = self.built_includes.get((iid, kind))
        if hit is None:
            source, raw = entry
            here, self.file = self.file, source
            self.building.add(iid)
            try:
                p = ("includes", iid, kind)
                hit = (self.paragraphs(raw[kind], p) if kind == "text" else tuple(
                    c for i, rc in enumerate(raw[kind])
                    for c in ((self.choice(rc, (*p, i)),) if "include" not in rc else ())))
            finally:
                self.file = here
                self.building.discard(iid)
            self.built_includes[(iid, kind)] = hit
        return hit

    # -- declarations ----------------------------------------------------------------------

    def _declare(self, table: dict[str, Any], what: str, ident: str, path: Path_,
                 make: Callable[[], Any], key: bool = True) -> None:
        # The id node: the mapping key for most declarations, the `id:` value for rules.
        here = self.loc(path, key=key)
        if ident in table:
            first = table[ident].loc
            self.problems.append(diag(
                "R001", f"{what} `{ident}` is declared twice (first at {first})", here,
                "give one of them another id"))
            return
        table[ident] = make()

    def manifest(self) -> Manifest:
        self.file = self.manifest_file
        m = self.manifest_file.data
        locales = tuple(m.get("locales") or ("en",))
        self.default_locale = locales[0]
        cur = m["currency"]
        return Manifest(
            format=m["format"],
            version=str(m["version"]),
            title=self.text(m["title"], ("title",)),
            start=m["start"],
            currency=Currency(cur["id"], self.text(cur["name"], ("currency", "name")),
                              cur.get("emoji", "")),
            locales=locales,
            levels=tuple(
                Level(lv["level"], self.text(lv["name"], ("levels", i, "name")), lv["points"],
                      self.loc(("levels", i)))
                for i, lv in enumerate(m.get("levels", ()))
            ),
            roles=tuple(m.get("roles") or ("free",)),
            daily_points=(m.get("limits") or {}).get("daily_points"),
            max_chain=(m.get("limits") or {}).get("max_chain", 100),
            severity=frozen_map((m.get("lint") or {}).get("severity")),
            rule_dirs=tuple(m.get("rules", ())),
            migrate=frozen_map(m.get("migrate")),
            layout=Layout(**(m.get("layout") or {})),
            loc=Loc(self.manifest_file.path),
        )

    def build(self, digest: str) -> Content:
        manifest = self.manifest()
        self.collect_includes()
        fragments: dict[str, Fragment] = {}
        achievements: dict[str, Achievement] = {}
        items: dict[str, Item] = {}
        flags: dict[str, Flag] = {}
        stats: dict[str, Stat] = {}
        strings: dict[str, StringVar] = {}
        events: dict[str, CustomEvent] = {}
        rules: dict[str, Rule] = {}
        for f in self.files:
            if self.kinds[f.path] == "game":
                continue
            self.file = f
            data = f.data if isinstance(f.data, dict) else {}
            for fid, raw in (data.get("fragments") or {}).items():
                p = ("fragments", fid)
                self._declare(fragments, "fragment", fid, p, lambda fid=fid, raw=raw, p=p:
                              self.fragment(fid, raw, p))
            for aid, raw in (data.get("achievements") or {}).items():
                p = ("achievements", aid)
                self._declare(achievements, "achievement", aid, p, lambda aid=aid, raw=raw, p=p:
                              Achievement(aid, self.text(raw["name"], (*p, "name")),
                                          self.opt_text(raw.get("description"),
                                                        (*p, "description")),
                                          raw.get("reward", 0), raw.get("secret", False),
                                          self.loc(p, key=True)))
            for iid, raw in (data.get("items") or {}).items():
                p = ("items", iid)
                self._declare(items, "item", iid, p, lambda iid=iid, raw=raw, p=p:
                              Item(iid, self.text(raw["name"], (*p, "name")),
                                   self.opt_text(raw.get("description"), (*p, "description")),
                                   self.loc(p, key=True)))
            for fl, raw in (data.get("flags") or {}).items():
                p = ("flags", fl)
                raw = raw or {}
                self._declare(flags, "flag", fl, p, lambda fl=fl, raw=raw, p=p:
                              Flag(fl, raw.get("initial", False), raw.get("description"),
                                   self.loc(p, key=True)))
            for sid, raw in (data.get("stats") or {}).items():
                p = ("stats", sid)
                raw = raw or {}
                self._declare(stats, "stat", sid, p, lambda sid=sid, raw=raw, p=p:
                              Stat(sid, self.opt_text(raw.get("name"), (*p, "name")),
                                   raw.get("initial", 0), raw.get("min"), raw.get("max"),
                                   self.loc(p, key=True)))
            for vid, raw in (data.get("strings") or {}).items():
                p = ("strings", vid)
                self._declare(strings, "string variable", vid, p,
                              lambda vid=vid, raw=raw, p=p: self.string_var(vid, raw, p))
            for eid, raw in (data.get("events") or {}).items():
                p = ("events", eid)
                raw = raw or {}
                self._declare(events, "event", eid, p, lambda eid=eid, raw=raw, p=p:
                              CustomEvent(eid, raw.get("description"), self.loc(p, key=True)))
            for i, raw in enumerate(data.get("rules") or ()):
                p = ("rules", i)
                self._declare(rules, "rule", raw["id"], (*p, "id"), lambda raw=raw, p=p:
                              self.rule(raw, p, len(rules)), key=False)
        return Content(
            manifest=manifest,
            fragments=frozen_map(fragments),
            achievements=frozen_map(achievements),
            items=frozen_map(items),
            flags=frozen_map(flags),
            stats=frozen_map(stats),
            events=frozen_map(events),
            rules=tuple(rules.values()),
            strings=frozen_map(strings),
            digest=digest,
        )

    def string_var(self, vid: str, raw: dict[str, Any], path: Path_) -> StringVar:
        values = tuple(raw["values"]) if "values" in raw else None
        return StringVar(vid, self.opt_text(raw.get("name"), (*path, "name")), values,
                         raw.get("max_length"),
                         raw.get("initial", values[0] if values else ""),
                         tuple(raw.get("samples", ())), self.loc(path, key=True))

    def rule(self, raw: dict[str, Any], path: Path_, order: int) -> Rule:
        when = raw["when"]
        filters = tuple(
            (k, tuple(sorted(v.items())) if isinstance(v, dict) else v)
            for k, v in when.items() if k != "event"
        )
        return Rule(
            id=raw["id"],
            event=when["event"],
            filters=filters,
            cond=self.requirement(raw["if"], (*path, "if")) if "if" in raw else None,
            then=self.effects(raw.get("then"), (*path, "then")),
            priority=raw.get("priority", 0),
            once=raw.get("once", False),
            order=order,
            loc=self.loc((*path, "id")),
            when_locs=tuple((k, self.loc((*path, "when", k))) for k in when),
        )
