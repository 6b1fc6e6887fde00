"""/readyz's verdict, without a bot: the store open, then closed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.app import load_game
from bot.config import load_config
from bot.health import Health
from engine.store.open import open_store

ROOT = Path(__file__).resolve().parent.parent


def test_a_closed_store_is_not_ready(tmp_path):
    config = load_config({"BOT_TOKEN": "1:" + "a" * 30, "DIANA_CONTENT": str(ROOT / "content"),
                          "DIANA_DB": str(tmp_path / "db.sqlite3")}, dotenv=tmp_path / "none")

    async def verdicts() -> list[str | None]:
        health = Health()
        seen = [await health.problem()]
        health.content_loaded = True
        seen.append(await health.problem())
        health.store = await open_store(config.db, await load_game(config))
        seen.append(await health.problem())
        await health.store.close()
        seen.append(await health.problem())
        return seen

    assert asyncio.run(verdicts()) == [
        "the story is not loaded yet", "the player database is not open", None,
        "the player database is unusable: the store is closed"]
