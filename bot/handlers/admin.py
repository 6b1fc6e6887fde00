"""Admin commands (ids from DIANA_ADMINS): /stats, /reload, /grant, /player, /fragments.
Everyone else gets a polite refusal. Every command, and every refused attempt, lands in
the store's audit trail (the events table): grants through the store itself (ledger and
audit, under the update's idempotency key), the rest through `store.audit`."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message, Update

from bot import views
from bot.charts import funnel_png
from bot.i18n import t
from bot.play import current_state, locale_of, message_key
from bot.service import Diana
from bot.telegram import safe
from cli.render import concise
from engine.requirements import level_of
from engine.stats import story_order
from engine.store import AdminError, Stats, StoreError, UnknownPlayer
from engine.store.limits import MAX_REASON

log = logging.getLogger("diana.bot")
ADMIN_COMMANDS = ("stats", "reload", "grant", "player", "fragments")
MAX_GRANT = 1_000_000
BAR = 12  # the funnel's widest bar, in blocks


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
        name = command.command.lower()
        args = (command.args or "").strip()
        if user is None or not diana.is_admin(user.id):
            state = None
            if user is not None:
                state = await current_state(diana, diana.player_id(user.id))
                await diana.audit(diana.player_id(user.id), f"admin:{name}",
                                  {"args": args, "refused": "not an admin"}, ok=False)
            await safe(message.answer(t(locale_of(diana, state, user), "admin_only")),
                       "sendMessage")
            return
        actor = diana.player_id(user.id)
        audit: dict[str, Any] | None = {"args": args}
        ok = True
        chart: list[tuple[str, int]] | None = None
        try:
            if name == "stats":
                text, chart = await stats(diana)
            elif name == "reload":
                text, audit = await reload(diana, actor)
                ok = bool(audit["ok"])
            elif name == "grant":
                text, reached = await grant(diana, args, actor,
                                            message_key(event_update.update_id))
                # a grant that reached the store is in its audit trail already
                audit, ok = (None, True) if reached else ({"args": args, "refused": text},
                                                          False)
            elif name == "player":
                text = await player(diana, args, actor)
            else:
                text = fragments(diana, await diana.store.stats())
        except StoreError as exc:
            text = f"✗ {exc}"
            audit, ok = {"args": args, "error": str(exc)}, False
        if audit is not None:
            await diana.audit(actor, f"admin:{name}", audit, ok=ok)
        for part in views.plain_messages(text):
            await safe(message.answer(part), f"sendMessage(/{name})")
        if chart is not None:
            await send_funnel(message, diana, chart)

    return r


async def send_funnel(message: Message, diana: Diana, steps: list[tuple[str, int]]) -> None:
    """The funnel chart as a photo (the text above has the same numbers, should drawing
    fail)."""
    title = f"Players who reached each fragment ({diana.game.content.version})"
    try:
        png = await asyncio.to_thread(funnel_png, title, steps)
    except Exception:  # a chart is a nicety: the reply was sent already
        log.exception("stats: could not draw the funnel chart")
        return
    await safe(message.answer_photo(BufferedInputFile(png, "funnel.png"),
                                    caption="Funnel: players who reached each fragment,"
                                            " in story order"), "sendPhoto(/stats)")


def bar(n: int, top: int) -> str:
    """A text bar (eighths of a block) for a funnel step."""
    if top <= 0 or n <= 0:
        return ""
    eighths = max(1, round(n * BAR * 8 / top))
    return "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]


def funnel(steps: list[tuple[str, int]]) -> list[str]:
    """A funnel as text lines (the chart is sent as a photo after them)."""
    top = steps[0][1] if steps else 0
    width = max((len(label) for label, _ in steps), default=0)
    lines = []
    for label, n in steps:
        share = f" {round(100 * n / top)}%" if top else ""
        lines.append(f"{label.ljust(width)} {n:>6}{share:>5} {bar(n, top)}".rstrip())
    return lines


async def stats(diana: Diana) -> tuple[str, list[tuple[str, int]]]:
    """The reply, and the chart's funnel: players who entered each fragment (every
    playthrough counts), in story order as `diana stats` draws it."""
    s = await diana.store.stats()
    content = diana.game.content
    up = int(time.time() - diana.started)
    endings = {fid: f for fid, f in content.fragments.items() if f.ending}
    steps = [("registered", s.players), ("started", s.started),
             ("reached an ending", s.finished)]
    steps += [(f"  ending {fid}", s.endings.get(fid, 0)) for fid in endings]
    ach = sorted(s.achievements.items(), key=lambda kv: (-kv[1], kv[0]))
    chart = [("(registered)", s.players), ("(started)", s.started)]
    chart += [(fid, s.visitors.get(fid, 0)) for fid in story_order(content)]
    return "\n".join([
        f"Story: {content.manifest.title.get('en', content.manifest.default_locale)}"
        f" {content.version} ({content.digest[:8]})",
        f"Fragments: {len(content.fragments)}, achievements: {len(content.achievements)},"
        f" rules: {len(content.rules)}",
        f"Players: {s.players}, active in 24 h: {s.active_24h}, actions in 24 h:"
        f" {s.actions_24h}, actions in all: {s.actions}",
        f"Points held: {s.points}",
        "Funnel (players):",
        *funnel(steps),
        "Achievements unlocked: " + (", ".join(f"{a} {n}" for a, n in ach) or "-"),
        f"Updates handled: {diana.handled}, in flight: {diana.busy},"
        f" up {up // 3600}h{up % 3600 // 60:02d}m",
    ]), chart


async def reload(diana: Diana, actor: str) -> tuple[str, dict[str, Any]]:
    """The reply, and what the audit trail records: the versions, and why a reload was
    refused."""
    old = diana.game.content
    detail: dict[str, Any] = {"ok": False, "was": old.version, "was_digest": old.digest}
    checked = await diana.reload(actor)
    if checked.problem is not None:
        detail["problem"] = checked.problem
        return (f"✗ Reload refused: {checked.problem}\nStill serving {old.version}.",
                detail)
    if checked.game_content is None:
        detail["errors"] = len(checked.errors)
        detail["first"] = concise(checked.errors[0]) if checked.errors else None
        shown = [concise(d) for d in checked.errors[:10]]
        more = len(checked.errors) - len(shown)
        lines = [f"✗ Reload refused: {len(checked.errors)} error(s); still serving"
                 f" {old.version} ({old.digest[:8]}).", *shown]
        if more > 0:
            lines.append(f"… and {more} more (run `diana lint`)")
        return "\n".join(lines), detail
    new = diana.game.content
    detail.update(ok=True, version=new.version, digest=new.digest)
    return (f"✓ Reloaded: {new.version} ({new.digest[:8]}), {len(new.fragments)} fragments"
            f" (was {old.version} ({old.digest[:8]})).", detail)


async def grant(diana: Diana, args: str, actor: str, key: str) -> tuple[str, bool]:
    """The reply, and whether the grant reached the store (and so its audit trail)."""
    usage = ("Usage: /grant USER AMOUNT REASON — USER is a Telegram id, AMOUNT a positive"
             f" number, REASON at most {MAX_REASON} characters")
    parts = args.split(maxsplit=2)
    if len(parts) < 3:
        return usage, False
    who = parse_player(parts[0])
    if who is None:
        return f"✗ `{parts[0]}` is not a Telegram user id. {usage}", False
    if not re.fullmatch(r"\d{1,7}", parts[1]) or not 0 < int(parts[1]) <= MAX_GRANT:
        return f"✗ `{parts[1]}` is not an amount from 1 to {MAX_GRANT}. {usage}", False
    reason = parts[2].strip()
    if len(reason) > MAX_REASON:
        return (f"✗ The reason is {len(reason)} characters; at most {MAX_REASON}. Nothing"
                " was granted.", False)
    try:
        result = await diana.store.grant(who, int(parts[1]), reason, key=key, actor=actor)
    except UnknownPlayer:
        return f"✗ No player {who}.", False
    except AdminError as exc:
        return f"✗ {exc}", False
    if result.replayed:
        return f"Already granted (update {key}); nothing changed.", True
    currency = views.currency(diana.game, "en")
    return (f"✓ Granted {parts[1]} {currency} to {who} ({reason}); balance"
            f" {result.summary.get('points')}.", True)
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
        # reasons written elsewhere (`diana db grant`, older saves) may be any length
        "Ledger (last 5): " + "; ".join(f"{e['amount']:+} {views.clip(e['reason'], MAX_REASON)}"
                                         for e in state["ledger"][-5:]),
    ])


def fragments(diana: Diana, s: Stats) -> str:
    content = diana.game.content
    lines = [f"{len(content.fragments)} fragments — players there now · players who visited"
             " · visits:"]
    for fid, f in content.fragments.items():
        mark = f" [ending: {f.ending}, reached by {s.endings.get(fid, 0)}]" if f.ending else ""
        lines.append(f"{fid}{mark} — {s.at.get(fid, 0)} · {s.visitors.get(fid, 0)} ·"
                     f" {s.visits.get(fid, 0)}")
    gone = sorted(set(s.at) - set(content.fragments))
    if gone:
        lines.append("Not in this version (saves move when next read): "
                     + ", ".join(f"{fid} {s.at[fid]}" for fid in gone))
    return "\n".join(lines)
