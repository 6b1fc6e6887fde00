"""`step(game, state, action) -> Outcome`: the one transition both front ends call.

Pure: the input state is never modified; the same game, state and action always give the
same outcome (randomness comes from the state's seed and draw counter, time from the
action). A rejected action returns the input state unchanged (the very same object) and
an error value.

Semantics decided here (see also docs/format.md):

- Start raises `start`, Restart raises `start` too; then the player enters the manifest's
  `start` fragment. Restart resets the story part of the state (place, flags, items, stats,
  visits, once-choices taken) and keeps what belongs to the player (points and ledger,
  level, achievements, endings reached, `once` rules fired, the random stream, the day).
- A choice: pay its cost, apply its effects, raise `choice`, run the rules, then move. A
  `goto` raised while the choice (or the start event) is being processed overrides the
  choice's own target (or the start fragment); when several are raised, the first one wins
  (rules fire highest priority first). After the move, a `goto` raised by the rules reacting
  to it moves the player again, each move counting towards `limits.max_chain`.
- The daily cap counts awards per `day` of the actions (a UTC date the front end passes);
  actions without a day count towards one undated day.
- An award that crosses several level thresholds raises one `level_up` (and one notice) per
  level reached, lowest first.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from engine.frozen import frozen
from engine.game import Game
from engine.messages import say
from engine.model import Choice, Effect, Fragment
from engine.numbers import bounded
from engine.requirements import holds
from engine.screen import Screen, choice_view, render
from engine.state import State, draw, new_state, story_state

# ---- actions --------------------------------------------------------------------------


@frozen
class Start:
    """Begin the first playthrough (or show where the player is, if already playing)."""

    day: str | None = None  # UTC date "YYYY-MM-DD", for the daily point cap


@frozen
class Choose:
    choice: str
    turn: int | None = None  # the turn the button was shown at; a different one is stale
    day: str | None = None


@frozen
class Restart:
    day: str | None = None
    # the turn the button was shown at; a different one is stale (a double tap, or a copy
    # handled by another bot worker after the first restarted)
    turn: int | None = None


Action = Start | Choose | Restart


def action_from_json(data: dict[str, Any]) -> Action:
    kind = data.get("type")
    if kind == "start":
        return Start(data.get("day"))
    if kind == "choose":
        return Choose(str(data.get("choice")), data.get("turn"), data.get("day"))
    if kind == "restart":
        return Restart(data.get("day"), data.get("turn"))
    raise ValueError(f"unknown action type {kind!r}")


def action_to_json(action: Action) -> dict[str, Any]:
    if isinstance(action, Choose):
        return {"type": "choose", "choice": action.choice, "turn": action.turn, "day": action.day}
    if isinstance(action, Restart) and action.turn is not None:
        return {"type": "restart", "day": action.day, "turn": action.turn}
    return {"type": "start" if isinstance(action, Start) else "restart", "day": action.day}


# ---- outcome --------------------------------------------------------------------------


ERROR_CODES = (
    "not-started",  # choose / restart before start
    "already-started",  # start twice
    "unknown-fragment",  # the save is at a fragment the content no longer has
    "stale",  # the button was shown at another turn
    "ended",  # a choice at an ending
    "unknown-choice",  # not a choice of this fragment, or hidden, or a `once` choice taken
    "locked",  # its requirement does not hold
    "cannot-afford",  # its cost is above the balance
    "runaway-chain",  # more than `limits.max_chain` rule firings and moves
)


@frozen
class StepError:
    code: str  # one of ERROR_CODES
    message: str


@frozen
class Event:
    type: str
    fields: tuple[tuple[str, Any], ...]
    cause: str

    def describe(self) -> str:
        """`enter(fragment=foyer)`: the event as `why` shows it."""
        inner = ", ".join(f"{k}={v}" for k, v in self.fields)
        return f"{self.type}({inner})" if inner else self.type


@frozen
class Applied:
    """An effect that changed the state, and what caused it (start, restart, choice:F.C,
    fragment:F, rule:R, achievement:A). `via` names the rule firing behind it and its event,
    "rule `first` on enter(fragment=hall)" (for an achievement's reward, the firing that
    unlocked it); None when no rule was involved."""

    kind: str
    target: str | None
    amount: float
    cause: str
    via: str | None = None


@frozen
class Firing:
    rule: str
    event: str  # the event type
    cause: str  # what raised the event
    detail: str = ""  # the event with its fields, `enter(fragment=foyer)`


@frozen
class Outcome:
    state: State
    screen: Screen | None
    events: tuple[Event, ...] = ()
    applied: tuple[Applied, ...] = ()
    firings: tuple[Firing, ...] = ()
    notices: tuple[str, ...] = ()
    error: StepError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class RunawayChain(Exception):
    pass


# Moves one action may make, whatever `limits.max_chain` allows: a loop of moves that lint
# cannot prove (a goto behind an `if:` that always holds) ends here in an error outcome
# rather than spinning through a huge max_chain. No story needs this many in one action.
MAX_MOVES = 1_000


# ---- the transition ---------------------------------------------------------------------


@dataclass
class _Turn:
    """Mutable scratch space for one action; discarded unless the action succeeds."""

    game: Game
    state: State
    cause: str = ""
    events: list[Event] = field(default_factory=list)
    applied: list[Applied] = field(default_factory=list)
    firings: list[Firing] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    queue: deque[Event] = field(default_factory=deque)
    pending_goto: str | None = None
    fired: int = 0
    moves: int = 0
    trigger: str | None = None  # the rule firing whose effects are being applied
    capped: bool = False

    @property
    def content(self):
        return self.game.content

    @property
    def locale(self) -> str:
        return self.state["player"]["locale"]

    def currency(self) -> str:
        return self.content.manifest.currency.name.get(self.locale,
                                                      self.content.manifest.default_locale)

    def note(self, kind: str, target: str | None, amount: float, cause: str) -> None:
        self.applied.append(Applied(kind, target, amount, cause, self.trigger))

    def raise_event(self, type_: str, cause: str, **fields: Any) -> None:
        event = Event(type_, tuple(sorted(fields.items())), cause)
        self.events.append(event)
        self.queue.append(event)

    def random(self) -> float:
        value = draw(self.state["seed"], self.state["draws"])
        self.state["draws"] += 1
        return value

    # -- effects --------------------------------------------------------------------------

    def apply_all(self, effects: tuple[Effect, ...], cause: str) -> None:
        for e in effects:
            self.apply(e, cause)

    def apply(self, e: Effect, cause: str) -> None:
        s = self.state
        if e.cond is not None and not holds(e.cond, self.content, s):
            return
        if e.chance is not None and self.random() >= e.chance:
            return
        kind, target = e.kind, e.target
        if kind == "award":
            self.award(int(e.amount), e.reason or cause, cause)
        elif kind == "spend":
            self.spend(int(e.amount), e.reason or cause, cause)
        elif kind in ("set", "clear"):
            flags = set(s["flags"])
            before = target in flags
            (flags.add if kind == "set" else flags.discard)(target)
            if before != (kind == "set"):
                s["flags"] = sorted(flags)
                self.note(kind, target, 0, cause)
                self.raise_event("flag", cause, flag=target, value=kind == "set")
        elif kind in ("give", "take"):
            have = s["items"].get(target, 0)
            delta = (int(bounded(have, have + int(e.amount))) - have if kind == "give"
                     else -min(int(e.amount), have))
            if delta:
                items = dict(s["items"])
                items[target] = have + delta
                if items[target] == 0:
                    del items[target]
                s["items"] = items
                self.note(kind, target, abs(delta), cause)
                self.raise_event("item", cause, item=target, count=delta)
        elif kind == "stat":
            stat = self.content.stats[target]
            old = s["stats"].get(target, stat.initial)
            new = {"add": old + e.amount, "sub": old - e.amount, "set": e.amount}[e.op or "set"]
            new = bounded(old, stat.clamp(new))
            if new != old:
                s["stats"] = {**s["stats"], target: new}
                self.note("stat", target, new, cause)
                self.raise_event("stat", cause, stat=target, value=new)
        elif kind == "unlock":
            self.unlock(str(target), cause)
        elif kind == "goto":
            if self.pending_goto is None:  # the first goto raised wins
                self.pending_goto = target
        elif kind == "emit":
            self.raise_event(str(target), cause)

    def award(self, amount: int, reason: str, cause: str) -> None:
        s = self.state
        # The store holds 64-bit integers: the balance and the points earned stop at
        # TOTAL_MAX (the ledger records the award as cut, so it still adds up).
        top = max(s["earned"], s["points"])
        amount = max(0, int(bounded(top, top + amount)) - top)
        cap = self.content.manifest.daily_points
        if cap is not None:
            room = max(cap - s["day_points"], 0)
            if amount > room:
                if not self.capped:
                    self.capped = True
                    self.notices.append(say(self.locale, "notice.capped",
                                            currency=self.currency()))
                amount = room
            s["day_points"] += amount
        if amount <= 0:
            return
        before = s["earned"]
        s["points"] += amount
        s["earned"] += amount
        s["ledger"] = [*s["ledger"], {"amount": amount, "reason": reason, "cause": cause,
                                      "via": self.trigger, "turn": s["turn"],
                                      "day": s["day"]}]
        self.note("award", None, amount, cause)
        self.raise_event("award", cause, points=amount, reason=reason)
        for level in self.content.manifest.levels:
            if before < level.points <= s["earned"]:
                name = level.name.get(self.locale, self.content.manifest.default_locale)
                self.notices.append(say(self.locale, "notice.level", level=level.level,
                                        name=name))
                self.raise_event("level_up", cause, level=level.level)

    def spend(self, amount: int, reason: str, cause: str) -> None:
        s = self.state
        amount = min(amount, s["points"])
        if amount <= 0:
            return
        s["points"] -= amount
        s["ledger"] = [*s["ledger"], {"amount": -amount, "reason": reason, "cause": cause,
                                      "via": self.trigger, "turn": s["turn"],
                                      "day": s["day"]}]
        self.note("spend", None, amount, cause)
        self.raise_event("spend", cause, points=amount, reason=reason)

    def unlock(self, achievement: str, cause: str) -> None:
        s = self.state
        if achievement in s["achievements"]:
            return
        a = self.content.achievements[achievement]
        s["achievements"] = [*s["achievements"], achievement]
        s["unlocks"] = {**s["unlocks"], achievement: {"cause": cause, "via": self.trigger,
                                                      "turn": s["turn"]}}
        self.note("unlock", achievement, a.reward, cause)
        name = a.name.get(self.locale, self.content.manifest.default_locale)
        if a.reward:
            self.notices.append(say(self.locale, "notice.reward", name=name, n=a.reward,
                                    currency=self.currency()))
        else:
            self.notices.append(say(self.locale, "notice.achievement", name=name))
        self.raise_event("unlock", cause, achievement=achievement)
        if a.reward:
            self.award(a.reward, f"achievement:{achievement}", f"achievement:{achievement}")

    # -- movement and rules --------------------------------------------------------------

    def enter(self, fragment_id: str, cause: str) -> None:
        s = self.state
        f: Fragment = self.content.fragments[fragment_id]
        s["fragment"] = fragment_id
        first = fragment_id not in s["visits"]
        s["visits"] = {**s["visits"], fragment_id: s["visits"].get(fragment_id, 0) + 1}
        here = f"fragment:{fragment_id}"
        self.raise_event("enter", cause, fragment=fragment_id)
        if first:
            self.apply_all(f.on_first_enter, here)
        self.apply_all(f.on_enter, here)
        if f.ending is not None:
            if fragment_id not in s["endings"]:
                s["endings"] = [*s["endings"], fragment_id]
            self.raise_event("ending", cause, fragment=fragment_id, kind=f.ending)

    def run_rules(self) -> None:
        """Fire the rules of every queued event, in order, until the queue is empty.

        For one event, matching rules fire highest priority first, then in file order; each
        rule's `if` is tested when its turn comes, so an earlier firing can enable or
        disable a later one. Events raised by the effects are queued behind."""
        limit = self.content.manifest.max_chain
        fired_once = self.state["fired"]
        while self.queue:
            event = self.queue.popleft()
            rules = self.game.rules_for(event)
            if not rules:
                continue
            detail = event.describe()
            for rule in rules:
                if rule.once and rule.id in fired_once:
                    continue
                if rule.cond is not None and not holds(rule.cond, self.content, self.state):
                    continue
                self.fired += 1
                if self.fired > limit:
                    raise RunawayChain(
                        f"runaway chain: more than {limit} rule firings and moves in one"
                        f" action (limits.max_chain); the last was rule `{rule.id}` on"
                        f" `{detail}`")
                if rule.once:
                    fired_once = self.state["fired"] = [*fired_once, rule.id]
                self.firings.append(Firing(rule.id, event.type, event.cause, detail))
                self.trigger = f"rule `{rule.id}` on {detail}"
                try:
                    self.apply_all(rule.then, f"rule:{rule.id}")
                finally:
                    self.trigger = None

    def settle(self) -> None:
        """Run the rules; follow a goto they raise, run the rules of that move, repeat."""
        limit = self.content.manifest.max_chain
        while True:
            self.run_rules()
            if self.pending_goto is None:
                return
            target, self.pending_goto = self.pending_goto, None
            self.fired += 1
            self.moves += 1
            if self.moves > MAX_MOVES:
                raise RunawayChain(
                    f"runaway chain: more than {MAX_MOVES} moves in one action; the rules keep"
                    f" moving the player on (the last move was to `{target}`)")
            if self.fired > limit:
                raise RunawayChain(
                    f"runaway chain: more than {limit} rule firings and moves in one action"
                    f" (limits.max_chain); the last was a move to `{target}`")
            self.enter(target, "goto")

    def pick_target(self, targets) -> str:
        if len(targets) == 1:
            return targets[0].to
        total = sum(t.weight for t in targets)
        x = self.random() * total
        for t in targets:
            x -= t.weight
            if x < 0:
                return t.to
        return targets[-1].to


def _reject(game: Game, state: State, code: str, message: str) -> Outcome:
    screen = render(game, state) if state.get("fragment") in game.content.fragments else None
    return Outcome(state, screen, error=StepError(code, message))


def _new_day(state: State, day: str | None) -> None:
    if day is not None and day != state["day"]:
        state["day"] = day
        state["day_points"] = 0


def _check_choice(game: Game, state: State, action: Choose) -> tuple[Choice | None, Outcome | None]:
    """The choice an action takes, or the rejection."""
    content = game.content
    current = state.get("fragment")
    if current is None:
        return None, _reject(game, state, "not-started", "the story has not started yet")
    fragment = content.fragments.get(current)
    if fragment is None:
        return None, _reject(game, state, "unknown-fragment",
                             f"this save is at `{current}`, which the story no longer has")
    if action.turn is not None and action.turn != state["turn"]:
        return None, _reject(game, state, "stale", "that button belongs to an earlier page")
    choice = fragment.choice(action.choice)
    if choice is None:
        if fragment.ending:
            return None, _reject(game, state, "ended",
                                 "the story has ended here: restart to play again")
        return None, _reject(game, state, "unknown-choice",
                             f"`{action.choice}` is not a choice here")
    option = choice_view(content, state, current, choice)
    if option is None:  # hidden or already taken: absent, so as unknown as any other id
        return None, _reject(game, state, "unknown-choice",
                             f"`{action.choice}` is not a choice here")
    if not option.available:
        code = "cannot-afford" if option.unaffordable else "locked"
        return None, _reject(game, state, code, option.reason or "locked")
    return choice, None


def step(game: Game, state: State, action: Action) -> Outcome:
    content = game.content
    # Every nested value the turn changes is replaced, never mutated, so a shallow copy
    # keeps the caller's state intact.
    work = dict(state)
    turn = _Turn(game, work)
    choice: Choice | None = None
    current = state.get("fragment")
    if isinstance(action, Start):
        if current is not None:
            return _reject(game, state, "already-started", "the story has already started")
        _new_day(work, action.day)
        work["playthrough"] += 1
        cause = "start"
    elif isinstance(action, Restart):
        if state["playthrough"] == 0:
            return _reject(game, state, "not-started", "the story has not started yet")
        if action.turn is not None and action.turn != state["turn"]:
            return _reject(game, state, "stale", "that button belongs to an earlier page")
        _new_day(work, action.day)
        work.update(story_state(content))
        work["playthrough"] += 1
        cause = "restart"
    elif isinstance(action, Choose):
        choice, rejected = _check_choice(game, state, action)
        if rejected is not None:
            return rejected
        _new_day(work, action.day)
        cause = f"choice:{current}.{choice.id}"
    else:
        raise TypeError(f"not an action: {action!r}")
    work["turn"] += 1
    work["content_version"] = content.version
    try:
        if choice is None:
            turn.raise_event("start", cause)
            turn.run_rules()
            target: str | None = content.manifest.start
        else:
            if choice.cost:
                turn.spend(choice.cost, f"cost:{choice.id}", cause)
            if choice.once:
                work["taken"] = [*work["taken"], f"{current}.{choice.id}"]
            turn.apply_all(choice.effects, cause)
            turn.raise_event("choice", cause, fragment=current, choice=choice.id)
            turn.run_rules()
            target = turn.pick_target(choice.targets) if choice.targets else None
        if turn.pending_goto is not None:  # a rule's goto overrides the choice's target
            target, turn.pending_goto = turn.pending_goto, None
        if target is not None:
            turn.enter(target, cause)
        turn.settle()
    except RunawayChain as exc:
        return _reject(game, state, "runaway-chain", str(exc))
    return Outcome(
        state=work,
        screen=render(game, work),
        events=tuple(turn.events),
        applied=tuple(turn.applied),
        firings=tuple(turn.firings),
        notices=tuple(turn.notices),
    )


def begin(game: Game, **player: Any) -> State:
    return new_state(game.content, **player)
