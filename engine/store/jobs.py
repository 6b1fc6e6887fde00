"""The store's public operations, the same on every backend: each one is a job (batch.Job)
that the backend queues and commits (`_submit`), or a read of a committed record
(`_record`). What an operation asks is said once, here; how it is written is the
backend's (sqlite/, postgres/)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

from engine.game import Game
from engine.migrate import needs_migration
from engine.outbox.events import game_slug, slug
from engine.state import State
from engine.step import Action
from engine.store.batch import Job
from engine.store.errors import StoreError
from engine.store.interface import ActionResult, PlayerInfo, Resumed
from engine.store.limits import admin_reason, default_seed
from engine.store.records import Record


class JobStore:
    """A backend subclasses this and provides `_submit`, `_record` and `close`."""

    game: Game
    clock: Callable[[], float]
    # The game's token in event subjects (engine.outbox.events); None: no outbox rows.
    outbox_game: str | None = None

    async def _submit(self, job: Job) -> Any:
        raise NotImplementedError

    async def _record(self, player: str) -> Record:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- the public operations ----------------------------------------------------------

    async def register(self, player: str, *, name: str | None = None, role: str | None = None,
                       locale: str | None = None, seed: int | None = None,
                       exist_ok: bool = True) -> PlayerInfo:
        """Create a player (and their save) if new; an existing one is returned as is."""
        return await self._submit(Job("register", player, args={
            "name": name or player, "role": role, "locale": locale,
            "seed": default_seed(player) if seed is None else seed, "exist_ok": exist_ok}))

    async def apply(self, player: str, action: Action, key: str) -> ActionResult:
        """Apply one player action exactly once per key; resolves after COMMIT."""
        if not key:
            raise StoreError("an action needs an idempotency key")
        return await self._submit(Job("action", player, key=key, action=action))

    async def grant(self, player: str, amount: int, reason: str, *, key: str | None = None,
                    actor: str = "admin") -> ActionResult:
        return await self._admin("grant", player, amount, reason, key, actor)

    async def revoke(self, player: str, amount: int, reason: str, *, key: str | None = None,
                     actor: str = "admin") -> ActionResult:
        return await self._admin("revoke", player, amount, reason, key, actor)

    async def _admin(self, op: str, player: str, amount: int, reason: str, key: str | None,
                     actor: str) -> ActionResult:
        return await self._submit(Job(op, player, key=key, args={
            "amount": amount, "reason": admin_reason(amount, reason), "actor": actor}))

    async def reset(self, player: str, *, actor: str = "admin", key: str | None = None,
                    seed: int | None = None) -> ActionResult:
        """Start the player over: a new state (the same seed unless `seed` is given), the
        balance cleared by a `reset` ledger entry, off every leaderboard."""
        return await self._submit(Job("reset", player, key=key, args={"actor": actor,
                                                                      "seed": seed}))

    async def export(self, player: str, *, actor: str = "admin") -> dict[str, Any]:
        return await self._submit(Job("export", player, args={"actor": actor}))

    async def delete(self, player: str, *, actor: str = "admin") -> None:
        await self._submit(Job("delete", player, args={"actor": actor}))

    async def player(self, player: str) -> PlayerInfo:
        rec = await self._record(player)
        return PlayerInfo(rec.external, rec.name, rec.role, rec.locale, rec.created)

    async def state(self, player: str) -> State:
        """The committed state (treat it as read-only, like every engine state), moved to
        the current content first if the save needs it (see `resume`)."""
        return (await self.resume(player)).state

    async def resume(self, player: str) -> Resumed:
        """The committed state under the current content. A save whose fragment the content
        no longer has is moved (engine.migrate: the manifest's `migrate:` map, or a restart)
        and written back once; the call that moved it gets the migration and its notice."""
        rec = await self._record(player)
        if not needs_migration(self.game.content, rec.state):
            return Resumed(rec.state)
        result: ActionResult = await self._submit(Job("migrate", player))
        if result.migration is not None:
            return Resumed(result.migration.outcome.state, result.migration)
        return Resumed((await self._record(player)).state)

    async def update_player(self, player: str, *, locale: str | None = None,
                            name: str | None = None, actor: str | None = None
                            ) -> PlayerInfo:
        """Change a player's locale (one of the content's) and/or display name, in the
        players row and the save at once, with a `profile` event; what the player sees
        follows from the next page on. Nothing to change: nothing is written."""
        return await self._submit(Job("profile", player, args={
            "locale": locale, "name": name, "actor": actor}))

    async def audit(self, actor: str, op: str, detail: dict[str, Any], *,
                    ok: bool = True) -> None:
        """Record an operation done outside the store (an admin command, a refused attempt)
        in the events table, after the writes queued before it."""
        if not isinstance(op, str) or not op.strip():
            raise StoreError("an audit event needs an operation name")
        await self._submit(Job("audit", actor, args={"op": op.strip(), "ok": bool(ok),
                                                     "detail": dict(detail)}))

    async def swap_game(self, game: Game, *, actor: str = "admin") -> Game:
        """Serve `game` from now on; returns the game it replaces. The swap waits for the
        batches computed under the old content to commit and is recorded (`content`
        event); saves move to the new content when next read or acted on."""
        return await self._submit(Job("swap", "", args={"game": game, "actor": actor}))

    def _when(self, when: float | None) -> float:
        return self.clock() if when is None else when


def outbox_game(game: Game, on: bool, name: str | None) -> str | None:
    """The subject token the store writes its events under, or None with the outbox off.
    `name` (an operator's choice) wins over the slug of the content's title."""
    if not on:
        return None
    return slug(name) if name else game_slug(game.content)


def resolve(job: Job, result: Any) -> None:
    """Answer a job's caller with its result, or the exception it carries."""
    if job.future.done():
        return
    if isinstance(result, Exception):
        job.future.set_exception(result)
    else:
        job.future.set_result(result)


def fail(jobs: list[Job], exc: Exception) -> None:
    for job in jobs:
        if not job.future.done():
            job.future.set_exception(exc)
