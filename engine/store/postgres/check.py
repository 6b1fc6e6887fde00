"""`diana db check` on PostgreSQL: the shared invariants (engine/store/invariants.py) on
one read-only snapshot of the database."""

from __future__ import annotations

import asyncpg

from engine.store.errors import StoreOpenError
from engine.store.invariants import Report, applied, balances, score_counts, scores
from engine.store.postgres.connect import shown
from engine.store.postgres.ranks import BUCKET_BITS
from engine.store.postgres.schema import LATEST
from engine.store.postgres.snapshot import snapshot


def check(url: str) -> Report:
    """Raises StoreOpenError when the database cannot be checked at all. Call it where no
    event loop runs (it runs its own)."""
    with snapshot(url) as (version, db):
        r = Report()
        r.version = version
        if r.version < LATEST:
            r.add(f"the schema is version {r.version}, the latest is {LATEST}: run"
                  " `diana db upgrade`")
            return r
        try:
            balances(db, r)
            applied(db, r)
            score_counts(db, r, scores(db, r), BUCKET_BITS)
        except asyncpg.PostgresError as exc:
            raise StoreOpenError(f"DIANA_DB ({shown(url)}): the check failed: {exc}") from exc
        return r
