"""Several processes on one database file: one of them.

    python tests/store_multi_worker.py DB NAME PLAYERS ROUNDS WRITER

Opens the store (the file may not exist yet: every worker races to create it), registers
its own players NAME-0 … and the player `shared`, which every worker grants to, then plays
ROUNDS actions per own player and one grant to `shared` per round, all at once. Prints
`done` and exits 0 only if every operation succeeded.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storekit import next_action, sample_game

from engine.store import SqliteStore


async def own(store: SqliteStore, name: str, rounds: int) -> None:
    for i in range(rounds):
        key = f"{name}:{i}"
        if i % 5 == 2:
            await store.grant(name, 1 + i % 3, "multi-process test", key=key)
        else:
            state = await store.state(name)
            await store.apply(name, next_action(store.game, state, i), key)


async def shared(store: SqliteStore, worker: str, rounds: int) -> None:
    for i in range(rounds):
        await store.grant("shared", 1, "from every worker", key=f"shared:{worker}:{i}")


async def main(db: str, worker: str, players: int, rounds: int, writer: str) -> None:
    store = await SqliteStore.open(db, sample_game(), durability="normal", writer=writer)
    try:
        names = [f"{worker}-{i}" for i in range(players)]
        for name in [*names, "shared"]:
            await store.register(name)
        await asyncio.gather(shared(store, worker, rounds),
                             *(own(store, n, rounds) for n in names))
    finally:
        await store.close()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]))
