"""What a copy needs to know of a database's tables, read from the database itself rather
than listed here: a table another migration adds is copied too, once both backends have
it, and a table only one side has stops the copy before anything is written."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# The leaderboards' counts, derived from `scores`: never copied, rebuilt on the target
# (SQLite's triggers count the copied scores; PostgreSQL's side recounts them).
DERIVED = frozenset(("score_count", "score_hist"))


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the primary key (read in its order: neighbours stay together)
    parents: frozenset[str]  # tables its foreign keys point at: copied before it


def insert_order(tables: dict[str, Table]) -> list[str]:
    """Parents first, then by name: the foreign keys hold after every insert."""
    done: list[str] = []
    left = dict(tables)
    while left:
        ready = sorted(n for n, t in left.items() if not (t.parents & left.keys()) - {n})
        if not ready:  # a cycle: no schema of ours has one; name order is the best guess
            ready = sorted(left)
        for name in ready:
            done.append(name)
            del left[name]
    return done


def _canonical(value: Any, is_json: bool) -> str:
    if value is None:
        return "N"
    if is_json:
        # PostgreSQL's jsonb keeps neither key order nor spacing: compare the values.
        return "j" + json.dumps(json.loads(value), sort_keys=True, separators=(",", ":"),
                                ensure_ascii=False)
    if isinstance(value, bool):
        return f"i{int(value)}"
    if isinstance(value, int):
        return f"i{value}"
    if isinstance(value, float):
        return f"i{int(value)}" if value.is_integer() else f"f{value!r}"
    return f"s{value}"


class Digest:
    """Of a table's rows, in any order (the backends order text differently): the sum of
    the rows' hashes modulo 2^256, and the count."""

    def __init__(self) -> None:
        self.total = 0
        self.rows = 0

    def add(self, rows: Iterable[tuple[Any, ...]], json_at: frozenset[int]) -> None:
        for row in rows:
            text = "\x1f".join(_canonical(v, i in json_at) for i, v in enumerate(row))
            h = hashlib.blake2b(text.encode(), digest_size=32).digest()
            self.total = (self.total + int.from_bytes(h, "big")) % (1 << 256)
            self.rows += 1

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Digest) and self.total == other.total
                and self.rows == other.rows)

    __hash__ = None  # type: ignore[assignment]
