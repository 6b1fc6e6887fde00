"""The PostgreSQL backend of the store (asyncpg): see store.py; the schema is managed by
the numbered SQL files in migrations/ (schema.py)."""

from engine.store.postgres.check import check
from engine.store.postgres.connect import is_url
from engine.store.postgres.store import PgStore

__all__ = ["PgStore", "check", "is_url"]
