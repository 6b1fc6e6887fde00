"""A minimal SQLite save slot per player for `diana play` (the store issue replaces it)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from engine.state import State


class SaveSlots:
    def __init__(self, path: str | Path) -> None:
        self.db = sqlite3.connect(str(path))
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS saves (player TEXT PRIMARY KEY, content_version TEXT"
            " NOT NULL, state TEXT NOT NULL, updated TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        )

    def load(self, player: str) -> State | None:
        row = self.db.execute("SELECT state FROM saves WHERE player = ?", (player,)).fetchone()
        return json.loads(row[0]) if row else None

    def save(self, player: str, state: State) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO saves (player, content_version, state) VALUES (?, ?, ?)"
                " ON CONFLICT(player) DO UPDATE SET content_version = excluded.content_version,"
                " state = excluded.state, updated = CURRENT_TIMESTAMP",
                (player, state["content_version"], json.dumps(state, ensure_ascii=False)),
            )

    def close(self) -> None:
        self.db.close()
