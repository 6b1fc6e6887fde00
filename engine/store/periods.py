"""Leaderboard boards: all-time, the ISO week and the calendar month of a moment (UTC)."""

from __future__ import annotations

import datetime as dt

ALL = "all"
BOARD_KINDS = ("all", "week", "month")


def week_board(when: float) -> str:
    y, w, _ = dt.datetime.fromtimestamp(when, dt.UTC).isocalendar()
    return f"w:{y}-W{w:02d}"


def month_board(when: float) -> str:
    d = dt.datetime.fromtimestamp(when, dt.UTC)
    return f"m:{d.year}-{d.month:02d}"


def boards_at(when: float) -> tuple[str, str, str]:
    """The three boards a point earned at `when` counts on."""
    return ALL, week_board(when), month_board(when)


def board_for(kind: str, when: float) -> str:
    if kind == "all":
        return ALL
    if kind == "week":
        return week_board(when)
    if kind == "month":
        return month_board(when)
    raise ValueError(f"unknown leaderboard `{kind}`: use one of {', '.join(BOARD_KINDS)}")


# Ledger kinds that count on leaderboards: points earned, and admin corrections. Spending
# points in the story does not lower a player's standing; a reset removes it.
SCORED_KINDS = frozenset({"award", "grant", "revoke"})
