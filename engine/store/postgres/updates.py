"""The update-id ledger and the shared rate limit on PostgreSQL (tables of migration
0003): what lets several bot workers share one database.

They run on a pool of their own whose sessions commit with synchronous_commit off: a
claim or a counter lost in a server crash costs at most one duplicate message or a few
more updates let through, never an action applied twice (actions are exactly-once by
their own keys, in the writer's durable transactions), and not waiting for the WAL flush
keeps them at one round trip each."""

from __future__ import annotations

import asyncpg

# Rows this old are deleted now and then: Telegram stops redelivering an update long
# before (it keeps unconfirmed updates for 24 hours).
KEEP = 3 * 24 * 3600.0
PRUNE_EVERY = 2000  # claims between two prunings

CLAIM = ("INSERT INTO handled_updates AS h (update_id, owner, until, done, time)"
         " VALUES ($1, $2, $3, false, $4) ON CONFLICT (update_id) DO UPDATE"
         " SET owner = excluded.owner, until = excluded.until"
         " WHERE NOT h.done AND h.until < excluded.time RETURNING update_id")
FINISH = "UPDATE handled_updates SET done = true WHERE update_id = $1 AND owner = $2"
RELEASE = "DELETE FROM handled_updates WHERE update_id = $1 AND owner = $2 AND NOT done"
PRUNE = "DELETE FROM handled_updates WHERE time < $1"
HIT = ("INSERT INTO rate_limits AS r (subject, since, hits) VALUES ($1, $2, 1)"
       " ON CONFLICT (subject) DO UPDATE SET"
       " since = CASE WHEN r.since <= $2 - $3 THEN $2 ELSE r.since END,"
       " hits = CASE WHEN r.since <= $2 - $3 THEN 1 ELSE r.hits + 1 END RETURNING hits")
PRUNE_RATES = "DELETE FROM rate_limits WHERE since < $1"


async def claim(pool: asyncpg.Pool, update_id: int, owner: str, now: float,
                lease: float) -> bool:
    return await pool.fetchval(CLAIM, update_id, owner, now + lease, now) is not None


async def finish(pool: asyncpg.Pool, update_id: int, owner: str, done: bool) -> None:
    await pool.execute(FINISH if done else RELEASE, update_id, owner)


async def prune(pool: asyncpg.Pool, now: float) -> None:
    await pool.execute(PRUNE, now - KEEP)
    await pool.execute(PRUNE_RATES, now - KEEP)


async def hit(pool: asyncpg.Pool, subject: str, now: float, window: float) -> int:
    """Count one update of `subject` in its current window; the window's count so far."""
    return int(await pool.fetchval(HIT, subject, now, window))
