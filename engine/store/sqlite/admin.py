"""Operations that run alone, each in its own transaction: register, reset, export, delete,
profile (a player's locale and name), audit (an event only) and swap (the content).

Each returns (result for the caller, record to publish in the cache after COMMIT or None).
What each decides is engine/store/admin.py's, shared with PostgreSQL; here is SQLite's SQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiosqlite

from engine.outbox.events import from_reset
from engine.store import admin as core
from engine.store.batch import Job, outbox_rows, replay
from engine.store.errors import BatchFailed, PlayerExists, UnknownPlayer
from engine.store.interface import ActionResult, PlayerInfo
from engine.store.records import Record, dump_state, to_json
from engine.store.sqlite import outbox
from engine.store.sqlite.reads import load, stored_results

if TYPE_CHECKING:
    from engine.store.sqlite.store import SqliteStore


async def event(
    store: SqliteStore,
    w: aiosqlite.Connection,
    pid: int | None,
    op: str,
    key: str | None,
    ok: bool,
    detail: dict[str, Any],
) -> None:
    await w.execute(
        "INSERT INTO events (time, player, op, key, ok, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (store.clock(), pid, op, key, int(ok), to_json(detail)),
    )


async def fresh(store: SqliteStore, w: aiosqlite.Connection, player: str) -> Record:
    """The player's committed record, read under the write lock: another process may have
    changed it since this one cached it."""
    rec = (await load(w, [player])).get(player)
    if rec is None:
        raise UnknownPlayer(f"unknown player `{player}`")
    return rec.copy()


async def register(
    store: SqliteStore, w: aiosqlite.Connection, job: Job
) -> tuple[PlayerInfo, Record | None]:
    a = job.args
    found = (await load(w, [job.player])).get(job.player)
    if found is not None:
        if not a["exist_ok"]:
            raise PlayerExists(f"player `{job.player}` already exists")
        return core.info(found), found
    now = store.clock()
    state = core.registered(store.game, a)
    p = state["player"]
    cur = await w.execute(
        "INSERT INTO players (external_id, name, role, locale, created) VALUES (?,?,?,?,?)",
        (job.player, p["name"], p["role"], p["locale"], now),
    )
    pid = cur.lastrowid
    assert pid is not None
    await w.execute(
        "INSERT INTO saves (player, state, content_version, fragment, version, points,"
        " ledger_seq, ledger_from, updated) VALUES (?, ?, ?, ?, 0, 0, 0, 0, ?)",
        (pid, dump_state(state), store.game.content.version, None, now),
    )
    await event(store, w, pid, "register", None, True, core.register_detail(state))
    rec = Record(pid, job.player, p["name"], p["role"], p["locale"], now, state, 0, 0, 0, 0, 0)
    return core.info(rec), rec


async def reset(
    store: SqliteStore, w: aiosqlite.Connection, job: Job
) -> tuple[ActionResult, Record | None]:
    rec = await fresh(store, w, job.player)
    if job.key:
        stored = (await stored_results(w, [job.key])).get(job.key)
        if stored is not None:
            return replay(job.key, job.player, stored), None
    now = store.clock()
    done = core.reset(store.game, rec, actor=job.args["actor"], key=job.key,
                      seed=job.args.get("seed"))
    if done.entry is not None:
        e = done.entry
        await w.execute(
            "INSERT INTO ledger (player, seq, amount, kind, reason, cause, key, time, turn,"
            " day) VALUES (?, ?, ?, 'reset', ?, ?, ?, ?, ?, ?)",
            (rec.id, rec.ledger_seq, e["amount"], e["reason"], e["cause"], job.key, now,
             e["turn"], e["day"]),
        )
    if store.outbox_game is not None:
        rows = outbox_rows(store.outbox_game, rec.id, rec.external, rec.outbox_seq, job.key,
                           now, store.game.content.version,
                           from_reset(job.args["actor"], done.summary["previous_points"]))
        await w.executemany(outbox.INSERT, rows)
        rec.outbox_seq += len(rows)
    cur = await w.execute(
        "UPDATE saves SET state = ?, content_version = ?, fragment = NULL, version = ?,"
        " points = 0, ledger_seq = ?, ledger_from = ?, carry_to = ?, carry = 0, updated = ?,"
        " outbox_seq = ? WHERE player = ? AND version = ?",
        (dump_state(rec.state), store.game.content.version, rec.version, rec.ledger_seq,
         rec.ledger_from, rec.carry_to, now, rec.outbox_seq, rec.id, rec.stored_version),
    )
    if cur.rowcount != 1:
        raise BatchFailed("the save changed under the cache; try again")
    await w.execute("DELETE FROM scores WHERE player = ?", (rec.id,))
    await w.execute("DELETE FROM achievements WHERE player = ?", (rec.id,))
    await event(store, w, rec.id, "reset", job.key, True, done.summary)
    if job.key:
        await w.execute(
            "INSERT INTO applied_actions (key, player, op, ok, version, ledger, result)"
            " VALUES (?, ?, 'reset', 1, ?, ?, ?)",
            (job.key, rec.id, rec.version, done.summary["ledger"], to_json(done.summary)),
        )
    return done.result, rec


async def export(
    store: SqliteStore, w: aiosqlite.Connection, job: Job
) -> tuple[dict[str, Any], None]:
    rec = await fresh(store, w, job.player)

    async def rows(sql: str) -> list[dict[str, Any]]:
        cur = await w.execute(sql, (rec.id,))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in await cur.fetchall()]

    data = core.export_document(
        rec, await rows(core.EXPORT_LEDGER), await rows(core.EXPORT_ACHIEVEMENTS),
        await rows(core.EXPORT_SCORES),
        await rows("SELECT time, op, key, ok, detail FROM events WHERE player = ? ORDER BY id"))
    await event(store, w, rec.id, "export", None, True, {"actor": job.args["actor"]})
    return data, None


async def delete(store: SqliteStore, w: aiosqlite.Connection, job: Job) -> tuple[None, None]:
    rec = await fresh(store, w, job.player)
    await w.execute("DELETE FROM events WHERE player = ?", (rec.id,))
    await w.execute("DELETE FROM outbox WHERE player = ?", (rec.id,))
    await w.execute("DELETE FROM players WHERE id = ?", (rec.id,))
    await event(
        store, w, rec.id, "delete", None, True, {"actor": job.args["actor"], "erased": True}
    )
    store._cache.pop(job.player, None)
    return None, None


async def profile(
    store: SqliteStore, w: aiosqlite.Connection, job: Job
) -> tuple[PlayerInfo, Record | None]:
    """Change a player's locale and/or display name: the players row and the save's
    state["player"] together, with a `profile` event. No change: nothing is written."""
    rec = await fresh(store, w, job.player)
    a = job.args
    change = core.profile(store.game.content.manifest, rec, locale=a.get("locale"),
                          name=a.get("name"))
    if change is None:
        return core.info(rec), None
    person = change.state["player"]
    rec.version += 1
    await w.execute("UPDATE players SET name = ?, locale = ? WHERE id = ?",
                    (person["name"], person["locale"], rec.id))
    cur = await w.execute(
        "UPDATE saves SET state = ?, version = ?, updated = ? WHERE player = ? AND version = ?",
        (dump_state(change.state), rec.version, store.clock(), rec.id, rec.stored_version))
    if cur.rowcount != 1:
        raise BatchFailed("the save changed under the cache; try again")
    core.apply_profile(rec, change)
    await event(store, w, rec.id, "profile", None, True,
                {"actor": a.get("actor") or job.player, **change.changes})
    return core.info(rec), rec


async def audit(store: SqliteStore, w: aiosqlite.Connection, job: Job) -> tuple[None, None]:
    """An event only (an admin command, a refused attempt): the actor's player id when the
    actor is a player, and the actor's id in the detail either way."""
    a = job.args
    rows = await w.execute_fetchall("SELECT id FROM players WHERE external_id = ?",
                                    (job.player,))
    pid = rows[0][0] if rows else None
    await event(store, w, pid, a["op"], None, a["ok"], {"actor": job.player, **a["detail"]})
    return None, None


async def swap(store: SqliteStore, w: aiosqlite.Connection, job: Job) -> tuple[Any, None]:
    """Record a content swap; the shell swaps `store.game` after COMMIT, between batches."""
    await event(store, w, None, "content", None, True,
                core.swap_detail(store.game, job.args["game"], job.args["actor"]))
    return store.game, None
