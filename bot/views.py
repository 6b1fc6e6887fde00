"""Engine output to message text (HTML parse mode): pages split under Telegram's limit,
endings with a summary, profile, achievements and leaderboard texts."""

from __future__ import annotations

from html import escape

from bot import layout
from bot.i18n import t
from engine.game import Game
from engine.requirements import level_of
from engine.screen import Screen
from engine.state import State
from engine.store import Standing, progress
from engine.store.interface import RankEntry

MAX_TEXT = 4096
SAFE = 4000  # a margin under the limit, counted in UTF-16 units (what clients count)


def units(text: str) -> int:
    """Length in UTF-16 code units: never below the number of characters."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> list[str]:
    """Split one over-long paragraph: at line breaks, then sentence ends, then spaces,
    and only as a last resort inside a word."""
    pieces: list[str] = []
    rest = text
    while units(rest) > limit:
        window = rest[:limit]
        while units(window) > limit:
            window = window[:-1]
        cut = -1
        for sep in ("\n", ". ", "! ", "? ", "; ", ", ", " "):
            at = window.rfind(sep)
            if at > limit // 3:
                cut = at + len(sep)
                break
        if cut <= 0:
            cut = len(window)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def split_blocks(blocks: list[tuple[str, bool]], limit: int = SAFE) -> list[str]:
    """Pack (plain text, bold) blocks into HTML messages, each under `limit` after entity
    parsing, breaking between blocks (paragraphs) whenever possible."""
    flat: list[tuple[str, bool]] = []
    for text, bold in blocks:
        flat.extend((piece, bold) for piece in _cut(text, limit))
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for text, bold in flat:
        add = units(text) + (2 if current else 0)
        if current and size + add > limit:
            parts.append("\n\n".join(current))
            current, size = [], 0
            add = units(text)
        current.append(f"<b>{escape(text, quote=False)}</b>" if bold
                       else escape(text, quote=False))
        size += add
    if current:
        parts.append("\n\n".join(current))
    return parts


def currency(game: Game, locale: str) -> str:
    m = game.content.manifest
    return m.currency.name.get(locale, m.default_locale)


def level_name(game: Game, state: State, locale: str) -> str:
    level = game.content.level_for(state["earned"])
    return level.name.get(locale, game.content.manifest.default_locale) if level else ""


def summary_line(game: Game, state: State, locale: str) -> str:
    p = progress(game, state)
    return t(locale, "summary", emoji=game.content.manifest.currency.emoji,
             points=state["points"], currency=currency(game, locale),
             level=level_of(game.content, state), level_name=level_name(game, state, locale),
             ach=len(state["achievements"]), ach_total=len(game.content.achievements),
             endings=p.endings_found, endings_total=p.endings)


def page(game: Game, state: State, screen: Screen, locale: str,
         lead: str | None = None) -> list[str]:
    """A fragment as messages: [lead], title, paragraphs, the numbered choices when their
    buttons cannot hold their labels, and for an ending its label and the player's
    summary. The keyboard goes on the last one."""
    blocks: list[tuple[str, bool]] = []
    if lead:
        blocks.append((lead, False))
    if screen.title:
        blocks.append((screen.title, True))
    blocks.extend((p, False) for p in screen.text.split("\n\n") if p.strip())
    emoji = game.content.manifest.currency.emoji
    if layout.numbered(game.content.manifest.layout, screen.choices, emoji):
        # the buttons carry numbers and cut labels: the choices are read here, in full
        blocks.append((layout.choice_list(screen.choices, emoji), False))
    if screen.asks:
        blocks.append((t(locale, "type_answer"), False))
    if screen.ending:
        blocks.append((t(locale, "ending", label=screen.ending_label or ""), True))
        blocks.append((summary_line(game, state, locale), False))
    if not blocks:
        blocks.append(("…", False))
    return split_blocks(blocks)


def notices_text(notices: tuple[str, ...] | list[str]) -> str | None:
    return escape("\n".join(notices), quote=False) if notices else None


def profile(game: Game, state: State, locale: str) -> str:
    p = progress(game, state)
    return escape(t(locale, "profile", name=state["player"]["name"],
                    emoji=game.content.manifest.currency.emoji, points=state["points"],
                    currency=currency(game, locale), earned=state["earned"],
                    level=level_of(game.content, state),
                    level_name=level_name(game, state, locale),
                    ach=len(state["achievements"]), ach_total=len(game.content.achievements),
                    endings=p.endings_found, endings_total=p.endings, visited=p.visited,
                    reachable=p.reachable, percent=round(p.percent)), quote=False)


def achievements(game: Game, state: State, locale: str) -> list[str]:
    content = game.content
    default = content.manifest.default_locale
    have = set(state["achievements"])
    head = t(locale, "achievements", ach=len(have), ach_total=len(content.achievements))
    lines = [f"<b>{escape(head, quote=False)}</b>"]
    for aid, a in content.achievements.items():
        name = a.name.get(locale, default)
        desc = a.description.get(locale, default) if a.description else ""
        if aid in have:
            lines.append(escape(f"✅ {name}" + (f" — {desc}" if desc else ""), quote=False))
        elif a.secret:
            lines.append(escape(t(locale, "achievement_secret"), quote=False))
        else:
            lines.append(escape(f"▫️ {name}" + (f" — {desc}" if desc else ""), quote=False))
    if not have:
        lines.append(escape(t(locale, "no_achievements"), quote=False))
    return join_lines(lines)


def join_lines(lines: list[str]) -> list[str]:
    """Already-escaped lines packed into messages under the limit (a line longer than a
    message stays whole: cut plain text first, as plain_messages does)."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        n = units(line) + 1
        if current and size + n > SAFE:
            parts.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += n
    if current:
        parts.append("\n".join(current))
    return parts


def plain_messages(text: str, limit: int = SAFE) -> list[str]:
    """Plain text as HTML messages under the limit, split between lines; a line too long
    for one message is cut at sentence ends or spaces, inside a word only when it has
    none (so nothing is dropped, as a message over the limit would be)."""
    lines: list[str] = []
    for line in text.split("\n"):
        pieces = _cut(line, limit) if units(line) > limit else [line]
        lines.extend(escape(piece, quote=False) for piece in pieces)
    return join_lines(lines)


def clip(text: str, limit: int) -> str:
    """`text`, or its first characters and a visible "…" when it is longer than `limit`."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def leaderboard(top: list[RankEntry], me: Standing | None, kind: str, locale: str) -> str:
    head = t(locale, "board_title", board=t(locale, f"board_{kind}"))
    lines = [f"<b>{escape(head, quote=False)}</b>"]
    medals = {1: "🥇", 2: "🥈", 3: "🥉"}
    if not top:
        lines.append(escape(t(locale, "board_empty"), quote=False))
    for e in top:
        lines.append(escape(f"{medals.get(e.rank, f'{e.rank}.')} {e.name} — {e.score}",
                            quote=False))
    if me is not None and me.entry is not None:
        lines.append("")
        lines.append(escape(t(locale, "board_you", rank=me.entry.rank, total=me.total,
                              score=me.entry.score), quote=False))
    else:
        lines.append("")
        lines.append(escape(t(locale, "board_unranked"), quote=False))
    return "\n".join(lines)
