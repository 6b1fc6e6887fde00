"""Crash-test worker: applies actions forever, printing each key once it is acknowledged.

    python tests/store_crash_worker.py DB RUN [WRITER]

DB is an SQLite file or a postgresql:// URL (WRITER is SQLite's). The test kills it with
SIGKILL at a random moment; every printed key must be in the store.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storekit import next_action, sample_game

from engine.store import Store
from engine.store.open import open_store
from engine.store.postgres import is_url

PLAYERS = 16


async def player(store: Store, name: str, run: str) -> None:
    game = store.game
    i = 0
    while True:
        key = f"{run}:{name}:{i}"
        if i % 7 == 3:
            await store.grant(name, 1 + i % 5, "crash-test", key=key)
        else:
            state = await store.state(name)
            await store.apply(name, next_action(game, state, i), key)
        sys.stdout.write(key + "\n")
        sys.stdout.flush()
        i += 1


async def main(db: str, run: str, writer: str) -> None:
    options = {} if is_url(db) else {"writer": writer}
    store = await open_store(db, sample_game(), **options)
    names = [f"p{i}" for i in range(PLAYERS)]
    for name in names:
        await store.register(name)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    await asyncio.gather(*(player(store, n, run) for n in names))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "thread"))
