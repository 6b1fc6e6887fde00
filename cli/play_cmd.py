"""`diana play`: the story in the terminal, one engine step per line of input.

Progress lives in the player store (engine/store, SQLite): every step is an exactly-once
action under a fresh key, acknowledged after COMMIT, so the same file serves the bot and
`diana db`. A save made under older content is moved by the store (engine/migrate).
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from uuid import uuid4

from cli import render as render_diagnostics
from engine.diagnostics import Severity
from engine.explain import explain
from engine.game import Game, compile_game
from engine.lint import lint
from engine.load import ContentDirError, load
from engine.requirements import level_of
from engine.screen import Screen, render
from engine.simulate import ReplayError
from engine.simulate import record as record_replay
from engine.simulate import write as write_replay
from engine.simulate.core import RESTART
from engine.state import State
from engine.step import Action, Answer, Choose, Menu, Outcome, Restart, Start, StepError
from engine.store import StoreError, SyncStore, UnknownPlayer
from engine.store.open import shown
from engine.strings import settled_strings
from engine.textinput import normalize

HELP = ("Type a choice number, or: why (explain locks and rewards), status, restart, quit, "
        "help; m1, m2… open a menu, back leaves it. Where the story asks for text, type it"
        " (start it with = if it is one of these words).")


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
        if screen.asks:
            self.say("  ✎ type your answer")
        if screen.back:
            self.say("  b. ↩ back")
        if screen.menus:
            self.say("  menus: " + " · ".join(f"{label} (m{i})"
                                             for i, (_, label) in enumerate(screen.menus, 1)))
        self.say(self.status_line(state))

    def apply(self, outcome: Outcome, last: Outcome | None) -> Outcome:
        """Show an outcome (already saved by the store); a successful one becomes the last."""
        if not outcome.ok:
            self.say(f"✗ {outcome.error.message if outcome.error else 'rejected'}")
            return last or outcome
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
        for key, value in sorted(settled_strings(c, state).items()):
            self.say(f"  string {key}: {value!r}")
        self.say(f"  turn {state['turn']}, playthrough {state['playthrough']},"
                 f" content {state['content_version']}")


@dataclass
class Recording:
    """`--record`: the steps of this session from the story's start, as replay steps."""

    path: Path
    steps: list[str] = field(default_factory=list)
    seed: int = 0
    role: str | None = None
    locale: str | None = None

    def add(self, action: Action, before: State) -> None:
        if isinstance(action, Restart):
            self.steps.append(RESTART)
        elif isinstance(action, Choose):
            self.steps.append(f"{before['fragment']}.{action.choice}")
        elif isinstance(action, Answer):
            self.steps.append(f"{before['fragment']}.={normalize(action.text)}")
        elif isinstance(action, Menu):
            self.steps.append(f"{before['fragment']}.@{action.menu or ''}")

    def write(self, game: Game, out: TextIO) -> int:
        try:
            replay = record_replay(game, self.steps, seed=self.seed, role=self.role,
                                   locale=self.locale)
        except ReplayError as exc:
            out.write(f"error: the playthrough cannot be recorded as a replay: {exc}\n")
            return 1
        try:
            write_replay(self.path, replay)
        except OSError as exc:
            out.write(f"error: cannot write {self.path}: {exc.strerror}\n")
            return 2
        out.write(f"Recorded {len(self.steps)} steps to {self.path}; check them with"
                  f" `diana simulate --replay {self.path}`.\n")
        return 0


def play(directory: Path, db: str | Path, player: str, *, fresh: bool, seed: int,
         locale: str | None, role: str | None, inp: TextIO | None = None,
         out: TextIO | None = None, record: Path | None = None) -> int:
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
    manifest = game.content.manifest
    for flag, value, valid in (("--locale", locale, manifest.locales),
                               ("--role", role, manifest.roles)):
        if value is not None and value not in valid:
            out.write(f"error: {flag} {value}: this story has {', '.join(valid)}\n")
            return 2
    term = Terminal(game, out)
    try:
        store = SyncStore.open(db, game)
    except StoreError as exc:
        out.write(f"error: cannot open save database `{shown(db)}`: {exc}\n")
        return 2
    recording = Recording(record) if record is not None else None
    try:
        status = _loop(game, term, Session(store, player), fresh, seed, locale, role, inp,
                       recording)
    except StoreError as exc:
        out.write(f"\nerror: {exc}\n")
        return 2
    finally:
        store.close()
    if recording is not None and status == 0:
        return recording.write(game, out)
    return status


