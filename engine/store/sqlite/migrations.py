"""Versioned schema migrations, tracked in `PRAGMA user_version`.

Append a new (version, script) pair to add a migration; never edit a released one.
Each script runs in one transaction together with the version bump (connect.upgrade).
"""

from __future__ import annotations

import sqlite3

from engine.store.errors import SchemaTooNew

# reached_at >> BUCKET_BITS groups tied scores for the rank histogram (see leaderboard.py).
BUCKET_BITS = 12

_V1 = f"""
CREATE TABLE players (
    id          INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,          -- Telegram user id, CLI player name, ...
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    locale      TEXT NOT NULL,
    created     REAL NOT NULL
);

CREATE TABLE saves (
    player          INTEGER PRIMARY KEY REFERENCES players(id) ON DELETE CASCADE,
    state           TEXT NOT NULL,             -- engine state as JSON, without its ledger
    content_version TEXT NOT NULL,             -- content version the save was written under
    fragment        TEXT,
    version         INTEGER NOT NULL,          -- +1 per change; optimistic concurrency
    points          INTEGER NOT NULL,          -- == sum(ledger.amount) of the player
    ledger_seq      INTEGER NOT NULL,          -- last per-player ledger seq
    ledger_from     INTEGER NOT NULL,          -- the state's ledger = entries with seq > this
    updated         REAL NOT NULL
);

-- Append-only: UPDATE is refused; DELETE only when the player is erased.
CREATE TABLE ledger (
    id      INTEGER PRIMARY KEY,               -- global order; also the leaderboard tie-break
    player  INTEGER NOT NULL REFERENCES players(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,                  -- running number per player
    amount  INTEGER NOT NULL,
    kind    TEXT NOT NULL,                     -- award, spend, grant, revoke, reset
    reason  TEXT NOT NULL,
    cause   TEXT NOT NULL,
    key     TEXT,                              -- idempotency key of the action / admin op
    time    REAL NOT NULL,
    turn    INTEGER,
    day     TEXT,
    extra   TEXT,                              -- JSON: other fields of the state's entry
    UNIQUE (player, seq)
);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
WHEN EXISTS (SELECT 1 FROM players WHERE id = OLD.player)
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

CREATE TABLE achievements (
    player      INTEGER NOT NULL REFERENCES players(id) ON DELETE CASCADE,
    achievement TEXT NOT NULL,
    time        REAL NOT NULL,
    PRIMARY KEY (player, achievement)
) WITHOUT ROWID;

-- Audit trail of every action and admin operation, with its outcome.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    time    REAL NOT NULL,
    player  INTEGER,                           -- no foreign key: survives erasure
    op      TEXT NOT NULL,                     -- action register grant revoke reset delete export
    key     TEXT,
    ok      INTEGER NOT NULL,
    detail  TEXT NOT NULL                      -- JSON: the request and a summary of the outcome
);
CREATE INDEX events_player ON events(player, id);

CREATE TABLE applied_actions (
    key     TEXT PRIMARY KEY,
    player  INTEGER NOT NULL REFERENCES players(id) ON DELETE CASCADE,
    op      TEXT NOT NULL,
    ok      INTEGER NOT NULL,
    version INTEGER NOT NULL,                  -- save version after the operation
    ledger  INTEGER NOT NULL,                  -- ledger entries it wrote
    result  TEXT NOT NULL                      -- JSON summary returned on a replay
) WITHOUT ROWID;

-- Leaderboards: per board (all, w:YYYY-Www, m:YYYY-MM) a running total per player.
CREATE TABLE scores (
    board   TEXT NOT NULL,
    player  INTEGER NOT NULL REFERENCES players(id) ON DELETE CASCADE,
    score   INTEGER NOT NULL,
    reached INTEGER NOT NULL,                  -- ledger id at which the score was reached
    PRIMARY KEY (board, player)
) WITHOUT ROWID;
CREATE INDEX scores_rank ON scores(board, score DESC, reached, player);

-- How many players hold each score, and each (score, reached bucket): a player's own rank
-- without counting a long run of index entries (see leaderboard.py).
CREATE TABLE score_count (
    board  TEXT NOT NULL,
    score  INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (board, score)
) WITHOUT ROWID;
CREATE TABLE score_hist (
    board  TEXT NOT NULL,
    score  INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (board, score, bucket)
) WITHOUT ROWID;
CREATE TRIGGER scores_ins AFTER INSERT ON scores BEGIN
    INSERT INTO score_count VALUES (NEW.board, NEW.score, 1) ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO score_hist VALUES (NEW.board, NEW.score, NEW.reached >> {BUCKET_BITS}, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER scores_del AFTER DELETE ON scores BEGIN
    UPDATE score_count SET n = n - 1 WHERE board = OLD.board AND score = OLD.score;
    UPDATE score_hist SET n = n - 1
    WHERE board = OLD.board AND score = OLD.score AND bucket = OLD.reached >> {BUCKET_BITS};
END;
CREATE TRIGGER scores_upd AFTER UPDATE ON scores BEGIN
    UPDATE score_count SET n = n - 1 WHERE board = OLD.board AND score = OLD.score;
    INSERT INTO score_count VALUES (NEW.board, NEW.score, 1) ON CONFLICT DO UPDATE SET n = n + 1;
    UPDATE score_hist SET n = n - 1
    WHERE board = OLD.board AND score = OLD.score AND bucket = OLD.reached >> {BUCKET_BITS};
    INSERT INTO score_hist VALUES (NEW.board, NEW.score, NEW.reached >> {BUCKET_BITS}, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
"""

