"""The in-memory view of one player's save, and its (de)serialisation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from engine.state import State


@dataclass
class Record:
    """One player as the writer sees it. The cache holds only committed records; a batch
    works on copies and publishes them after COMMIT."""

    id: int
    external: str
    name: str
    role: str
    locale: str
    created: float
    state: State  # its "ledger" holds the entries with seq > ledger_from
    version: int
    stored_version: int  # the version in the database (the optimistic-concurrency check)
    points: int
    ledger_seq: int
    ledger_from: int
    # dump_state's memo of the encoded, rarely changing part of the state (copies share it)
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def copy(self) -> Record:
        return Record(**self.__dict__)


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
# The parts of a state that rarely change: encoded once and reused while they are the same
# objects (step never changes a value in place: it replaces what it changes).
_COLD = ("format", "content_version", "player", "seed", "achievements", "unlocks", "endings",
         "fired")
_SKIP = frozenset((*_COLD, "ledger"))


def dump_state(state: State, memo: dict[str, Any] | None = None) -> str:
    """The save's JSON: the state without its ledger, which lives in the ledger table.

    With a `memo` (one per player, kept on its Record), the rarely changing part of the
    state is encoded only when one of its values is another object than last time; only
    the part an action changes (place, turn, visits, flags, ...) is encoded every time. The
    memo holds the objects themselves, so their ids cannot be reused."""
    if memo is None:
        return _encode({k: v for k, v in state.items() if k != "ledger"})
    values = tuple(state.get(k, _SKIP) for k in _COLD)
    hit = memo.get("cold")
    if hit is not None and all(a is b for a, b in zip(hit[0], values, strict=True)):
        cold = hit[1]
    else:
        cold = _encode({k: state[k] for k in _COLD if k in state})[1:-1]
        memo["cold"] = (values, cold)
    hot = _encode({k: v for k, v in state.items() if k not in _SKIP})[1:-1]
    if not cold or not hot:
        return "{" + cold + hot + "}"
    return "{" + cold + "," + hot + "}"


def load_state(text: str, ledger: list[dict[str, Any]]) -> State:
    state = json.loads(text)
    if not isinstance(state, dict):
        raise ValueError("the saved state is not a JSON object")
    state["ledger"] = ledger
    return state


_COLUMNS = ("amount", "reason", "cause", "turn", "day")


def ledger_entry(amount: int, reason: str, cause: str, turn: Any, day: Any,
                 extra: str | None = None) -> dict[str, Any]:
    """A ledger entry as the engine state holds it (see engine.step); fields the table has
    no column for round-trip through `extra`."""
    entry = {"amount": amount, "reason": reason, "cause": cause, "turn": turn, "day": day}
    if extra:
        entry.update(json.loads(extra))
    return entry


def entry_extra(entry: dict[str, Any]) -> str | None:
    rest = {k: v for k, v in entry.items() if k not in _COLUMNS}
    return json.dumps(rest, ensure_ascii=False, separators=(",", ":")) if rest else None
