"""The functional core of a group commit: turn queued jobs into rows, without I/O.

A `Batch` works on copies of the players' records. Each job is all-or-nothing: its rows
and its record changes are only added once the job has fully succeeded, and a rejected
step is recorded as rejected. The shell (sqlite.py) writes the rows in one transaction
and publishes the records to the cache only after COMMIT.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from engine.game import Game
from engine.migrate import Migration, migrate_state, needs_migration
from engine.numbers import TOTAL_MAX
from engine.outbox import events as domain
from engine.state import State
from engine.step import Action, Outcome, action_to_json, step
from engine.store.errors import KeyConflict, UnknownPlayer
from engine.store.interface import ActionResult
from engine.store.periods import SCORED_KINDS, boards_at
from engine.store.records import (
    Record,
    dump_state,
    entry_extra,
    fold,
    ledger_entry,
    to_json,
)


@dataclass
class Job:
    # action, grant, revoke, migrate (batched); register, reset, delete, export, profile,
    # audit, swap (alone)
    op: str
    player: str
    key: str | None = None
    action: Action | None = None
    args: dict[str, Any] = field(default_factory=dict)
    future: Any = None  # asyncio.Future, resolved by the writer after COMMIT
    attempt: int = 0  # times computed again after a failed batch (keys are then looked up)

    @property
    def alone(self) -> bool:
        return self.op not in ("action", "grant", "revoke", "migrate")


@dataclass
class Stored:
    """A row of applied_actions, for replays."""

    player_id: int
    op: str
    ok: bool
    version: int
    result: dict[str, Any]


def replay(key: str, player: str, stored: Stored) -> ActionResult:
    r = stored.result
    return ActionResult(key, player, stored.ok, r.get("error"), r.get("message"),
                        stored.version, r, replayed=True)


@dataclass
class Batch:
    game: Game
    now: float
    next_id: int  # the next ledger id
    work: dict[str, Record] = field(default_factory=dict)
    seen: dict[str, Stored] = field(default_factory=dict)
    ledger: list[tuple] = field(default_factory=list)
    achievements: list[tuple] = field(default_factory=list)
    unachieved: list[tuple] = field(default_factory=list)  # the state dropped them
    scores: dict[tuple[str, int], list[int]] = field(default_factory=lambda: defaultdict(
        lambda: [0, 0]))
    events: list[tuple] = field(default_factory=list)
    applied: list[tuple] = field(default_factory=list)
    # The game's token in event subjects; None: the outbox is off, no event is written.
    outbox_game: str | None = None
    outbox: list[tuple] = field(default_factory=list)
    _boards: tuple[str, ...] | None = None

    # -- running jobs ---------------------------------------------------------------------

    def run(self, job: Job, records: dict[str, Record], stored: dict[str, Stored]
            ) -> ActionResult | Exception:
        """The job's result, or the exception its caller gets. Never raises."""
        prior = self.seen.get(job.key) if job.key else None
        if prior is None and job.key:
            prior = stored.get(job.key)
        rec = self.work.get(job.player)
        fresh = rec is None
        if rec is None:
            rec = records.get(job.player)
        if rec is None:
            return UnknownPlayer(f"unknown player `{job.player}`: register the player first")
        if prior is not None:
            if prior.player_id != rec.id or prior.op != job.op:
                return KeyConflict(f"key `{job.key}` was already used by another player or"
                                   f" operation ({prior.op})")
            return replay(job.key or "", job.player, prior)
        # A batch-private copy; _commit changes it only once nothing can fail any more.
        work = rec.copy() if fresh else rec
        migration = None
        try:
            if job.op in ("action", "migrate"):
                # A save made under other content moves first (its own audit event).
                migration = self._migrate(work)
            if job.op == "migrate":
                result = ActionResult("", job.player, True, None, None, work.version,
                                      {"op": "migrate", "ok": True, "moved": bool(migration)},
                                      outcome=migration.outcome if migration else None)
            elif job.op == "action":
                assert job.action is not None
                result = self._action(job, work)
            else:
                result = self._admin(job, work)
        except Exception as exc:  # a bug in step must not poison the batch: reject
            result = self._reject(job, work, "internal-error", f"{type(exc).__name__}: {exc}")
        if migration is not None:
            result = dataclasses.replace(result, migration=migration)
        return result

    def _migrate(self, rec: Record) -> Migration | None:
        if not needs_migration(self.game.content, rec.state):
            return None
        day = dt.datetime.fromtimestamp(self.now, dt.UTC).date().isoformat()
        new, migration = migrate_state(self.game, rec.state, day)
        if migration is None:
            return None
        tail = self._tail(rec.state, new)
        if tail is None:
            raise RuntimeError("the migration broke the ledger invariant")
        kinds = ["award" if e["amount"] > 0 else "spend" for e in tail]
        rows = self._events(rec, None, new, domain.from_ledger(tail))
        written = self._effects(rec, new, tail, kinds, None)
        self._emit(rec, rows)
        self.work[rec.external] = rec
        summary = {"op": "migrate", "ok": True, "how": migration.how, "from": migration.old,
                   "to": migration.new, "from_version": migration.from_version,
                   "to_version": migration.to_version, "turn": new["turn"],
                   "fragment": new["fragment"], "points": new["points"], "ledger": written}
        self.events.append((self.now, rec.id, "migrate", None, 1, to_json(summary)))
        return migration

    @staticmethod
    def _tail(old: State, new: State) -> list[dict[str, Any]] | None:
        """The ledger entries `new` added to `old`; None if it broke the invariant."""
        old_ledger, new_ledger = old["ledger"], new["ledger"]
        tail = new_ledger[len(old_ledger):]
        if (len(new_ledger) < len(old_ledger)
                or new["points"] != old["points"] + sum(e["amount"] for e in tail)):
            return None
        return tail

    def _action(self, job: Job, rec: Record) -> ActionResult:
        outcome: Outcome = step(self.game, rec.state, job.action)  # type: ignore[arg-type]
        if not outcome.ok:
            err = outcome.error
            return self._reject(job, rec, err.code if err else "rejected",
                                err.message if err else "rejected")
        new = outcome.state
        tail = self._tail(rec.state, new)
        if tail is None:
            return self._reject(job, rec, "internal-error",
                                "the step broke the ledger invariant; nothing was applied")
        kinds = ["award" if e["amount"] > 0 else "spend" for e in tail]
        rows = self._events(rec, job.key, new, domain.from_outcome(outcome.events))
        return self._commit(job, rec, new, tail, kinds, outcome, rows, {
            "action": action_to_json(job.action),  # type: ignore[arg-type]
            "events": [e.type for e in outcome.events],
            "notices": list(outcome.notices),
        })

    def _admin(self, job: Job, rec: Record) -> ActionResult:
        amount: int = job.args["amount"]
        reason: str = job.args["reason"]
        actor: str = job.args.get("actor", "admin")
        s = rec.state
        if job.op == "revoke" and amount > s["points"]:
            return self._reject(job, rec, "insufficient",
                                f"cannot revoke {amount}: the balance is {s['points']}")
        if job.op == "grant" and s["points"] + amount > TOTAL_MAX:
            return self._reject(job, rec, "too-large",
                                f"cannot grant {amount}: the balance would pass {TOTAL_MAX:,}")
        signed = amount if job.op == "grant" else -amount
        entry = ledger_entry(signed, reason, f"admin:{actor}", s["turn"], s["day"])
        new = {**s, "points": s["points"] + signed, "earned": max(0, s["earned"] + signed),
               "ledger": [*s["ledger"], entry]}
        rows = self._events(rec, job.key, new, domain.from_admin(job.op, amount, reason, actor))
        return self._commit(job, rec, new, [entry], [job.op], None, rows,
                            {"amount": amount, "reason": reason, "actor": actor})

    # -- recording --------------------------------------------------------------------------

    def _reject(self, job: Job, rec: Record, code: str, message: str) -> ActionResult:
        summary = {"op": job.op, "ok": False, "error": code, "message": message,
                   "turn": rec.state["turn"], "fragment": rec.state["fragment"],
                   "points": rec.state["points"], "ledger": 0}
        if job.action is not None:
            summary["action"] = action_to_json(job.action, keep_text=False)
        self._record(job, rec, False, summary)
        return ActionResult(job.key or "", job.player, False, code, message, rec.version,
                            summary)

    def _commit(self, job: Job, rec: Record, new: State, tail: list[dict[str, Any]],
                kinds: list[str], outcome: Outcome | None,
                events: list[tuple], extra: dict[str, Any]) -> ActionResult:
        written = self._effects(rec, new, tail, kinds, job.key)
        self._emit(rec, events)
        summary = {"op": job.op, "ok": True, "error": None, "message": None,
                   "turn": new["turn"], "fragment": new["fragment"], "points": new["points"],
                   "ledger": written, **extra}
        self._record(job, rec, True, summary)
        return ActionResult(job.key or "", job.player, True, None, None, rec.version, summary,
                            outcome=outcome)

    def _effects(self, rec: Record, new: State, tail: list[dict[str, Any]], kinds: list[str],
                 key: str | None) -> int:
        """Rows for the ledger tail, achievements and scores; `rec` becomes `new`. Returns
        the number of ledger rows."""
        rows = []
        scores: list[tuple[str, int, int]] = []
        seq, lid = rec.ledger_seq, self.next_id
        boards = self._boards
        if boards is None:
            boards = self._boards = boards_at(self.now)
        for e, kind in zip(tail, kinds, strict=True):
            seq += 1
            rows.append((lid, rec.id, seq, e["amount"], kind, e["reason"], e["cause"], key,
                         self.now, e.get("turn"), e.get("day"), entry_extra(e)))
            if kind in SCORED_KINDS:
                scores.extend((b, e["amount"], lid) for b in boards)
            lid += 1
        ach: list[tuple] = []
        gone: list[tuple] = []
        if new["achievements"] is not rec.state["achievements"]:  # step replaces, never edits
            old_ach, new_ach = set(rec.state["achievements"]), set(new["achievements"])
            ach = [(rec.id, a, self.now) for a in new_ach - old_ach]
            gone = [(rec.id, a) for a in old_ach - new_ach]
        # From here on nothing can fail: publish the job's effects.
        self.next_id = lid
        self.ledger.extend(rows)
        self.unachieved.extend(gone)
        self.achievements.extend(ach)
        for board, amount, at in scores:
            agg = self.scores[(board, rec.id)]
            agg[0] += amount
            agg[1] = at
        rec.points, rec.ledger_seq = new["points"], seq
        rec.state = fold(rec, new)
        rec.version += 1
        return len(rows)

    def _events(self, rec: Record, key: str | None, new: State,
                emitted: list[tuple[str, dict[str, Any]]]) -> list[tuple]:
        """The outbox rows of an operation about to be applied (built before anything is
        published, as they can fail); none with the outbox off."""
        if self.outbox_game is None or not emitted:
            return []
        return outbox_rows(self.outbox_game, rec.id, rec.external, rec.outbox_seq, key,
                           self.now, new["content_version"], emitted)

    def _emit(self, rec: Record, rows: list[tuple]) -> None:
        """The rows go with the save's transaction; the player's seq moves past them."""
        self.outbox.extend(rows)
        rec.outbox_seq += len(rows)

    def _record(self, job: Job, rec: Record, ok: bool, summary: dict[str, Any]) -> None:
        self.work[rec.external] = rec
        text = to_json(summary)
        self.events.append((self.now, rec.id, job.op, job.key, int(ok), text))
        if job.key:
            self.applied.append((job.key, rec.id, job.op, int(ok), rec.version,
                                 int(summary["ledger"]), text))
            self.seen[job.key] = Stored(rec.id, job.op, ok, rec.version, summary)

    # -- rows for the shell ---------------------------------------------------------------

    def save_rows(self) -> list[tuple]:
        return [(dump_state(r.state), r.state["content_version"], r.state.get("fragment"),
                 r.version, r.points, r.ledger_seq, r.ledger_from, r.carry_to, r.carry, self.now,
                 r.outbox_seq, r.id, r.stored_version)
                for r in self.work.values() if r.version != r.stored_version]

    def score_rows(self) -> list[tuple]:
        # A zero net change still moves `reached`, as the check recomputes it from the ledger.
        return [(board, pid, delta, at) for (board, pid), (delta, at) in self.scores.items()]


def outbox_rows(game: str, pid: int, player: str, last_seq: int, key: str | None,
                now: float, content_version: str,
                emitted: list[tuple[str, dict[str, Any]]]) -> list[tuple]:
    """(event id, player id, seq, subject, time, body) per event, numbered on from the
    player's `last_seq`. Both stores' outbox tables take these rows as they are."""
    key = key or domain.auto_key()
    rows = []
    for index, (type_, data) in enumerate(emitted, 1):
        seq = last_seq + index
        event = domain.envelope(game, player, key, index, seq, now, content_version, type_,
                                data)
        rows.append((event["id"], pid, seq, domain.subject(game, type_), now, to_json(event)))
    return rows
