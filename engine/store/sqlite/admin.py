"""Operations that run alone, each in its own transaction: register, reset, export, delete,
profile (a player's locale and name), audit (an event only) and swap (the content).

Each returns (result for the caller, record to publish in the cache after COMMIT or None).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import aiosqlite

from engine.outbox.events import from_reset
from engine.state import new_state
from engine.store.batch import Job, outbox_rows
from engine.store.errors import AdminError, BatchFailed, PlayerExists, UnknownPlayer
from engine.store.interface import ActionResult, PlayerInfo
from engine.store.records import Record, dump_state, ledger_entry, to_json
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
        return PlayerInfo(
            found.external, found.name, found.role, found.locale, found.created
        ), found
    now = store.clock()
    state = new_state(
        store.game.content, name=a["name"], role=a["role"], locale=a["locale"], seed=a["seed"]
    )
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
    await event(
        store,
        w,
        pid,
        "register",
        None,
        True,
        {"name": p["name"], "role": p["role"], "locale": p["locale"]},
    )
    rec = Record(pid, job.player, p["name"], p["role"], p["locale"], now, state, 0, 0, 0, 0, 0)
    return PlayerInfo(job.player, p["name"], p["role"], p["locale"], now), rec


async def reset(
    store: SqliteStore, w: aiosqlite.Connection, job: Job
) -> tuple[ActionResult, Record | None]:
    rec = await fresh(store, w, job.player)
    if job.key:
        stored = (await stored_results(w, [job.key])).get(job.key)
        if stored is not None:
            from engine.store.batch import replay

            return replay(job.key, job.player, stored), None
    now, actor = store.clock(), job.args["actor"]
    old = rec.state
    seed = job.args.get("seed")
    state = new_state(store.game.content, name=rec.name, role=rec.role, locale=rec.locale,
                      seed=old["seed"] if seed is None else seed)
    # The turn counter keeps running: a turn never repeats in a save, so a button (or any
    # Choose) from before the reset can never line up with a turn after it.
    state["turn"] = old["turn"]
    written = 0
    if rec.points:
        rec.ledger_seq += 1
        written = 1
        e = ledger_entry(-rec.points, "reset", f"admin:{actor}", old["turn"], old["day"])
        await w.execute(
            "INSERT INTO ledger (player, seq, amount, kind, reason, cause, key, time, turn,"
            " day) VALUES (?, ?, ?, 'reset', ?, ?, ?, ?, ?, ?)",
            (
                rec.id,
                rec.ledger_seq,
                e["amount"],
                e["reason"],
                e["cause"],
                job.key,
                now,
                e["turn"],
                e["day"],
            ),
        )
    rec.ledger_from = rec.carry_to = rec.ledger_seq
    rec.carry = 0
    rec.state, rec.points = state, 0
    rec.version += 1
    if store.outbox_game is not None:
        rows = outbox_rows(store.outbox_game, rec.id, rec.external, rec.outbox_seq, job.key,
                           now, store.game.content.version, from_reset(actor, old["points"]))
        await w.executemany(outbox.INSERT, rows)
        rec.outbox_seq += len(rows)
    cur = await w.execute(
        "UPDATE saves SET state = ?, content_version = ?, fragment = NULL, version = ?,"
        " points = 0, ledger_seq = ?, ledger_from = ?, carry_to = ?, carry = 0, updated = ?,"
        " outbox_seq = ? WHERE player = ? AND version = ?",
        (
            dump_state(state),
            store.game.content.version,
            rec.version,
            rec.ledger_seq,
            rec.ledger_from,
            rec.carry_to,
            now,
            rec.outbox_seq,
            rec.id,
            rec.stored_version,
        ),
    )
    if cur.rowcount != 1:
        raise BatchFailed("the save changed under the cache; try again")
    await w.execute("DELETE FROM scores WHERE player = ?", (rec.id,))
    await w.execute("DELETE FROM achievements WHERE player = ?", (rec.id,))
    summary = {
        "op": "reset",
        "ok": True,
        "error": None,
        "message": None,
        "turn": state["turn"],
        "fragment": None,
        "points": 0,
        "ledger": written,
        "actor": actor,
        "previous_points": old["points"],
    }
    await event(store, w, rec.id, "reset", job.key, True, summary)
    if job.key:
        await w.execute(
            "INSERT INTO applied_actions (key, player, op, ok, version, ledger, result)"
            " VALUES (?, ?, 'reset', 1, ?, ?, ?)",
            (job.key, rec.id, rec.version, written, to_json(summary)),
        )
    return ActionResult(job.key or "", job.player, True, None, None, rec.version, summary), rec


async def export(
    store: SqliteStore, w: aiosqlite.Connection, job: Job
) -> tuple[dict[str, Any], None]:
    rec = await fresh(store, w, job.player)

    async def rows(sql: str) -> list[dict[str, Any]]:
        cur = await w.execute(sql, (rec.id,))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in await cur.fetchall()]

    data = {
        "format": 1,
        "player": {
            "id": rec.external,
            "name": rec.name,
            "role": rec.role,
            "locale": rec.locale,
            "created": rec.created,
        },
        "save": {"version": rec.version, "points": rec.points, "state": rec.state},
        "ledger": await rows(
            "SELECT seq, amount, kind, reason, cause, key, time, turn, day,"
            " extra FROM ledger WHERE player = ? ORDER BY seq"
        ),
        "achievements": await rows(
            "SELECT achievement, time FROM achievements WHERE player = ? ORDER BY time, achievement"
        ),
        "scores": await rows(
            "SELECT board, score, reached FROM scores WHERE player = ? ORDER BY board"
        ),
        "events": await rows(
            "SELECT time, op, key, ok, detail FROM events WHERE player = ? ORDER BY id"
        ),
    }
    for e in data["events"]:
        e["detail"] = json.loads(e["detail"])
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


MAX_NAME = 64


async def profile(
    store: SqliteStore, w: aiosqlite.Connection, job: Job
) -> tuple[PlayerInfo, Record | None]:
    """Change a player's locale and/or display name: the players row and the save's
    state["player"] together, with a `profile` event. No change: nothing is written."""
    rec = await fresh(store, w, job.player)
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
        return PlayerInfo(rec.external, rec.name, rec.role, rec.locale, rec.created), None
    now = store.clock()
    state = {**rec.state, "player": person}  # replaced, never edited: states are shared
    rec.version += 1
    await w.execute("UPDATE players SET name = ?, locale = ? WHERE id = ?",
                    (person["name"], person["locale"], rec.id))
    cur = await w.execute(
        "UPDATE saves SET state = ?, version = ?, updated = ? WHERE player = ? AND version = ?",
        (dump_state(state), rec.version, now, rec.id, rec.stored_version))
    if cur.rowcount != 1:
        raise BatchFailed("the save changed under the cache; try again")
    rec.state, rec.name, rec.locale = state, person["name"], person["locale"]
    await event(store, w, rec.id, "profile", None, True,
                {"actor": a.get("actor") or job.player, **changes})
    return PlayerInfo(rec.external, rec.name, rec.role, rec.locale, rec.created), rec


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
    old, new = store.game.content, job.args["game"].content
    await event(store, w, None, "content", None, True, {
        "actor": job.args["actor"], "from": old.version, "from_digest": old.digest,
        "to": new.version, "to_digest": new.digest})
    return store.game, None
