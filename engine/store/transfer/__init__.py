"""`diana db copy SRC DST`: every table of the store from one database to another (SQLite
or PostgreSQL, either way), in one transaction on the target, checked before it commits.
See copy.py; each backend's side of it is in sqlite_side.py and pg_side.py."""

from engine.store.transfer.copy import CopyRefused, Outcome, copy_database

__all__ = ["CopyRefused", "Outcome", "copy_database"]
