"""`diana play`: the story in the terminal, one engine step per line of input."""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
from pathlib import Path
from typing import TextIO

from cli import render as render_diagnostics
from engine.diagnostics import Severity
from engine.explain import explain
from engine.game import Game, compile_game
from engine.lint import lint
from engine.load import ContentDirError, load
from engine.requirements import level_of
from engine.saves import SaveSlots
from engine.screen import Screen, render
from engine.state import State, new_state
from engine.step import Choose, Outcome, Restart, Start, step

HELP = ("Type a choice number, or: why (explain locks and rewards), status, restart, quit, "
        "help.")


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


class Terminal:
    def __init__(self, game: Game, out: TextIO) -> None:
        self.game = game
        self.out = out

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def status_line(self, state: State) -> str:
        c = self.game.content
        locale = state["player"]["locale"]
        level = c.level_for(state["earned"])
        level_name = level.name.get(locale, c.manifest.default_locale) if level else "-"
        emoji = c.manifest.currency.emoji
        currency = c.manifest.currency.name.get(locale, c.manifest.default_locale)
        return (f"{emoji} {state['points']} {currency} · level {level_of(c, state)} {level_name}"
                f" · 🏆 {len(state['achievements'])}/{len(c.achievements)}"
                f" · endings {len(state['endings'])}")

    def show(self, screen: Screen, state: State) -> None:
        self.say()
        if screen.title:
            self.say(f"── {screen.title} ──")
        self.say(screen.text)
        self.say()
        if screen.ending:
            self.say(f"✦ {screen.ending_label} ✦  (restart to play again, quit to leave)")
        for i, c in enumerate(screen.choices, 1):
            cost = f" ({c.cost} {self.game.content.manifest.currency.emoji})" if c.cost else ""
            lock = f"  🔒 {c.reason}" if not c.available else ""
            self.say(f"  {i}. {c.label}{cost}{lock}")
        self.say(self.status_line(state))

    def apply(self, outcome: Outcome, slots: SaveSlots, player: str, last: Outcome | None
              ) -> Outcome:
        """Show an outcome; a successful one is saved and becomes the last one."""
        if not outcome.ok:
            self.say(f"✗ {outcome.error.message if outcome.error else 'rejected'}")
            return last or outcome
        slots.save(player, outcome.state)
        for notice in outcome.notices:
            self.say(notice)
        if outcome.screen is not None:
            self.show(outcome.screen, outcome.state)
        return outcome

    def status(self, state: State) -> None:
        c = self.game.content
        locale = state["player"]["locale"]
        self.say(self.status_line(state))
        unlocks = state.get("unlocks", {})
        for aid in state["achievements"]:
            a = c.achievements.get(aid)
            name = a.name.get(locale, c.manifest.default_locale) if a else aid
            info = unlocks.get(aid)
            how = f" — {info['via'] or info['cause']}" if info else ""
            self.say(f"  🏆 {name}{how}")
        for key, value in sorted(state["items"].items()):
            self.say(f"  item {key}: {value}")
        for key, value in sorted(state["stats"].items()):
            self.say(f"  stat {key}: {value}")
        self.say(f"  turn {state['turn']}, playthrough {state['playthrough']},"
                 f" content {state['content_version']}")


def play(directory: Path, db: Path, player: str, *, fresh: bool, seed: int,
         locale: str | None, role: str | None, inp: TextIO | None = None,
         out: TextIO | None = None) -> int:
    # sys.stdin/sys.stdout are looked up at call time, so a test runner's streams are used
    inp = sys.stdin if inp is None else inp
    out = sys.stdout if out is None else out
    try:
        result = load(directory)
    except ContentDirError as exc:
        out.write(f"error: {exc}\n")
        return 2
    problems = [d for d in lint(result) if d.severity is Severity.ERROR]
    if result.content is None or problems:
        for d in problems:
            out.write(render_diagnostics.concise(d) + "\n")
        out.write("The story has errors; fix them (diana lint) before playing.\n")
        return 1
    game = compile_game(result.content)
    term = Terminal(game, out)
    try:
        slots = SaveSlots(db)
    except sqlite3.Error as exc:
        out.write(f"error: cannot open save database `{db}`: {exc}\n")
        return 2
    try:
        return _loop(game, term, slots, player, fresh, seed, locale, role, inp)
    finally:
        slots.close()


def _loop(game: Game, term: Terminal, slots: SaveSlots, player: str, fresh: bool, seed: int,
          locale: str | None, role: str | None, inp: TextIO) -> int:
    state = None if fresh else slots.load(player)
    title = game.content.manifest.title.get(locale or "", game.content.manifest.default_locale)
    term.say(f"{title} — version {game.content.version}")
    if state is not None and state.get("fragment") is not None:
        term.say(f"Welcome back, {state['player']['name']}.")
        if state["content_version"] != game.content.version:
            term.say(f"(saved under version {state['content_version']})")
        if state["fragment"] not in game.content.fragments:
            term.say(f"Your place `{state['fragment']}` no longer exists; restarting.")
            outcome = step(game, state, Restart(_today()))
        else:
            outcome = Outcome(state, render(game, state))
    else:
        state = new_state(game.content, name=player, role=role, locale=locale, seed=seed)
        outcome = step(game, state, Start(_today()))
    last = term.apply(outcome, slots, player, None)
    state = last.state
    while True:
        term.out.write("> ")
        term.out.flush()
        line = inp.readline()
        if not line:
            term.say()
            return 0
        command = line.strip().lower()
        if command in ("quit", "q", "exit"):
            term.say("Saved. Until next time.")
            return 0
        outcome = None
        if command in ("help", "?", ""):
            term.say(HELP)
        elif command == "why":
            for text in explain(game, state, last):
                term.say(f"  {text}")
        elif command == "status":
            term.status(state)
        elif command == "restart":
            outcome = step(game, state, Restart(_today()))
        elif command.isdigit():
            screen = render(game, state)
            n = int(command)
            if 1 <= n <= len(screen.choices):
                outcome = step(game, state, Choose(screen.choices[n - 1].id, state["turn"],
                                                   _today()))
            else:
                term.say(f"✗ choose a number from 1 to {len(screen.choices)}"
                         if screen.choices else "✗ no choices here: restart or quit")
        else:
            term.say(f"✗ unknown command `{command}`. {HELP}")
        if outcome is not None:
            last = term.apply(outcome, slots, player, last)
            state = last.state
