"""What an exploration means for a writer: what is reachable (with witnesses), what is not
and what blocks it, requirements that never hold and locks that never lock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.diagnostics import Loc
from engine.model import Content
from engine.simulate.abstraction import Abstraction, shown_values
from engine.simulate.core import Witness, all_targets
from engine.simulate.explore import Exploration
from engine.walk import effects

KINDS = ("fragment", "ending", "choice", "achievement", "rule")


@dataclass(frozen=True)
class ValueFinding:
    """A requirement that never holds (`never-holds`) or a lock that never locks
    (`never-locks`), found on a complete exploration."""

    kind: str
    subject: str  # `F.C` or `rule:R`
    message: str
    loc: Loc
    witness: Witness | None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "message": self.message,
                "at": str(self.loc),
                "witness": self.witness.to_json() if self.witness else None}


def _n(states: int) -> str:
    return f"{states} state{'' if states == 1 else 's'}"


def _incoming(content: Content, fragment: str) -> list[str]:
    out = []
    for f in content.fragments.values():
        for c in f.choices:
            if any(t.to == fragment for t in c.targets):
                out.append(f"choice:{f.id}.{c.id}")
    for owner, e in effects(content):
        if e.kind == "goto" and e.target == fragment:
            if owner.rule is not None:
                out.append(f"rule:{owner.rule.id}")
            elif owner.choice is not None and owner.fragment is not None:
                out.append(f"choice:{owner.fragment.id}.{owner.choice.id}")
            elif owner.fragment is not None:
                out.append(f"fragment:{owner.fragment.id}")
    return sorted(set(out))


def blocker(ex: Exploration, content: Content, target: str) -> str:
    """Why the exploration never reached `target`, in a sentence."""
    kind, _, ref = target.partition(":")
    if kind == "choice":
        fid, _, cid = ref.rpartition(".")
        if f"fragment:{fid}" not in ex.witnesses:
            return f"its fragment `{fid}` is never reached"
        cs = ex.choices.get(ref)
        fs = ex.fragments.get(fid)
        most = (f"; the most any explored path holds at `{fid}` is {fs.max_points} points "
                f"({fs.max_earned} earned)") if fs else ""
        if cs is None or cs.present == 0:
            return f"it is never offered at `{fid}` (a once-choice already taken)"
        if cs.held == 0 and cs.failed:
            return (f"locked on every explored state of `{fid}` ({_n(cs.present)}): "
                    f"{cs.best_reason}{most}")
        if cs.unaffordable:
            c = content.fragments[fid].choice(cid)
            cost = c.cost if c else 0
            return f"costs {cost}, more than the balance on every explored visit{most}"
        return "never taken"
    if kind in ("fragment", "ending"):
        ways = _incoming(content, ref)
        if ref == content.manifest.start:
            return "it is the start"
        if not ways:
            return "nothing leads here (no choice, goto effect or rule goes to it)"
        parts = []
        for w in ways:
            if w.startswith("choice:") and w not in ex.witnesses:
                parts.append(f"`{w[7:]}` ({blocker(ex, content, w)})")
            elif w.startswith("rule:") and w not in ex.witnesses:
                parts.append(f"rule `{w[5:]}` ({blocker(ex, content, w)})")
            elif w.startswith("fragment:") and w not in ex.witnesses:
                parts.append(f"goto in `{w[9:]}` (never reached)")
            else:
                parts.append(f"`{w.partition(':')[2]}` (reached, but a goto overrides it "
                             "or a condition on the effect never holds)")
        return "every way in is blocked: " + "; ".join(parts)
    if kind == "achievement":
        unlockers = sorted({(o.rule.id if o.rule else str(o)) for o, e in effects(content)
                            if e.kind == "unlock" and e.target == ref})
        if not unlockers:
            return "nothing unlocks it"
        return "unlocked only by " + ", ".join(
            f"rule `{u}` ({blocker(ex, content, 'rule:' + u)})"
            if f"rule:{u}" in set(all_targets(content)) and f"rule:{u}" not in ex.witnesses
            else u for u in unlockers)
    if kind == "rule":
        if ref not in ex.matched_rules:
            rule = next((r for r in content.rules if r.id == ref), None)
            event = rule.event if rule else "?"
            filters = " with its filters" if rule and rule.filters else ""
            return f"its `when` never matches: no `{event}` event{filters} ever happens"
        return "its `when` matches, but its `if` never holds then (or a `once` rule already fired)"
    return "not reached"


def never_holds(ex: Exploration, content: Content) -> list[ValueFinding]:
    """Requirements that never held on a complete exploration: a choice's `requires` on
    every explored visit of its (reached) fragment; a rule's `if` whenever its event
    happened."""
    if not ex.complete:
        return []
    out = []
    for f in content.fragments.values():
        for c in f.choices:
            cs = ex.choices.get(f"{f.id}.{c.id}")
            if c.requires is None or cs is None or cs.present == 0 or cs.held:
                continue
            out.append(ValueFinding(
                "never-holds", f"{f.id}.{c.id}",
                f"the requirement of choice `{c.id}` in `{f.id}` never holds: it failed on "
                f"every explored state there ({_n(cs.present)}; at best: {cs.best_reason})",
                c.requires.loc if c.requires.loc.file else c.loc, cs.failed_witness))
    for r in content.rules:
        if r.cond is None or r.id not in ex.matched_rules or f"rule:{r.id}" in ex.witnesses:
            continue
        out.append(ValueFinding(
            "never-holds", f"rule:{r.id}",
            f"the `if` of rule `{r.id}` never holds when its `{r.event}` event happens, so "
            "the rule never fires", r.cond.loc if r.cond.loc.file else r.loc, None))
    return out


def never_locks(ex: Exploration, content: Content) -> list[ValueFinding]:
    """Choices whose `requires` held on every explored visit of their fragment."""
    if not ex.complete:
        return []
    out = []
    for f in content.fragments.values():
        for c in f.choices:
            cs = ex.choices.get(f"{f.id}.{c.id}")
            if c.requires is None or cs is None or cs.present == 0 or cs.failed:
                continue
            out.append(ValueFinding(
                "never-locks", f"{f.id}.{c.id}",
                f"choice `{c.id}` in `{f.id}` is never locked: its requirement held on "
                f"every explored state there ({_n(cs.present)})", c.requires.loc
                if c.requires.loc.file
                else c.loc, cs.held_witness))
    return out


def explore_json(ex: Exploration, content: Content) -> dict[str, Any]:
    targets = all_targets(content)
    reached: dict[str, dict[str, Any]] = {k: {} for k in KINDS}
    unreached: dict[str, dict[str, Any]] = {k: {} for k in KINDS}
    for t in targets:
        kind, _, ref = t.partition(":")
        w = ex.witnesses.get(t)
        if w is not None:
            reached[kind][ref] = w.to_json()
        else:
            if t in ex.unwitnessed:
                unreached[kind][ref] = {"proven": False, "blocked": (
                    "reached by the search, but no seed tried gives the draws of its path")}
            else:
                unreached[kind][ref] = {"proven": ex.complete,
                                        "blocked": blocker(ex, content, t)}
    return {
        "mode": "explore",
        "complete": ex.complete,
        "roles": list(ex.roles),
        "seeds": list(ex.seeds),
        "playthroughs": ex.playthroughs,
        "max_states": ex.max_states,
        "states": ex.states,
        "transitions": ex.transitions,
        "cut_short": ex.truncated,
        "probe_runs": ex.probed,
        "chased_states": ex.chased,
        # When a bound cut a search: the variables that multiplied its states, the
        # targets neither reached nor proven unreachable, the claims not made.
        "multipliers": [{"variable": n, "distinct_values": k, "merge_factor": f}
                        for n, k, f in ex.multipliers],
        "unproven": [t for t in targets if t not in ex.witnesses
                     and (not ex.complete or t in ex.unwitnessed)],
        "not_claimed": [] if ex.complete else ["unreachable", "trap", "never-holds",
                                               "never-locks"],
        "failed_replays": ex.failed_replays,
        "unconcretized": ex.unconcretized,
        "shown_not_kept": shown_not_kept(content),
        "reached": reached,
        "unreachable": unreached,
        "fragments": {f: {"states": s.states, "max_points": s.max_points,
                          "max_earned": s.max_earned}
                      for f, s in sorted(ex.fragments.items())},
        "findings": [f.to_json() for f in ex.findings],
        "never_holds": [v.to_json() for v in never_holds(ex, content)],
        "never_locks": [v.to_json() for v in never_locks(ex, content)],
    }


def shown_not_kept(content: Content) -> dict[str, list[str]]:
    """Values text shows to the player whose exact value the search does not keep (nothing
    else reads them, or reads them only up to a cap): pages differ between merged states,
    futures do not."""
    a = Abstraction.of(content)
    out = {}
    for name, places in shown_values(content).items():
        kind, _, ref = name.partition(".")
        kept = (a.points_cap is None if kind == "points"
                else ref in a.read_stats and ("stat", ref) not in a.caps if kind == "stat"
                else ref in a.read_items and ("item", ref) not in a.caps if kind == "item"
                else True)  # level and its name follow points earned, kept to the top level
        if not kept:
            out[name] = places
    return out


def coverage_json(content: Content, fragments: dict[str, int], choices: dict[str, int],
                  rules: dict[str, int]) -> dict[str, dict[str, int]]:
    """Hit counts in the shape `diana graph --coverage` reads."""
    return {
        "fragments": {f: int(fragments.get(f, 0)) for f in content.fragments},
        "choices": {f"{f.id}.{c.id}": int(choices.get(f"{f.id}.{c.id}", 0))
                    for f in content.fragments.values() for c in f.choices},
        "rules": {r.id: int(rules.get(r.id, 0)) for r in content.rules},
    }


def explore_coverage(ex: Exploration, content: Content) -> dict[str, dict[str, int]]:
    """Explored transitions that entered each fragment, took each choice, fired each rule
    (witness-only hits from the probe count once)."""
    def counts(kind: str) -> dict[str, int]:
        out = {}
        for t in all_targets(content):
            k, _, ref = t.partition(":")
            if k == kind:
                n = ex.hit_counts.get(t, 0)
                out[ref] = n if n else (1 if t in ex.witnesses else 0)
        return out

    return coverage_json(content, counts("fragment"), counts("choice"), counts("rule"))
