"""The bot's shared state: the store (which holds the live story, swapped atomically by
/reload), one lock per player (their updates are serialized), in-flight tracking for a
graceful shutdown, the last page message of each player (its keyboard is removed once the
player has moved on) and the migration notices still to show."""

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
from bot.metrics import Metrics
from engine.diagnostics import Diagnostic, Severity
from engine.game import Game, compile_game
from engine.lint import lint
from engine.load import ContentDirError, load
from engine.migrate import Migration
from engine.store import Store, StoreError

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
    def __init__(self, config: Config, store: Store, metrics: Metrics | None = None) -> None:
        self.config = config
        self.store = store
        self.metrics = metrics or Metrics()
        self.metrics.content_loaded(store.game)
        store.on_commit = self.metrics.committed
        self.started = time.time()
        self.handled = 0
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._reload_lock = asyncio.Lock()
        self.last_page: dict[str, tuple[int, int]] = {}  # player -> (chat, message id)
        # player -> the migration that moved their save and whose notice they have not
        # seen yet (it leads their next page)
        self.moved: dict[str, Migration] = {}

    @property
    def game(self) -> Game:
        """The live story: the store's (one source of truth, swapped by `reload`)."""
        return self.store.game

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

    async def reload(self, actor: str = "admin") -> Checked:
        """Re-read and lint the content directory; swap the story in only when it has no
        errors. Players keep their saves (each records the version it was made under; the
        store moves a save when it is next read)."""
        async with self._reload_lock:
            checked = await asyncio.to_thread(check_content, self.config.content)
            if checked.game_content is not None:
                game = compile_game(checked.game_content)
                await self.store.swap_game(game, actor=actor)  # between two batches
                self.metrics.content_loaded(game)
                log.info("content reloaded: version %s (%s)", game.content.version,
                         game.content.digest[:8])
            return checked

    async def audit(self, actor: str, op: str, detail: dict[str, Any], ok: bool = True
                    ) -> None:
        """Record an admin action in the store's audit trail (a failure to record it is
        logged: it does not undo or block the action)."""
        log.info("audit: %s %s %s %s", actor, op, "ok" if ok else "refused", detail)
        try:
            await self.store.audit(actor, op, detail, ok=ok)
        except StoreError as exc:
            log.error("audit: could not record %s by %s: %s", op, actor, exc)
