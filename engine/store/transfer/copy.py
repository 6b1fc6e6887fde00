"""Copy a whole store to an empty database: SQLite → PostgreSQL, PostgreSQL → SQLite (or
between two of one kind).

The source is read in one snapshot, so a bot may keep writing it; the target is written in
one transaction, and before that transaction commits the copy is checked there: every
table holds as many rows as the source's snapshot, and the store's invariants hold
(engine/store/invariants.py, what `diana db check` runs: balance == ledger sum for every
player, applied actions, leaderboards). Anything short of that rolls back: nothing is
written. Both schemas must be the ones this program writes; each side's tables are read
from the database, and the two sides must have the same tables with the same columns.

Running it again is safe: a target that already holds exactly the source's rows (compared
table by table, in any order, JSON by value) is left alone and said so; a target holding
anything else is refused, untouched.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.store.errors import StoreError
from engine.store.invariants import Report, applied, balances, scores
from engine.store.postgres.connect import is_url
from engine.store.transfer.pg_side import PgSide
from engine.store.transfer.sqlite_side import SqliteSide
from engine.store.transfer.tables import Digest, Table, insert_order

Side = SqliteSide | PgSide
# table, rows copied so far, rows it has in all: called after every chunk (`note` says
# what a long step without rows is doing)
Progress = Callable[[str, int, int], None]


class CopyRefused(StoreError):
    """The copy was not made, and nothing was written; the message says why."""


@dataclass
class Outcome:
    copied: bool  # False: the target already held this copy, and was left alone
    rows: dict[str, int]  # table -> rows (in the source, and now in the target)
    seconds: float
    created_schema: bool = False  # the target had no schema and got it with the copy
    report: Report = field(default_factory=Report)  # the checks run on the target


def copy_database(src: str, dst: str, *, progress: Progress | None = None,
                  note: Callable[[str], None] | None = None) -> Outcome:
    """Copy `src` into `dst` (a file path or a postgresql:// URL each). CopyRefused when
    the copy cannot or must not be made; StoreOpenError (and subclasses) when a database
    cannot be opened. Call it where no event loop runs."""
    if _same(src, dst):
        raise CopyRefused("the source and the target are the same database")
    began = time.perf_counter()
    with asyncio.Runner() as runner:
        source = _open(src, runner, target=False)
        try:
            target = _open(dst, runner, target=True)
        except BaseException:
            source.close()
            raise
        committed = False
        try:
            outcome = _copy(source, target, progress or (lambda _t, _n, _all: None),
                            note or (lambda _text: None))
            committed = True
        finally:
            source.rollback()
            source.close()
            target.close(committed=committed)
    outcome.seconds = time.perf_counter() - began
    return outcome


def _same(src: str, dst: str) -> bool:
    if is_url(src) or is_url(dst):
        return src == dst
    try:
        return os.path.samefile(src, dst)
    except OSError:
        return os.path.abspath(src) == os.path.abspath(dst)


def _open(where: str, runner: asyncio.Runner, *, target: bool) -> Side:
    if is_url(where):
        return PgSide.open(where, runner)
    return SqliteSide.target(where, runner) if target else SqliteSide.source(where)


def _upgrade_hint(side: Side, version: int) -> CopyRefused:
    return CopyRefused(
        f"{side.where}: the schema is version {version}, this program copies version"
        f" {side.latest}; run `diana db upgrade --db {_arg(side)}` first, then copy again")


def _arg(side: Side) -> str:
    return side.shown if isinstance(side, PgSide) else side.path


def _copy(source: Side, target: Side, progress: Progress,
          note: Callable[[str], None]) -> Outcome:
    version = source.version()
    if version < source.latest:
        raise _upgrade_hint(source, version)
    target.begin_write()
    try:
        outcome = _copy_in(source, target, progress, note)
        if outcome.copied:
            target.commit()
        else:
            target.rollback()
        return outcome
    except BaseException:
        target.rollback()
        raise


def _copy_in(source: Side, target: Side, progress: Progress,
             note: Callable[[str], None]) -> Outcome:
    created = False
    version = target.version()
    if version == 0 and isinstance(target, PgSide):
        target.create_schema()
        created = True
    elif version < target.latest:
        raise _upgrade_hint(target, version)
    source.begin_read()
    tables = _same_tables(source, target)
    json = source.json_columns() | target.json_columns()
    order = insert_order(tables)
    have = {t: source.count(t) for t in order}
    there = {t: target.count(t) for t in order}
    if any(there.values()):
        note("the target holds rows already: comparing them with the source's")
        _already_copied(source, target, tables, json, have, there)
        return Outcome(False, have, 0.0)
    for name in order:
        table, done = tables[name], 0
        progress(name, 0, have[name])
        for rows in source.chunks(table, table.columns):
            target.insert(name, table.columns, rows)
            done += len(rows)
            progress(name, done, have[name])
    target.finish_inserts(tables)
    note("checking the copy before it commits (row counts, balances, applied actions,"
         " leaderboards)")
    report = _verify(target, have)
    return Outcome(True, have, 0.0, created, report)


def _same_tables(source: Side, target: Side) -> dict[str, Table]:
    mine, theirs = source.tables(), target.tables()
    if mine.keys() != theirs.keys():
        only_s = ", ".join(sorted(mine.keys() - theirs.keys())) or "none"
        only_t = ", ".join(sorted(theirs.keys() - mine.keys())) or "none"
        raise CopyRefused(f"the two databases do not have the same tables (only in the"
                          f" source: {only_s}; only in the target: {only_t}); both need this"
                          " version of Diana's schema: run `diana db upgrade` on each")
    for name, table in mine.items():
        if set(table.columns) != set(theirs[name].columns):
            raise CopyRefused(f"table {name} has other columns in the source"
                              f" ({', '.join(table.columns)}) than in the target"
                              f" ({', '.join(theirs[name].columns)})")
    return mine


def _already_copied(source: Side, target: Side, tables: dict[str, Table],
                    json: set[tuple[str, str]], have: dict[str, int],
                    there: dict[str, int]) -> None:
    """Returns when the target holds exactly the source's rows; CopyRefused otherwise."""
    for name in tables:
        if have[name] != there[name]:
            raise _holds_other(target, f"{name}: {there[name]:,} rows, the source has"
                                       f" {have[name]:,}")
    for name, table in tables.items():
        at = frozenset(i for i, c in enumerate(table.columns) if (name, c) in json)
        digests = []
        for side in (source, target):
            d = Digest()
            for rows in side.chunks(table, table.columns):
                d.add(rows, at)
            digests.append(d)
        if digests[0] != digests[1]:
            raise _holds_other(target, f"{name}: as many rows as the source, but not the"
                                       " same ones")


def _holds_other(target: Side, detail: str) -> CopyRefused:
    return CopyRefused(f"{target.where} already holds other data ({detail}); nothing was"
                       " written: copy into an empty database")


def _verify(target: Side, have: dict[str, int]) -> Report:
    """The checks, on the target inside the copy's transaction: it commits only if they
    pass."""
    for name, n in have.items():
        got = target.count(name)
        if got != n:
            raise CopyRefused(f"table {name}: {got:,} rows written, the source has {n:,};"
                              " nothing was written")
    r = Report(version=target.version())
    db = target.reader()
    balances(db, r)
    applied(db, r)
    target.extra_checks(r, scores(db, r))
    if not r.ok:
        shown = "; ".join(r.problems[:3]) + ("; …" if len(r.problems) > 3 else "")
        raise CopyRefused(f"the copy fails the store's checks, so nothing was written"
                          f" ({len(r.problems)} problem(s): {shown}); run `diana db check`"
                          " on the source")
    return r
