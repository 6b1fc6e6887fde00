"""Saves made under an older content version: move the player to where the story is now.

`migrate_state(game, state, day)` is pure, like `step`: the store calls it when it loads a
save (and before it applies an action), so the CLI and the bot never see a state whose
place the current content does not have.

- The manifest's `migrate:` maps an old fragment id (gone in this version) to the fragment
  that replaces it. A player whose fragment is gone moves to the mapped fragment (a move,
  not an `enter`: no effects run, no visit is counted); visit counts, endings reached and
  `once` choices taken follow the rename too. Chains (a → b, b → c) are followed.
- A gone fragment with no (usable) entry: the playthrough restarts in `start` through
  `step(Restart)` — points, level, achievements and endings are kept — with a notice.
  Should even that be rejected, the story part of the state is reset (the player is at no
  fragment; the next Start begins a new playthrough).
- A state whose fragment exists but whose visits or endings name renamed fragments is only
  renamed, without a notice.
- A player in a menu whose page to return to is gone (and not mapped) restarts as above;
  a mapped one is renamed.
- String variables are settled the same way, without a notice: a save made before the
  story declared one gets its initial value, a value the variable no longer allows (an
  enum value dropped, free text over a lowered `max_length`) goes back to the initial
  value, and a variable the story no longer declares is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.game import Game
from engine.menus import in_menu
from engine.messages import say
from engine.model import Content
from engine.screen import render
from engine.state import State, story_state
from engine.step import Outcome, Restart, step
from engine.strings import settled_strings

MOVED, RESTARTED, RESET, RENAMED = "moved", "restarted", "reset", "renamed"


@dataclass(frozen=True)
class Migration:
    """What happened to a save. `old` is the fragment that no longer exists (None when only
    visits or endings were renamed); `new` where the player is now."""

    how: str  # moved, restarted, reset (restart rejected: at no fragment), renamed
    old: str | None
    new: str | None
    from_version: str
    to_version: str
    notice: str | None  # for the player, in their locale
    outcome: Outcome  # the new state, its screen, and a restart's events and notices


def _resolve(content: Content, fid: str) -> str | None:
    """Where a fragment that no longer exists went, following chains; None: nowhere."""
    seen = set()
    while fid not in content.fragments:
        if fid in seen:
            return None
        seen.add(fid)
        nxt = content.manifest.migrate.get(fid)
        if nxt is None:
            return None
        fid = nxt
    return fid


def _renamed(content: Content, fid: str) -> str:
    if fid in content.fragments:
        return fid
    return _resolve(content, fid) or fid


def _stale_ids(content: Content, state: State) -> bool:
    gone = [old for old in content.manifest.migrate if old not in content.fragments]
    if not gone:
        return False
    visits, endings = state.get("visits") or {}, state.get("endings") or ()
    taken = {t.split(".", 1)[0] for t in state.get("taken") or ()}
    return any(g in visits or g in endings or g in taken for g in gone)


def _strings_stale(content: Content, state: State) -> bool:
    have = state.get("strings")
    if have is None:  # saved before string variables existed
        return bool(content.strings)
    if state.get("content_version") == content.version:
        return False
    return have != settled_strings(content, state)


def needs_migration(content: Content, state: State) -> bool:
    """Cheap: true when the state's fragment is gone, or (under another content version)
    its visits or endings name fragments the manifest's `migrate:` renamed, or its string
    variables are not those the story declares now."""
    fragment = state.get("fragment")
    if fragment is not None and fragment not in content.fragments:
        return True
    if _strings_stale(content, state) or _stranded(content, state):
        return True
    return state.get("content_version") != content.version and _stale_ids(content, state)


def _stranded(content: Content, state: State) -> bool:
    """In a menu whose page to return to no longer exists."""
    return in_menu(content, state) and state.get("menu_from") not in content.fragments


def _rename(content: Content, state: State) -> State:
    visits: dict[str, int] = {}
    for fid, n in (state.get("visits") or {}).items():
        new = _renamed(content, fid)
        visits[new] = visits.get(new, 0) + n
    endings = list(dict.fromkeys(_renamed(content, f) for f in state.get("endings") or ()))
    taken = []
    for t in state.get("taken") or ():
        fid, _, choice = t.partition(".")
        taken.append(f"{_renamed(content, fid)}.{choice}")
    back = state.get("menu_from")
    return {**state, "visits": visits, "endings": endings,
            "taken": list(dict.fromkeys(taken)), "strings": settled_strings(content, state),
            "menu_from": _renamed(content, back) if back else back,
            "content_version": content.version}


def migrate_state(game: Game, state: State, day: str | None = None
                  ) -> tuple[State, Migration | None]:
    """The state moved to the current content, and what was done; `(state, None)` — the
    very same object — when nothing needs to change. `day` is the UTC date a fallback
    restart counts towards (as for any action). Never raises for a state of any version."""
    content = game.content
    if not needs_migration(content, state):
        return state, None
    locale = (state.get("player") or {}).get("locale") or content.manifest.default_locale
    old_version = str(state.get("content_version"))
    old = state.get("fragment")
    work = _rename(content, state)

    def done(how: str, outcome: Outcome, notice: str | None, gone: str | None
             ) -> tuple[State, Migration]:
        new = outcome.state.get("fragment")
        return outcome.state, Migration(how, gone, new, old_version, content.version, notice,
                                        outcome)

    # in a menu whose page to return to is gone for good: as if the place were gone
    stranded = _stranded(content, work)
    gone = work.get("menu_from") if stranded else old
    if (old is None or old in content.fragments) and not stranded:
        screen = render(game, work) if old is not None else None
        return done(RENAMED, Outcome(work, screen), None, None)
    target = None if stranded else _resolve(content, old)
    if target is not None:
        work["fragment"] = target
        return done(MOVED, Outcome(work, render(game, work)), say(locale, "migrate.moved"),
                    old)
    currency = content.manifest.currency.name.get(locale, content.manifest.default_locale)
    notice = say(locale, "migrate.restart", currency=currency)
    try:
        outcome = step(game, work, Restart(day))
    except Exception:  # a broken state must not keep the player out: reset below
        outcome = None
    if outcome is not None and outcome.ok:
        return done(RESTARTED, outcome, notice, gone)
    reset = {**work, **story_state(content)}
    return done(RESET, Outcome(reset, None), notice, gone)