class Session:
    """One player's actions through the store: each a fresh idempotency key, applied and
    acknowledged after COMMIT."""

    def __init__(self, store: SyncStore, player: str) -> None:
        self.store = store
        self.player = player

    def apply(self, action: Action) -> Outcome:
        r = self.store.apply(self.player, action, key=f"cli:{uuid4()}")
        if r.outcome is not None:
            return r.outcome
        # rejected (or, impossibly with a fresh key, replayed): the state is unchanged
        state = self.store.state(self.player)
        error = StepError(r.error or "rejected", r.message or "rejected")
        return Outcome(state, None, error=error)


def _loop(game: Game, term: Terminal, session: Session, fresh: bool, seed: int,
          locale: str | None, role: str | None, inp: TextIO,
          recording: Recording | None = None) -> int:
    store, player = session.store, session.player
    try:
        known = store.player(player).role
    except UnknownPlayer:
        known = None
    if known is not None and role is not None and role != known:
        term.say(f"error: `{player}` plays as {known}, and a role is chosen when a player is"
                 f" created: use another --player to play as {role}")
        return 2
    store.register(player, name=player, role=role, locale=locale, seed=seed)
    if locale is not None:  # a save in another language switches to this one
        store.update_player(player, locale=locale, actor="diana play --locale")
    if fresh:
        store.reset(player, actor="diana play --new", seed=seed)
    resumed = store.resume(player)
    state = resumed.state
    if recording is not None:
        if state["fragment"] is not None:
            term.say(f"error: --record records a playthrough from the start, and `{player}` is"
                     " in the middle of one: add --new to start over, or use another"
                     " --player")
            return 2
        recording.seed = state["seed"]
        recording.role = state["player"]["role"]
        recording.locale = state["player"]["locale"]
    title = game.content.manifest.title.get(state["player"]["locale"],
                                            game.content.manifest.default_locale)
    term.say(f"{title} — version {game.content.version}")
    m = resumed.migration
    if state["playthrough"] > 0 or m is not None:
        term.say(f"Welcome back, {state['player']['name']}.")
        saved_under = m.from_version if m is not None else state["content_version"]
        if saved_under != game.content.version:
            term.say(f"(saved under version {saved_under})")
        if m is not None and m.notice:
            term.say(m.notice)
    last: Outcome | None = None
    if m is not None and m.outcome.screen is not None:
        last = term.apply(m.outcome, None)  # a restart's notices, then the page
    elif state["fragment"] is not None:
        last = term.apply(Outcome(state, render(game, state)), None)
    if last is None:
        last = term.apply(session.apply(Start(_today())), None)
    state = last.state
    if state["fragment"] is None:  # the start was rejected (its error is shown above)
        term.say("The story cannot start; fix it (diana lint, diana simulate) and play again.")
        return 1
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
        action: Action | None = None
        page = render(game, state) if state["fragment"] is not None else None
        if page is not None and page.asks and (line.startswith("=") or not (
                command in ("help", "?", "why", "status", "restart", "b", "back")
                or re.fullmatch(r"m\d+", command)
                or (command.isdigit() and page.choices))):
            # the page asks for text: the line is the answer, as typed
            text = line.rstrip("\r\n")
            action = Answer(text[1:] if text.startswith("=") else text, state["turn"],
                            _today())
        elif command in ("help", "?", ""):
            term.say(HELP)
        elif command == "why":
            for text in explain(game, state, last):
                term.say(f"  {text}")
        elif command == "status":
            term.status(state)
        elif command == "restart":
            action = Restart(_today())
        elif page is not None and ((command in ("b", "back") and page.back) or (re.fullmatch(
                r"m\d+", command) and 1 <= int(command[1:]) <= len(page.menus))):
            menu = None if command in ("b", "back") else page.menus[int(command[1:]) - 1][0]
            action = Menu(menu, state["turn"], _today())
        elif command.isdigit():
            screen = render(game, state)
            n = int(command)
            if 1 <= n <= len(screen.choices):
                action = Choose(screen.choices[n - 1].id, state["turn"], _today())
            else:
                term.say(f"✗ choose a number from 1 to {len(screen.choices)}"
                         if screen.choices else "✗ no choices here: restart or quit")
        else:
            term.say(f"✗ unknown command `{command}`. {HELP}")
        if action is not None:
            outcome = session.apply(action)
            if recording is not None and outcome.ok:
                recording.add(action, state)
            last = term.apply(outcome, last)
            state = last.state
