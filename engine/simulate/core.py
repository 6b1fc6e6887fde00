"""What every simulation mode shares: the moves from a state, the targets an outcome hits,
and paths (the choice sequences that witnesses and replays are). The canonical state key
is in `engine.simulate.abstraction`.

A *path* is a tuple of steps from a new player's `Start`: `"FRAGMENT.CHOICE"` takes a choice
(the fragment is where the player must be), `"FRAGMENT.=TEXT"` types TEXT into the
fragment's input, `"FRAGMENT.@MENU"` opens a menu and `"FRAGMENT.@"` goes back from one,
`"restart"` restarts at an ending. Steps never collide: every step but `restart` has a dot
after the fragment id (ids have none), and choice ids start with a letter.

A *target* is a string naming something a simulation can reach: `fragment:ID`,
`ending:ID`, `choice:FRAGMENT.CHOICE`, `achievement:ID`, `rule:ID`; goals may also name
`points:N` (a balance of at least N).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from engine.game import Game
from engine.model import Compare, Content, Has
from engine.simulate.abstraction import cap_of, transition_requirements
from engine.state import new_state
from engine.step import Answer, Choose, Menu, Outcome, Restart, Start, step
from engine.textinput import sample_answers

RESTART = "restart"
TARGET_KINDS = ("fragment", "ending", "choice", "achievement", "rule")


def auto_playthroughs(content: Content) -> int:
    """Enough playthroughs for every requirement on endings to be met: an `{ending: X}`
    test needs a second playthrough, `{endings_count: {gte: N}}` an (N+1)-th."""
    need = 1
    for node in transition_requirements(content):
        if isinstance(node, Has) and node.subject == "ending":
            need = max(need, 2)
        elif isinstance(node, Compare) and node.subject == "endings_count":
            need = max(need, cap_of(node.cmp))
    return need


# ---- moves and hits -------------------------------------------------------------------


def begin(game: Game, role: str | None = None, seed: int = 0,
          locale: str | None = None) -> Outcome:
    return step(game, new_state(game.content, role=role, seed=seed, locale=locale), Start())


def available(outcome: Outcome) -> list[str]:
    """Choice ids the player can take now (from the screen the step rendered)."""
    screen = outcome.screen
    return [c.id for c in screen.choices if c.available] if screen is not None else []


def action_of(step_: str):
    if step_ == RESTART:
        return Restart()
    rest = step_.partition(".")[2]
    if rest.startswith("@"):
        return Menu(rest[1:] or None)
    return Answer(rest[1:]) if rest.startswith("=") else Choose(rest)


def is_answer(step_: str) -> bool:
    """An answer or a menu step: no choice taken."""
    return step_.partition(".")[2].startswith(("=", "@"))


def menu_steps(content: Content, state: dict[str, Any], skip: set[str] | None = None
               ) -> list[str]:
    """The menus that open from the player's page (but those in `skip`), and the way
    back from a menu."""
    here = state["fragment"]
    steps = [f"{here}.@{m}" for m in content.menus if m != here and not (skip and m in skip)]
    if content.fragments[here].menu is not None and state.get("menu_from") in content.fragments:
        steps.append(f"{here}.@")
    return steps

def answer_steps(content: Content, fragment_id: str) -> list[str]:
    """The answers the simulator types at a fragment (none without an input)."""
    f = content.fragments[fragment_id]
    return [f"{fragment_id}.={v}" for v in sample_answers(content, f)] if f.input else []


def hits(outcome: Outcome, step_: str | None = None) -> Iterator[str]:
    """The targets an outcome reaches (the step that produced it, for `choice:` targets)."""
    if step_ is not None and step_ != RESTART and not is_answer(step_):
        yield f"choice:{step_}"
    if step_ is not None and ".@" in step_ and step_.partition(".@")[2]:
        yield f"fragment:{step_.partition('.@')[2]}"  # a menu opened: shown, not entered
    for e in outcome.events:
        if e.type == "enter":
            yield f"fragment:{dict(e.fields)['fragment']}"
        elif e.type == "ending":
            yield f"ending:{dict(e.fields)['fragment']}"
    for a in outcome.applied:
        if a.kind == "unlock":
            yield f"achievement:{a.target}"
    for f in outcome.firings:
        yield f"rule:{f.rule}"


def all_targets(content: Content) -> list[str]:
    out = [f"fragment:{f}" for f in content.fragments]
    out += [f"ending:{f.id}" for f in content.fragments.values() if f.ending]
    out += [f"choice:{f.id}.{c.id}" for f in content.fragments.values() for c in f.choices]
    out += [f"achievement:{a}" for a in content.achievements]
    out += [f"rule:{r.id}" for r in content.rules]
    return out


def parse_target(text: str, content: Content) -> str:
    """Check a goal target; raises ValueError with a reason."""
    kind, sep, ref = text.partition(":")
    if not sep or not ref:
        raise ValueError(f"a target is KIND:ID (ending:X, achievement:Y, fragment:Z, "
                         f"choice:F.C, rule:R, points:N), not `{text}`")
    if kind == "points":
        try:
            int(ref)
        except ValueError:
            raise ValueError(f"points:N needs a whole number, not `{ref}`") from None
        return f"points:{int(ref)}"
    if kind not in TARGET_KINDS:
        raise ValueError(f"unknown target kind `{kind}` (use ending, achievement, fragment, "
                         "choice, rule or points)")
    if text not in set(all_targets(content)):
        raise ValueError(f"the story has no {kind} `{ref}`")
    return text


def reached(target: str, outcome: Outcome, step_: str | None) -> bool:
    if target.startswith("points:"):
        return outcome.state["points"] >= int(target[7:])
    return target in set(hits(outcome, step_))


@dataclass(frozen=True)
class Witness:
    """How to reach something: play `steps` as a player of `role` with `seed`. `minimal`
    when breadth-first search found it (no shorter path exists for that role and seed)."""

    role: str
    seed: int
    steps: tuple[str, ...]
    minimal: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role, "seed": self.seed, "steps": list(self.steps),
                "length": len(self.steps), "minimal": self.minimal}

    def better_than(self, other: Witness | None) -> bool:
        if other is None:
            return True
        return (not other.minimal and self.minimal) or (
            self.minimal == other.minimal and len(self.steps) < len(other.steps))


def replays(game: Game, w: Witness, target: str) -> bool:
    """Whether a witness, played with the real step function from a new player of its
    role and seed, reaches `target`."""
    outcome = begin(game, w.role, w.seed)
    if not outcome.ok:
        return False
    if reached(target, outcome, None):
        return True
    for s in w.steps:
        outcome = step(game, outcome.state, action_of(s))
        if not outcome.ok:
            return False
        if reached(target, outcome, s):
            return True
    return False
