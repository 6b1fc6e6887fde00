"""Forced moves: a fragment whose every entry makes the rules send the player on to one
known fragment, and cycles of them, which never settle (G007).

The story cannot be played where such a cycle is reachable (every action that enters it
runs into `limits.max_chain`), so the loader refuses it. Only moves that happen on every
entry count, so every cycle found is real: a goto behind `if:`, `chance:` or `once:` could
stop the loop, and is left to G006 (a warning) and to the runaway-chain rejection at play
time.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.catalog import diag
from engine.diagnostics import Diagnostic
from engine.model import Content, Effect, Rule


@dataclass(frozen=True)
class Move:
    """Entering `source` always fires `rule`, whose `goto` sends the player to `target`."""

    source: str
    target: str
    rule: Rule
    goto: Effect


def _fires_on_entry(rule: Rule, fragment: str) -> bool:
    """Does `rule`'s `when:` match the `enter` event of `fragment`? (Its one field is
    `fragment`, compared for equality.)"""
    return rule.event == "enter" and all(k == "fragment" and v == fragment
                                         for k, v in rule.filters)


def _is_sure(e: Effect) -> bool:
    return e.cond is None and e.chance is None


def forced_move(content: Content, fragment: str, rules: list[Rule]) -> Move | None:
    """Where entering `fragment` always sends the player, if anywhere for sure.

    The `enter` event is the first the entry raises, its rules fire highest priority first
    (then in file order), and the first `goto` raised wins (engine.step). So the move is
    forced when the first rule on this entry that could raise a `goto` fires every time and
    its first `goto` always runs."""
    for rule in rules:
        if not _fires_on_entry(rule, fragment):
            continue
        gotos = [e for e in rule.then if e.kind == "goto"]
        if not gotos:
            continue
        if rule.once or rule.cond is not None or not _is_sure(gotos[0]):
            return None  # it may or may not move the player: nothing is forced
        return Move(fragment, str(gotos[0].target), rule, gotos[0])
    return None


def forced_moves(content: Content) -> dict[str, Move]:
    rules = sorted((r for r in content.rules if r.event == "enter"),
                   key=lambda r: (-r.priority, r.order))
    out = {}
    for fid in content.fragments:
        move = forced_move(content, fid, rules)
        if move is not None:
            out[fid] = move
    return out


def forced_cycles(content: Content) -> list[list[Move]]:
    """Every cycle of forced moves once, each starting at its fragment first in story order.

    Each fragment has at most one forced move, so the moves form a functional graph: follow
    them from every fragment, and a walk that meets its own path has found a cycle."""
    moves = forced_moves(content)
    order = {fid: i for i, fid in enumerate(content.fragments)}
    done: set[str] = set()
    cycles = []
    for start in content.fragments:
        path: list[str] = []
        on_path: dict[str, int] = {}
        here: str | None = start
        while here is not None and here not in done and here not in on_path:
            on_path[here] = len(path)
            path.append(here)
            move = moves.get(here)
            here = move.target if move is not None and move.target in order else None
        if here is not None and here in on_path:
            loop = path[on_path[here]:]
            first = min(range(len(loop)), key=lambda i: order[loop[i]])
            cycles.append([moves[f] for f in loop[first:] + loop[:first]])
        done.update(path)
    return sorted(cycles, key=lambda c: order[c[0].source])


def cycle_diagnostics(content: Content) -> list[Diagnostic]:
    out = []
    for cycle in forced_cycles(content):
        if len(cycle) == 1:
            m = cycle[0]
            said = (f"entering `{m.source}` fires `{m.rule.id}`, which sends the player to"
                    f" `{m.target}` again")
        else:
            said = "; ".join(f"entering `{m.source}` fires `{m.rule.id}`, which sends the"
                             f" player to `{m.target}`" for m in cycle)
        out.append(diag(
            "G007", f"forced moves never settle: {said}, and so on without end",
            cycle[0].goto.loc,
            "move the player on with a choice instead, or give one of these rules `once: true`"
            " or an `if:` that stops the moves",
            related=tuple(m.goto.loc for m in cycle[1:])))
    return out
