"""Admin commands (ids from DIANA_ADMINS): /stats, /reload, /grant, /player, /fragments.
Everyone else gets a polite refusal. Grants go through the store (ledger + audit trail,
under the update's idempotency key); the other commands are audited through the store
when it offers `audit`."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from html import escape
from pathlib import Path
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message, Update

from bot import views
from bot.i18n import t
from bot.play import current_state, locale_of, message_key
from bot.service import Diana
from bot.telegram import safe
from cli.render import concise
from engine.requirements import level_of
from engine.store import AdminError, StoreError, UnknownPlayer
from engine.store.check import connect_readonly

log = logging.getLogger("diana.bot")
ADMIN_COMMANDS = ("stats", "reload", "grant", "player", "fragments")
MAX_GRANT = 1_000_000


def db_counts(path: Path) -> dict[str, Any]:
    """Read-only aggregate counts straight from the database file (WAL: safe while the
    bot writes)."""
    db = connect_readonly(path)
    try:
        q = db.execute
        day = time.time() - 86_400
        return {
            "players": q("SELECT count(*) FROM players").fetchone()[0],
            "active_24h": q("SELECT count(DISTINCT player) FROM events WHERE time > ? AND"
                            " op = 'action'", (day,)).fetchone()[0],
            "actions_24h": q("SELECT count(*) FROM events WHERE time > ? AND op = 'action'",
                             (day,)).fetchone()[0],
            "points": q("SELECT coalesce(sum(points), 0) FROM saves").fetchone()[0],
            "at": dict(q("SELECT fragment, count(*) FROM saves WHERE fragment IS NOT NULL"
                         " GROUP BY fragment").fetchall()),
        }
    finally:
        db.close()


def parse_player(text: str) -> str | None:
    text = text.strip()
    if re.fullmatch(r"\d{1,20}", text):
        return f"tg:{text}"
    if re.fullmatch(r"tg:\d{1,20}", text):
        return text
    return None


def router() -> Router:
    r = Router(name="admin")

    @r.message(Command(*ADMIN_COMMANDS))
    async def on_admin(message: Message, command: CommandObject, bot: Bot, diana: Diana,
                       event_update: Update) -> None:
        user = message.from_user
        if user is None or not diana.is_admin(user.id):
            state = None
            if user is not None:
                state = await current_state(diana, diana.player_id(user.id))
            await safe(message.answer(t(locale_of(diana, state, user), "admin_only")),
                       "sendMessage")
            return
        actor = diana.player_id(user.id)
        name = command.command.lower()
        args = (command.args or "").strip()
        try:
            if name == "stats":
                text = await stats(diana)
            elif name == "reload":
                text = await reload(diana)
            elif name == "grant":
                text = await grant(diana, args, actor, message_key(event_update.update_id))
            elif name == "player":
                text = await player(diana, args, actor)
            else:
                text = fragments(diana, await _counts(diana))
        except StoreError as exc:
            text = f"✗ {exc}"
        if name != "grant":
            await diana.audit(actor, f"admin:{name}", {"args": args})
        lines = [escape(line, quote=False) for line in text.split("\n")]
        for part in views.join_lines(lines):
            await safe(message.answer(part), f"sendMessage(/{name})")

    return r


async def _counts(diana: Diana) -> dict[str, Any]:
    stats_of = getattr(diana.store, "stats", None)
    if stats_of is not None:
        return await stats_of()
    try:
        return await asyncio.to_thread(db_counts, diana.config.db)
    except (StoreError, sqlite3.Error) as exc:
        log.warning("stats: %s", exc)
        return {}


async def stats(diana: Diana) -> str:
    c = await _counts(diana)
    content = diana.game.content
    up = int(time.time() - diana.started)
    lines = [
        f"Story: {content.manifest.title.get('en', content.manifest.default_locale)}"
        f" {content.version} ({content.digest[:8]})",
        f"Fragments: {len(content.fragments)}, achievements: {len(content.achievements)},"
        f" rules: {len(content.rules)}",
        f"Players: {c.get('players', '?')}, active in 24 h: {c.get('active_24h', '?')},"
        f" actions in 24 h: {c.get('actions_24h', '?')}",
        f"Points held: {c.get('points', '?')}",
        f"Updates handled: {diana.handled}, in flight: {diana.busy},"
        f" up {up // 3600}h{up % 3600 // 60:02d}m",
    ]
    return "\n".join(lines)


async def reload(diana: Diana) -> str:
    old = diana.game.content
    checked = await diana.reload()
    if checked.problem is not None:
        return f"✗ Reload refused: {checked.problem}\nStill serving {old.version}."
    if checked.game_content is None:
        shown = [concise(d) for d in checked.errors[:10]]
        more = len(checked.errors) - len(shown)
        lines = [f"✗ Reload refused: {len(checked.errors)} error(s); still serving"
                 f" {old.version} ({old.digest[:8]}).", *shown]
        if more > 0:
            lines.append(f"… and {more} more (run `diana lint`)")
        return "\n".join(lines)
    new = diana.game.content
    return (f"✓ Reloaded: {new.version} ({new.digest[:8]}), {len(new.fragments)} fragments"
            f" (was {old.version} ({old.digest[:8]})).")


async def grant(diana: Diana, args: str, actor: str, key: str) -> str:
    usage = "Usage: /grant USER AMOUNT REASON — USER is a Telegram id, AMOUNT a positive number"
    parts = args.split(maxsplit=2)
    if len(parts) < 3:
        return usage
    who = parse_player(parts[0])
    if who is None:
        return f"✗ `{parts[0]}` is not a Telegram user id. {usage}"
    if not re.fullmatch(r"\d{1,7}", parts[1]) or not 0 < int(parts[1]) <= MAX_GRANT:
        return f"✗ `{parts[1]}` is not an amount from 1 to {MAX_GRANT}. {usage}"
    try:
        result = await diana.store.grant(who, int(parts[1]), parts[2], key=key, actor=actor)
    except UnknownPlayer:
        return f"✗ No player {who}."
    except AdminError as exc:
        return f"✗ {exc}"
    if result.replayed:
        return f"Already granted (update {key}); nothing changed."
    currency = views.currency(diana.game, "en")
    return (f"✓ Granted {parts[1]} {currency} to {who} ({parts[2]}); balance"
            f" {result.summary.get('points')}.")


async def player(diana: Diana, args: str, actor: str) -> str:
    who = parse_player(args)
    if who is None:
        return "Usage: /player USER — USER is a Telegram id"
    try:
        info = await diana.store.player(who)
        state = await diana.store.state(who)
        standing = await diana.store.standing(who, "all", around=0)
    except UnknownPlayer:
        return f"✗ No player {who}."
    content = diana.game.content
    rank = f"#{standing.entry.rank} of {standing.total}" if standing.entry else "unranked"
    return "\n".join([
        f"{info.player} “{info.name}” role {info.role}, locale {info.locale}",
        f"At {state['fragment'] or '(not started)'}, turn {state['turn']}, playthrough"
        f" {state['playthrough']}, saved under {state['content_version']}",
        f"Points {state['points']} (earned {state['earned']}), level"
        f" {level_of(content, state)}, all-time {rank}",
        f"Achievements {len(state['achievements'])}/{len(content.achievements)}:"
        f" {', '.join(state['achievements']) or '-'}",
        f"Endings: {', '.join(state['endings']) or '-'}",
        "Ledger (last 5): " + "; ".join(f"{e['amount']:+} {e['reason']}"
                                         for e in state["ledger"][-5:]),
    ])


def fragments(diana: Diana, counts: dict[str, Any]) -> str:
    content = diana.game.content
    at = counts.get("at", {})
    lines = [f"{len(content.fragments)} fragments (players there now):"]
    for fid, f in content.fragments.items():
        mark = f" [ending: {f.ending}]" if f.ending else ""
        lines.append(f"{fid}{mark} — {at.get(fid, 0)}")
    return "\n".join(lines)
