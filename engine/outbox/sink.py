"""The stats sink: one real consumer of the stream, keeping aggregate tables in an SQLite
file of its own (`diana events sink --db stats.sqlite3`).

Each event is checked against its schema (schemas.py) and applied in one transaction with
the player's last seq: an event at or below it was applied already (the broker redelivers
what was not acknowledged) and changes nothing. The message is acknowledged after COMMIT.
An event it cannot handle (not JSON, an unknown type, a schema violation) is parked on the
dead-letter subject `dlq.<its subject>` with the reason, then acknowledged.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from engine.outbox.schemas import problem

SCHEMA = """
CREATE TABLE IF NOT EXISTS sink_players (
    game TEXT NOT NULL, player TEXT NOT NULL,
    seq INTEGER NOT NULL,           -- the last event applied
    points INTEGER NOT NULL DEFAULT 0, earned INTEGER NOT NULL DEFAULT 0,
    level INTEGER NOT NULL DEFAULT 1, achievements INTEGER NOT NULL DEFAULT 0,
    endings INTEGER NOT NULL DEFAULT 0, choices INTEGER NOT NULL DEFAULT 0,
    last REAL NOT NULL,
    PRIMARY KEY (game, player)
);
CREATE TABLE IF NOT EXISTS sink_counts (
    game TEXT NOT NULL, type TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (game, type)
);
CREATE TABLE IF NOT EXISTS sink_fragments (
    game TEXT NOT NULL, fragment TEXT NOT NULL, entries INTEGER NOT NULL,
    endings INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (game, fragment)
);
CREATE TABLE IF NOT EXISTS sink_achievements (
    game TEXT NOT NULL, achievement TEXT NOT NULL, players INTEGER NOT NULL,
    PRIMARY KEY (game, achievement)
);
"""


class Unhandled(Exception):
    """An event the sink cannot apply: it goes to the dead-letter subject."""


def parse(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unhandled(f"not JSON: {exc}") from exc
    why = problem(event)
    if why is not None:
        raise Unhandled(why)
    return event


class Stats:
    """The sink's tables; `apply` is idempotent per (game, player, seq)."""

    def __init__(self, path: str | Path) -> None:
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def apply(self, event: dict[str, Any]) -> bool:
        """Apply one valid event; False if it was applied before (a redelivery)."""
        db = self.conn
        game, player, seq = event["game"], event["player"], event["seq"]
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT seq FROM sink_players WHERE game = ? AND player = ?",
                             (game, player)).fetchone()
            if row is not None and seq <= row[0]:
                db.execute("ROLLBACK")
                return False
            if row is None:
                db.execute("INSERT INTO sink_players (game, player, seq, last) VALUES"
                           " (?, ?, 0, 0)", (game, player))
            _effect(db, event)
            db.execute("UPDATE sink_players SET seq = ?, last = ? WHERE game = ? AND"
                       " player = ?", (seq, event["time"], game, player))
            db.execute("INSERT INTO sink_counts VALUES (?, ?, 1) ON CONFLICT DO UPDATE SET"
                       " n = n + 1", (game, event["type"]))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return True


def _effect(db: sqlite3.Connection, event: dict[str, Any]) -> None:
    game, player, type_, data = event["game"], event["player"], event["type"], event["data"]
    who = (game, player)
    if type_ in ("points.awarded", "points.granted"):
        db.execute("UPDATE sink_players SET points = points + ?, earned = earned + ?"
                   " WHERE game = ? AND player = ?", (data["points"], data["points"], *who))
    elif type_ in ("points.spent", "points.revoked"):
        db.execute("UPDATE sink_players SET points = points - ? WHERE game = ? AND"
                   " player = ?", (data["points"], *who))
    elif type_ == "player.reset":
        db.execute("UPDATE sink_players SET points = 0, achievements = 0 WHERE game = ? AND"
                   " player = ?", who)
    elif type_ == "level.up":
        db.execute("UPDATE sink_players SET level = max(level, ?) WHERE game = ? AND"
                   " player = ?", (data["level"], *who))
    elif type_ == "achievement.unlocked":
        db.execute("UPDATE sink_players SET achievements = achievements + 1 WHERE game = ?"
                   " AND player = ?", who)
        db.execute("INSERT INTO sink_achievements VALUES (?, ?, 1) ON CONFLICT DO UPDATE"
                   " SET players = players + 1", (game, data["achievement"]))
    elif type_ == "fragment.entered":
        db.execute("INSERT INTO sink_fragments (game, fragment, entries) VALUES (?, ?, 1)"
                   " ON CONFLICT DO UPDATE SET entries = entries + 1",
                   (game, data["fragment"]))
    elif type_ == "ending.reached":
        db.execute("UPDATE sink_players SET endings = endings + 1 WHERE game = ? AND"
                   " player = ?", who)
        db.execute("UPDATE sink_fragments SET endings = endings + 1 WHERE game = ? AND"
                   " fragment = ?", (game, data["fragment"]))
    elif type_ == "choice.taken":
        db.execute("UPDATE sink_players SET choices = choices + 1 WHERE game = ? AND"
                   " player = ?", who)


async def consume(broker: Any, stats: Stats, game: str, *, durable: str = "diana-sink",
                  batch: int = 256, stop: Any = None, on_event: Any = None) -> None:
    """Pull events of `game` from the broker (a jetstream.JetStream) into `stats` until
    `stop` (an asyncio.Event) is set. A durable consumer: a sink restarted goes on from
    the last acknowledged event."""
    from nats.errors import TimeoutError as NatsTimeout

    from engine.outbox.events import PREFIX

    await broker.connect()
    await broker.ensure_stream(game)
    sub = await broker.js.pull_subscribe(f"{PREFIX}.{game}.>", durable=durable)
    while stop is None or not stop.is_set():
        try:
            msgs = await sub.fetch(batch, timeout=0.5)
        except NatsTimeout:
            continue
        except TimeoutError:
            continue
        for msg in msgs:
            try:
                event = parse(msg.data)
                applied = stats.apply(event)
            except Unhandled as exc:
                await broker.dead_letter(msg.subject, msg.data, str(exc))
                applied = False
            await msg.ack()
            if on_event is not None:
                on_event(msg.subject, applied)
