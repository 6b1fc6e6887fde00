"""The SQLite backend of the store (aiosqlite, group commit): see store.py."""

from engine.store.limits import MAX_REASON
from engine.store.sqlite.connect import prepare
from engine.store.sqlite.store import WRITERS, SqliteStore

__all__ = ["MAX_REASON", "WRITERS", "SqliteStore", "prepare"]
