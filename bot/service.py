"""The bot's shared state: the live story (swapped atomically by /reload), the store, one
lock per player (their updates are serialized), in-flight tracking for a graceful
shutdown, and the last page message of each player (its keyboard is removed once the
player has moved on)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Config
from engine.diagnostics import Diagnostic, Severity
from engine.game import Game, compile_game
from engine.lint import lint
from engine.load import ContentDirError, load
from engine.store import SqliteStore

log = logging.getLogger("diana.bot")


@dataclass(frozen=True)
class Checked:
    """A content directory read and linted, off the event loop."""

    game_content: Any  # engine.model.Content, or None when it has errors
    errors: tuple[Diagnostic, ...]
    problem: str | None = None  # the directory itself cannot be read


def check_content(directory: Path) -> Checked:
    try:
        result = load(directory)
    except ContentDirError as exc:
        return Checked(None, (), str(exc))
    errors = tuple(d for d in lint(result) if d.severity is Severity.ERROR)
    if result.content is None or errors:
        return Checked(None, errors or tuple(d for d in result.diagnostics
                                             if d.severity is Severity.ERROR))
    return Checked(result.content, ())


class Diana:
    def __init__(self, config: Config, store: SqliteStore, game: Game) -> None:
        self.config = config
        self.store = store
        self.game = game
        self.started = time.time()
        self.handled = 0
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._reload_lock = asyncio.Lock()
        self.last_page: dict[str, tuple[int, int]] = {}  # player -> (chat, message id)

    @staticmethod
    def player_id(user_id: int) -> str:
        return f"tg:{user_id}"

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.config.admins

    @contextlib.asynccontextmanager
    async def lock(self, player: str) -> AsyncIterator[None]:
        """Serialize one player's updates (within this process)."""
        lock, users = self._locks.get(player, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[player] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock_, users = self._locks[player]
            if users <= 1:
                del self._locks[player]
            else:
                self._locks[player] = (lock_, users - 1)

    # -- in-flight updates, for a graceful shutdown ------------------------------------

    @contextlib.contextmanager
    def inflight(self) -> Any:
        self._inflight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._inflight -= 1
            self.handled += 1
            if self._inflight == 0:
                self._idle.set()

    @property
    def busy(self) -> int:
        return self._inflight

    async def drain(self, timeout: float) -> bool:
        """Wait until no update is being handled; False if the timeout passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            log.warning("shutdown: %d update(s) still in flight after %.0fs", self._inflight,
                        timeout)
            return False

    # -- content ------------------------------------------------------------------------

    async def reload(self) -> Checked:
        """Re-read and lint the content directory; swap the story in only when it has no
        errors. Players keep their saves (each records the version it was made under)."""
        async with self._reload_lock:
            checked = await asyncio.to_thread(check_content, self.config.content)
            if checked.game_content is not None:
                game = compile_game(checked.game_content)
                self.game = game
                self.store.game = game  # the store steps every later batch with it
                log.info("content reloaded: version %s (%s)", game.content.version,
                         game.content.digest[:8])
            return checked

    async def audit(self, actor: str, op: str, detail: dict[str, Any]) -> None:
        """Record an admin action in the store's audit trail when the store offers one."""
        record = getattr(self.store, "audit", None)
        if record is not None:
            await record(actor, op, detail)
        else:
            log.info("audit: %s %s %s", actor, op, detail)