# The state a player's record holds in memory starts, once their ledger since the last
# reset grows long, with one entry carrying the sum of the older ones (see records.fold).
_V2 = """
ALTER TABLE saves ADD COLUMN carry_to INTEGER NOT NULL DEFAULT 0;  -- folded: seq <= this
ALTER TABLE saves ADD COLUMN carry INTEGER NOT NULL DEFAULT 0;  -- their sum (after ledger_from)
"""

# The transactional outbox (engine/outbox): every applied action's domain events, written
# in the save's transaction, sent to the broker by a publisher that leases them.
_V3 = """
ALTER TABLE saves ADD COLUMN outbox_seq INTEGER NOT NULL DEFAULT 0;  -- the player's last seq
CREATE TABLE outbox (
    id        INTEGER PRIMARY KEY,             -- the order events were written in
    event_id  TEXT NOT NULL,                   -- action key # index: the broker's dedup id
    player    INTEGER NOT NULL,                -- no foreign key: the erasure deletes them
    seq       INTEGER NOT NULL,                -- per player, 1, 2, 3 ...
    subject   TEXT NOT NULL,                   -- diana.<game>.<kind>.<verb>
    time      REAL NOT NULL,
    body      TEXT NOT NULL,                   -- the event's JSON, as sent
    published REAL,                            -- when the broker acknowledged it
    lease     REAL,                            -- PostgreSQL's row leases: unused here (the
    owner     TEXT                             -- same columns on both, for `diana db copy`)
);
CREATE INDEX outbox_pending ON outbox(id) WHERE published IS NULL;
CREATE INDEX outbox_time ON outbox(time);
-- Which publisher sends the outbox now, until when (see sqlite/outbox.py): one row once
-- a publisher has run.
CREATE TABLE outbox_lease (
    one   INTEGER PRIMARY KEY CHECK (one = 1),
    owner TEXT,
    until REAL NOT NULL
);
"""

# The update-id ledger (engine/store/sqlite/updates.py; postgres migration 0003).
_V4 = """
CREATE TABLE handled_updates (
    update_id INTEGER PRIMARY KEY,
    owner     TEXT NOT NULL,     -- host:pid of the process that holds it
    until     REAL NOT NULL,     -- the claim's lease (epoch seconds)
    done      INTEGER NOT NULL DEFAULT 0,
    time      REAL NOT NULL      -- first claimed
);
CREATE INDEX handled_updates_time ON handled_updates(time);
"""

MIGRATIONS: list[tuple[int, str]] = [(1, _V1), (2, _V2), (3, _V3), (4, _V4)]
LATEST = MIGRATIONS[-1][0]


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def check_version(version: int, path: str) -> None:
    if version > LATEST:
        raise SchemaTooNew(
            f"{path}: the database schema is version {version}, newer than this program"
            f" understands ({LATEST}); upgrade Diana before opening it")


def pending(version: int) -> list[tuple[int, str]]:
    return [(v, sql) for v, sql in MIGRATIONS if v > version]


def statements(sql: str) -> list[str]:
    """A migration script as single statements, to run inside a transaction the caller
    holds (executescript would commit it first). Trigger bodies stay whole."""
    out: list[str] = []
    current = ""
    for part in sql.split(";"):
        current += part + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \n;"):
                out.append(current.strip())
            current = ""
    if current.strip(" \n;"):
        raise ValueError(f"an incomplete statement in a migration: {current.strip()!r}")
    return out
