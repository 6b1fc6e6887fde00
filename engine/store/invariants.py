"""The store's invariants, checked on committed rows: balance == ledger sum, the saves,
applied actions, leaderboards and their rank counts. Shared by both backends' `diana db
check`: `db` is anything whose `execute(sql)` gives rows (an sqlite3 connection, or the
PostgreSQL reader)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.store.periods import SCORED_KINDS, boards_at


class Rows(Protocol):
    def execute(self, sql: str, /) -> Iterable[Any]: ...


@dataclass
class Report:
    version: int = 0
    players: int = 0
    ledger: int = 0
    applied: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, text: str, limit: int = 200) -> None:
        if len(self.problems) < limit:
            self.problems.append(text)
        elif len(self.problems) == limit:
            self.problems.append("… more problems not shown")


def balances(db: Rows, r: Report) -> None:
    sums = {pid: (total, n, top) for pid, total, n, top in db.execute(
        "SELECT player, sum(amount), count(*), max(seq) FROM ledger GROUP BY player")}
    r.ledger = sum(n for _t, n, _m in sums.values())
    tail: dict[int, int] = defaultdict(int)
    folded: dict[int, int] = defaultdict(int)
    for pid, amount, in_carry in db.execute(
            "SELECT l.player, l.amount, l.seq <= s.carry_to FROM ledger l"
            " JOIN saves s ON s.player = l.player WHERE l.seq > s.ledger_from"):
        tail[pid] += amount
        if in_carry:
            folded[pid] += amount
    carries = {pid: (cto, carry, lfrom) for pid, cto, carry, lfrom in db.execute(
        "SELECT player, carry_to, carry, ledger_from FROM saves")}
    achieved: dict[int, set[str]] = defaultdict(set)
    for pid, a in db.execute("SELECT player, achievement FROM achievements"):
        achieved[pid].add(a)
    saved = set()
    for pid, ext, text, points, lseq, fragment in db.execute(
            "SELECT p.id, p.external_id, s.state, s.points, s.ledger_seq, s.fragment"
            " FROM players p LEFT JOIN saves s ON s.player = p.id"):
        r.players += 1
        who = f"player `{ext}`"
        if text is None:
            r.add(f"{who} has no save")
            continue
        saved.add(pid)
        total, n, top = sums.get(pid, (0, 0, 0))
        if points != total:
            r.add(f"{who}: balance {points} != ledger sum {total}")
        if lseq != top or n != top:
            r.add(f"{who}: ledger seq {lseq}, but the ledger has {n} entries up to seq {top}")
        try:
            state = json.loads(text)
            if not isinstance(state, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            r.add(f"{who}: the save does not parse ({exc})")
            continue
        if state.get("points") != points:
            r.add(f"{who}: the saved state holds {state.get('points')} points, the save row"
                  f" {points}")
        if tail.get(pid, 0) != state.get("points"):
            r.add(f"{who}: the state's ledger sums to {tail.get(pid, 0)}, its points are"
                  f" {state.get('points')}")
        cto, carry, lfrom = carries[pid]
        if cto > lfrom and (cto > lseq or carry != folded.get(pid, 0)):
            r.add(f"{who}: the carried balance ({carry} up to seq {cto}) does not match the"
                  f" ledger ({folded.get(pid, 0)})")
        if state.get("fragment") != fragment:
            r.add(f"{who}: save row at `{fragment}`, state at `{state.get('fragment')}`")
        if set(state.get("achievements", [])) != achieved.get(pid, set()):
            r.add(f"{who}: achievements table and state disagree")
    orphans = set(sums) - saved
    if orphans:
        r.add(f"{len(orphans)} ledger owner(s) without a save")


def applied(db: Rows, r: Report) -> None:
    written = dict(db.execute(
        "SELECT key, count(*) FROM ledger WHERE key IS NOT NULL GROUP BY key"))
    versions = dict(db.execute("SELECT player, version FROM saves"))
    audited = {k for (k,) in db.execute("SELECT key FROM events WHERE key IS NOT NULL")}
    for key, pid, version, ledger in db.execute(
            "SELECT key, player, version, ledger FROM applied_actions"):
        r.applied += 1
        if written.get(key, 0) != ledger:
            r.add(f"action `{key}`: recorded {ledger} ledger entries, found"
                  f" {written.get(key, 0)}")
        if versions.get(pid, -1) < version:
            r.add(f"action `{key}`: applied at save version {version}, the save is at"
                  f" {versions.get(pid)}")
        if key not in audited:
            r.add(f"action `{key}`: missing from the audit trail")


def scores(db: Rows, r: Report) -> dict[tuple[str, int], list[int]]:
    """The scores table against the ledger; returns the table's rows."""
    expected: dict[tuple[str, int], list[int]] = {}
    for lid, pid, amount, kind, when in db.execute(
            "SELECT l.id, l.player, l.amount, l.kind, l.time FROM ledger l"
            " JOIN saves s ON s.player = l.player WHERE l.seq > s.ledger_from ORDER BY l.id"):
        if kind not in SCORED_KINDS:
            continue
        for board in boards_at(when):
            agg = expected.setdefault((board, pid), [0, 0])
            agg[0] += amount
            agg[1] = lid
    actual = {(b, p): [s, at] for b, p, s, at in db.execute(
        "SELECT board, player, score, reached FROM scores")}
    for k in expected.keys() | actual.keys():
        want, have = expected.get(k), actual.get(k)
        if want is not None and want[0] == 0 and have is None:
            continue
        if want != have:
            r.add(f"leaderboard {k[0]}: player id {k[1]} has {have}, the ledger says {want}")
    return actual


def score_counts(db: Rows, r: Report, actual: dict[tuple[str, int], list[int]],
                 bucket_bits: int) -> None:
    """The rank helpers (score_count, score_hist) against the scores table's rows."""
    counts: dict[tuple[str, int], int] = defaultdict(int)
    hist: dict[tuple[str, int, int], int] = defaultdict(int)
    for (board, _p), (score, at) in actual.items():
        counts[(board, score)] += 1
        hist[(board, score, at >> bucket_bits)] += 1
    for board, score, n in db.execute("SELECT board, score, n FROM score_count"):
        if counts.pop((board, score), 0) != n:
            r.add(f"leaderboard {board}: the count of score {score} is off")
    for board, score, bucket, n in db.execute("SELECT board, score, bucket, n FROM score_hist"):
        if hist.pop((board, score, bucket), 0) != n:
            r.add(f"leaderboard {board}: the histogram of score {score} is off")
    if counts or hist:
        r.add("leaderboard counts are missing rows")
