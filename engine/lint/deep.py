"""Value-aware checks (`diana lint --deep`): explore the story's states with the real step
function and report requirements that can never hold (V001) and locks that never lock
(V002), each with a witness path.

They are claims about every reachable state, so they are made only when the exploration is
complete (every state within the bound, every role, the playthroughs that requirements on
endings need); `deep` says whether it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.catalog import diag
from engine.diagnostics import Diagnostic
from engine.game import compile_game
from engine.model import Content
from engine.simulate.analysis import ValueFinding, never_holds, never_locks
from engine.simulate.explore import explore

# States per search (one search per role). Small enough that `diana lint --deep` answers in
# a few seconds on the sample, which it does not explore completely (the note says so);
# `--max-states` raises it, and `diana simulate` explores further with its progress shown.
DEEP_MAX_STATES = 20_000


@dataclass(frozen=True)
class DeepResult:
    diagnostics: list[Diagnostic]
    complete: bool
    states: int
    max_states: int = DEEP_MAX_STATES
    multipliers: tuple[tuple[str, int, float], ...] = ()  # when cut: what multiplied the states

    @property
    def note(self) -> str | None:
        """What the front ends say when the bound cut the exploration short, else None."""
        if self.complete:
            return None
        return (f"Deep checks not proven: the exploration reached its bound ({self.states:,}"
                f" states explored, at most {self.max_states:,} states per search), so"
                " V001/V002 are not reported: they are claimed only after a complete"
                " exploration. Raise --max-states, or explore with `diana simulate`."
                + self._grew())

    def _grew(self) -> str:
        if not self.multipliers:
            return ""
        return " What multiplied the states: " + "; ".join(
            f"{n}: {k:,} distinct values kept (x{f:g} states)"
            for n, k, f in self.multipliers[:3]) + "."

    def to_json(self) -> dict[str, object]:
        return {"complete": self.complete, "states": self.states,
                "max_states": self.max_states, "note": self.note,
                "multipliers": [{"variable": n, "distinct_values": k, "merge_factor": f}
                                for n, k, f in self.multipliers]}


def _witness(v: ValueFinding) -> str:
    if v.witness is None:
        return ""
    steps = " → ".join(v.witness.steps) or "the start"
    return f"; e.g. as {v.witness.role} (seed {v.witness.seed}) after {steps}"


def deep(content: Content, max_states: int = DEEP_MAX_STATES) -> DeepResult:
    ex = explore(compile_game(content), max_states=max_states, probe=0)
    out = []
    for v in never_holds(ex, content):
        out.append(diag("V001", v.message + _witness(v), v.loc,
                        "check the numbers: what the player can have here never meets it"))
    for v in never_locks(ex, content):
        out.append(diag("V002", v.message + _witness(v), v.loc,
                        "drop the requirement, or make it test something that can fail"))
    return DeepResult(out, ex.complete, ex.states, max_states, tuple(ex.multipliers))
