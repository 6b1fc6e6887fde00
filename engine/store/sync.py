"""A blocking facade over a store (SQLite or PostgreSQL, see open.py) for synchronous
callers (`diana play`, scripts).

    with SyncStore.open("diana.sqlite3", game) as store:
        store.register("alice", name="Alice")
        result = store.apply("alice", Choose("greet", turn=1), key=str(uuid.uuid4()))
        state = store.state("alice")

It owns an event loop (asyncio.Runner) on the calling thread; do not use it from inside a
running event loop (use open_store there).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from engine.game import Game
from engine.state import State
from engine.step import Action
from engine.store.interface import (
    ActionResult,
    PlayerInfo,
    RankEntry,
    Resumed,
    Standing,
    Stats,
    Store,
)
from engine.store.open import open_store


class SyncStore:
    def __init__(self, runner: asyncio.Runner, store: Store) -> None:
        self._runner = runner
        self.store = store

    @classmethod
    def open(cls, path: str | Path, game: Game, **options: Any) -> SyncStore:
        runner = asyncio.Runner()
        try:
            store = runner.run(open_store(path, game, **options))
        except BaseException:
            runner.close()
            raise
        return cls(runner, store)

    def close(self) -> None:
        try:
            self._runner.run(self.store.close())
        finally:
            self._runner.close()

    def __enter__(self) -> SyncStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def register(self, player: str, **kw: Any) -> PlayerInfo:
        return self._runner.run(self.store.register(player, **kw))

    def player(self, player: str) -> PlayerInfo:
        return self._runner.run(self.store.player(player))

    def state(self, player: str) -> State:
        return self._runner.run(self.store.state(player))

    def resume(self, player: str) -> Resumed:
        return self._runner.run(self.store.resume(player))

    def apply(self, player: str, action: Action, key: str) -> ActionResult:
        return self._runner.run(self.store.apply(player, action, key))

    def grant(self, player: str, amount: int, reason: str, **kw: Any) -> ActionResult:
        return self._runner.run(self.store.grant(player, amount, reason, **kw))

    def revoke(self, player: str, amount: int, reason: str, **kw: Any) -> ActionResult:
        return self._runner.run(self.store.revoke(player, amount, reason, **kw))

    def reset(self, player: str, **kw: Any) -> ActionResult:
        return self._runner.run(self.store.reset(player, **kw))

    def export(self, player: str, **kw: Any) -> dict[str, Any]:
        return self._runner.run(self.store.export(player, **kw))

    def delete(self, player: str, **kw: Any) -> None:
        self._runner.run(self.store.delete(player, **kw))

    def update_player(self, player: str, **kw: Any) -> PlayerInfo:
        return self._runner.run(self.store.update_player(player, **kw))

    def audit(self, actor: str, op: str, detail: dict[str, Any], **kw: Any) -> None:
        self._runner.run(self.store.audit(actor, op, detail, **kw))

    def swap_game(self, game: Game, **kw: Any) -> Game:
        return self._runner.run(self.store.swap_game(game, **kw))

    def stats(self, **kw: Any) -> Stats:
        return self._runner.run(self.store.stats(**kw))

    def top(self, kind: str = "all", n: int = 10, **kw: Any) -> list[RankEntry]:
        return self._runner.run(self.store.top(kind, n, **kw))

    def standing(self, player: str, kind: str = "all", **kw: Any) -> Standing:
        return self._runner.run(self.store.standing(player, kind, **kw))
