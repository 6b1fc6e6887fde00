"""Operations that run alone, each in its own transaction (see engine/store/sqlite/admin.py
for the SQLite twin): register, reset, export, delete, profile, audit and swap.

Each returns (result for the caller, record or None); the player's save is locked
(SELECT … FOR UPDATE) for the rest of the transaction before it is changed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import asyncpg

from engine.outbox.events import from_reset
from engine.state import new_state
from engine.store.batch import Job, outbox_rows, replay
from engine.store.errors import AdminError, BatchFailed, PlayerExists, UnknownPlayer
from engine.store.interface import ActionResult, PlayerInfo
from engine.store.postgres import outbox
from engine.store.postgres.reads import load, stored_results
from engine.store.records import Record, dump_state, ledger_entry, to_json

if TYPE_CHECKING:
    from engine.store.postgres.store import PgStore

MAX_NAME = 64
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


def info(rec: Record) -> PlayerInfo:
    return PlayerInfo(rec.external, rec.name, rec.role, rec.locale, rec.created)


async def register(store: PgStore, c: asyncpg.Connection, job: Job
                   ) -> tuple[PlayerInfo, Record | None]:
    a = job.args
    now = store.clock()
    state = new_state(store.game.content, name=a["name"], role=a["role"], locale=a["locale"],
                      seed=a["seed"])
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
        return info(found), found
    await c.execute(
        "INSERT INTO saves (player, state, content_version, fragment, version, points,"
        " ledger_seq, ledger_from, updated) VALUES ($1, $2::jsonb, $3, NULL, 0, 0, 0, 0, $4)",
        pid, dump_state(state), store.game.content.version, now)
    await event(store, c, pid, "register", None, True,
                {"name": p["name"], "role": p["role"], "locale": p["locale"]})
    rec = Record(pid, job.player, p["name"], p["role"], p["locale"], now, state, 0, 0, 0, 0, 0)
    return PlayerInfo(job.player, p["name"], p["role"], p["locale"], now), rec


async def reset(store: PgStore, c: asyncpg.Connection, job: Job
                ) -> tuple[ActionResult, Record | None]:
    rec = await locked(c, job.player)
    if job.key:
        stored = (await stored_results(c, [job.key])).get(job.key)
        if stored is not None:
            return replay(job.key, job.player, stored), None
    now, actor = store.clock(), job.args["actor"]
    old = rec.state
    seed = job.args.get("seed")
    state = new_state(store.game.content, name=rec.name, role=rec.role, locale=rec.locale,
                      seed=old["seed"] if seed is None else seed)
    # The turn counter keeps running, as on SQLite: no old button lines up with a new turn.
    state["turn"] = old["turn"]
    written = 0
    if rec.points:
        rec.ledger_seq += 1
        written = 1
        e = ledger_entry(-rec.points, "reset", f"admin:{actor}", old["turn"], old["day"])
        await c.execute(
            "INSERT INTO ledger (player, seq, amount, kind, reason, cause, key, time, turn,"
            " day) VALUES ($1, $2, $3, 'reset', $4, $5, $6, $7, $8, $9)",
            rec.id, rec.ledger_seq, e["amount"], e["reason"], e["cause"], job.key, now,
            e["turn"], e["day"])
    rec.ledger_from = rec.carry_to = rec.ledger_seq
    rec.carry = 0
    rec.state, rec.points = state, 0
    rec.version += 1
    if store.outbox_game is not None:
        rows = outbox_rows(store.outbox_game, rec.id, rec.external, rec.outbox_seq, job.key,
                           now, store.game.content.version, from_reset(actor, old["points"]))
        await c.executemany(outbox.INSERT, rows)
        rec.outbox_seq += len(rows)
    status = await c.execute(
        "UPDATE saves SET state = $1::jsonb, content_version = $2, fragment = NULL,"
        " version = $3, points = 0, ledger_seq = $4, ledger_from = $5, carry_to = $6,"
        " carry = 0, updated = $7, outbox_seq = $8 WHERE player = $9 AND version = $10",
        dump_state(state), store.game.content.version, rec.version, rec.ledger_seq,
        rec.ledger_from, rec.carry_to, now, rec.outbox_seq, rec.id, rec.stored_version)
    if status != "UPDATE 1":
        raise BatchFailed("the save changed while it was locked; run `diana db check`")
    await c.execute("DELETE FROM scores WHERE player = $1", rec.id)
    await c.execute("DELETE FROM achievements WHERE player = $1", rec.id)
    summary = {"op": "reset", "ok": True, "error": None, "message": None,
               "turn": state["turn"], "fragment": None, "points": 0, "ledger": written,
               "actor": actor, "previous_points": old["points"]}
    await event(store, c, rec.id, "reset", job.key, True, summary)
    if job.key:
        await c.execute(
            "INSERT INTO applied_actions (key, player, op, ok, version, ledger, result)"
            " VALUES ($1, $2, 'reset', 1, $3, $4, $5)",
            job.key, rec.id, rec.version, written, to_json(summary))
    return ActionResult(job.key or "", job.player, True, None, None, rec.version, summary), rec


async def export(store: PgStore, c: asyncpg.Connection, job: Job
                 ) -> tuple[dict[str, Any], None]:
    rec = await locked(c, job.player)

    async def rows(sql: str) -> list[dict[str, Any]]:
        return [dict(r) for r in await c.fetch(sql, rec.id)]

    data = {
        "format": 1,
        "player": {"id": rec.external, "name": rec.name, "role": rec.role,
                   "locale": rec.locale, "created": rec.created},
        "save": {"version": rec.version, "points": rec.points, "state": rec.state},
        "ledger": await rows("SELECT seq, amount, kind, reason, cause, key, time, turn, day,"
                             " extra FROM ledger WHERE player = $1 ORDER BY seq"),
        "achievements": await rows("SELECT achievement, time FROM achievements"
                                   " WHERE player = $1 ORDER BY time, achievement"),
        "scores": await rows("SELECT board, score, reached FROM scores WHERE player = $1"
                             " ORDER BY board"),
        "events": await rows("SELECT time, op, key, ok, detail::text AS detail FROM events"
                             " WHERE player = $1 ORDER BY id"),
    }
    for e in data["events"]:
        e["detail"] = json.loads(e["detail"])
    await event(store, c, rec.id, "export", None, True, {"actor": job.args["actor"]})
    return data, None


async def delete(store: PgStore, c: asyncpg.Connection, job: Job) -> tuple[None, None]:
    rec = await locked(c, job.player)
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
    manifest = store.game.content.manifest
    locale, name = a.get("locale"), a.get("name")
    if locale is not None and locale not in manifest.locales:
        raise AdminError(f"unknown locale `{locale}`: the story has"
                         f" {', '.join(manifest.locales)}")
    if name is not None:
        name = " ".join(str(name).split())
        if not name or len(name) > MAX_NAME:
            raise AdminError(f"a name has 1 to {MAX_NAME} characters")
    person = dict(rec.state["player"])
    changes: dict[str, Any] = {}
    for field, value in (("locale", locale), ("name", name)):
        if value is not None and value != person.get(field):
            changes[field] = {"from": person.get(field), "to": value}
            person[field] = value
    if not changes:
        return info(rec), None
    state = {**rec.state, "player": person}
    rec.version += 1
    await c.execute("UPDATE players SET name = $1, locale = $2 WHERE id = $3",
                    person["name"], person["locale"], rec.id)
    await c.execute("UPDATE saves SET state = $1::jsonb, version = $2, updated = $3"
                    " WHERE player = $4", dump_state(state), rec.version, store.clock(), rec.id)
    rec.state, rec.name, rec.locale = state, person["name"], person["locale"]
    await event(store, c, rec.id, "profile", None, True,
                {"actor": a.get("actor") or job.player, **changes})
    return info(rec), rec


async def audit(store: PgStore, c: asyncpg.Connection, job: Job) -> tuple[None, None]:
    a = job.args
    pid = await c.fetchval("SELECT id FROM players WHERE external_id = $1", job.player)
    await event(store, c, pid, a["op"], None, a["ok"], {"actor": job.player, **a["detail"]})
    return None, None


async def swap(store: PgStore, c: asyncpg.Connection, job: Job) -> tuple[Any, None]:
    old, new = store.game.content, job.args["game"].content
    await event(store, c, None, "content", None, True, {
        "actor": job.args["actor"], "from": old.version, "from_digest": old.digest,
        "to": new.version, "to_digest": new.digest})
    return store.game, None


HANDLERS = {"register": register, "reset": reset, "export": export, "delete": delete,
            "profile": profile, "audit": audit, "swap": swap}
