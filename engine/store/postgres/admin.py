"""Operations that run alone, each in its own transaction: register, reset, export, delete,
profile, audit and swap. What each decides is engine/store/admin.py's, shared with SQLite
(sqlite/admin.py); here is PostgreSQL's SQL.

Each returns (result for the caller, record or None); the player's save is locked
(SELECT … FOR UPDATE) for the rest of the transaction before it is changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import asyncpg

from engine.outbox.events import from_reset
from engine.store import admin as core
from engine.store.batch import Job, outbox_rows, replay
from engine.store.errors import BatchFailed, PlayerExists, UnknownPlayer
from engine.store.interface import ActionResult, PlayerInfo
from engine.store.postgres import outbox, ranks
from engine.store.postgres.reads import load, stored_results
from engine.store.records import Record, dump_state, to_json

if TYPE_CHECKING:
    from engine.store.postgres.store import PgStore

INSERT_EVENT = ("INSERT INTO events (time, player, op, key, ok, detail)"
                " VALUES ($1, $2, $3, $4, $5, $6::jsonb)")


async def event(store: PgStore, c: asyncpg.Connection, pid: int | None, op: str,
                key: str | None, ok: bool, detail: dict[str, Any]) -> None:
    await c.execute(INSERT_EVENT, store.clock(), pid, op, key, int(ok), to_json(detail))


async def locked(c: asyncpg.Connection, player: str) -> Record:
    rec = (await load(c, [player], lock=True)).get(player)
    if rec is None:
        raise UnknownPlayer(f"unknown player `{player}`")
    return rec


def _dollars(sql: str) -> str:
    return sql.replace("?", "$1")


async def register(store: PgStore, c: asyncpg.Connection, job: Job
                   ) -> tuple[PlayerInfo, Record | None]:
    a = job.args
    now = store.clock()
    state = core.registered(store.game, a)
    p = state["player"]
    # ON CONFLICT: another process registering the same player at once is not an error.
    pid = await c.fetchval(
        "INSERT INTO players (external_id, name, role, locale, created)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (external_id) DO NOTHING RETURNING id",
        job.player, p["name"], p["role"], p["locale"], now)
    if pid is None:
        if not a["exist_ok"]:
            raise PlayerExists(f"player `{job.player}` already exists")
        found = (await load(c, [job.player])).get(job.player)
        if found is None:
            raise BatchFailed(f"player `{job.player}` has no save; run `diana db check`")
        return core.info(found), found
    await c.execute(
        "INSERT INTO saves (player, state, content_version, fragment, version, points,"
        " ledger_seq, ledger_from, updated) VALUES ($1, $2::jsonb, $3, NULL, 0, 0, 0, 0, $4)",
        pid, dump_state(state), store.game.content.version, now)
    await event(store, c, pid, "register", None, True, core.register_detail(state))
    rec = Record(pid, job.player, p["name"], p["role"], p["locale"], now, state, 0, 0, 0, 0, 0)
    return core.info(rec), rec


async def reset(store: PgStore, c: asyncpg.Connection, job: Job
                ) -> tuple[ActionResult, Record | None]:
    rec = await locked(c, job.player)
    if job.key:
        stored = (await stored_results(c, [job.key])).get(job.key)
        if stored is not None:
            return replay(job.key, job.player, stored), None
    now = store.clock()
    done = core.reset(store.game, rec, actor=job.args["actor"], key=job.key,
                      seed=job.args.get("seed"))
    if done.entry is not None:
        e = done.entry
        await c.execute(
            "INSERT INTO ledger (player, seq, amount, kind, reason, cause, key, time, turn,"
            " day) VALUES ($1, $2, $3, 'reset', $4, $5, $6, $7, $8, $9)",
            rec.id, rec.ledger_seq, e["amount"], e["reason"], e["cause"], job.key, now,
            e["turn"], e["day"])
    if store.outbox_game is not None:
        rows = outbox_rows(store.outbox_game, rec.id, rec.external, rec.outbox_seq, job.key,
                           now, store.game.content.version,
                           from_reset(job.args["actor"], done.summary["previous_points"]))
        await c.executemany(outbox.INSERT, rows)
        rec.outbox_seq += len(rows)
    status = await c.execute(
        "UPDATE saves SET state = $1::jsonb, content_version = $2, fragment = NULL,"
        " version = $3, points = 0, ledger_seq = $4, ledger_from = $5, carry_to = $6,"
        " carry = 0, updated = $7, outbox_seq = $8 WHERE player = $9 AND version = $10",
        dump_state(rec.state), store.game.content.version, rec.version, rec.ledger_seq,
        rec.ledger_from, rec.carry_to, now, rec.outbox_seq, rec.id, rec.stored_version)
    if status != "UPDATE 1":
        raise BatchFailed("the save changed while it was locked; run `diana db check`")
    await c.execute("DELETE FROM achievements WHERE player = $1", rec.id)
    await event(store, c, rec.id, "reset", job.key, True, done.summary)
    if job.key:
        await c.execute(
            "INSERT INTO applied_actions (key, player, op, ok, version, ledger, result)"
            " VALUES ($1, $2, 'reset', 1, $3, $4, $5)",
            job.key, rec.id, rec.version, done.summary["ledger"], to_json(done.summary))
    await ranks.forget(c, rec.id)  # last: the counters are shared (ranks.py)
    return done.result, rec


async def export(store: PgStore, c: asyncpg.Connection, job: Job
                 ) -> tuple[dict[str, Any], None]:
    rec = await locked(c, job.player)

    async def rows(sql: str) -> list[dict[str, Any]]:
        return [dict(r) for r in await c.fetch(_dollars(sql), rec.id)]

    data = core.export_document(
        rec, await rows(core.EXPORT_LEDGER), await rows(core.EXPORT_ACHIEVEMENTS),
        await rows(core.EXPORT_SCORES),
        await rows("SELECT time, op, key, ok, detail::text AS detail FROM events"
                   " WHERE player = ? ORDER BY id"))
    await event(store, c, rec.id, "export", None, True, {"actor": job.args["actor"]})
    return data, None


async def delete(store: PgStore, c: asyncpg.Connection, job: Job) -> tuple[None, None]:
    rec = await locked(c, job.player)
    await ranks.forget(c, rec.id)
    await c.execute("DELETE FROM events WHERE player = $1", rec.id)
    await c.execute("DELETE FROM outbox WHERE player = $1", rec.id)
    await c.execute("DELETE FROM players WHERE id = $1", rec.id)
    await event(store, c, rec.id, "delete", None, True,
                {"actor": job.args["actor"], "erased": True})
    return None, None


async def profile(store: PgStore, c: asyncpg.Connection, job: Job
                  ) -> tuple[PlayerInfo, Record | None]:
    rec = await locked(c, job.player)
    a = job.args
    change = core.profile(store.game.content.manifest, rec, locale=a.get("locale"),
                          name=a.get("name"))
    if change is None:
        return core.info(rec), None
    person = change.state["player"]
    rec.version += 1
    await c.execute("UPDATE players SET name = $1, locale = $2 WHERE id = $3",
                    person["name"], person["locale"], rec.id)
    await c.execute("UPDATE saves SET state = $1::jsonb, version = $2, updated = $3"
                    " WHERE player = $4", dump_state(change.state), rec.version, store.clock(),
                    rec.id)
    core.apply_profile(rec, change)
    await event(store, c, rec.id, "profile", None, True,
                {"actor": a.get("actor") or job.player, **change.changes})
    return core.info(rec), rec


async def audit(store: PgStore, c: asyncpg.Connection, job: Job) -> tuple[None, None]:
    a = job.args
    pid = await c.fetchval("SELECT id FROM players WHERE external_id = $1", job.player)
    await event(store, c, pid, a["op"], None, a["ok"], {"actor": job.player, **a["detail"]})
    return None, None


async def swap(store: PgStore, c: asyncpg.Connection, job: Job) -> tuple[Any, None]:
    await event(store, c, None, "content", None, True,
                core.swap_detail(store.game, job.args["game"], job.args["actor"]))
    return store.game, None


HANDLERS = {"register": register, "reset": reset, "export": export, "delete": delete,
            "profile": profile, "audit": audit, "swap": swap}
