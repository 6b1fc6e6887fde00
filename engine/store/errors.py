"""Typed store errors: each carries a message a person can act on (the CLI prints it as is)."""

from __future__ import annotations


class StoreError(Exception):
    """Base class: the store cannot do what was asked; nothing was changed."""


class StoreOpenError(StoreError):
    """The database file cannot be used at all."""


class SchemaTooNew(StoreOpenError):
    pass


class StoreCorrupt(StoreOpenError):
    pass


class StoreReadOnly(StoreOpenError):
    pass


class StoreClosed(StoreError):
    pass


class UnknownPlayer(StoreError):
    pass


class PlayerExists(StoreError):
    pass


class KeyConflict(StoreError):
    """An idempotency key was reused for a different player or kind of operation."""


class AdminError(StoreError):
    """An admin operation with bad arguments (e.g. revoking more than the balance)."""


class BatchFailed(StoreError):
    """The database failed while committing a batch; nothing of the batch was applied."""


class StoreUnavailable(StoreError):
    """The database cannot be reached now (down, restarting, the connection lost): try
    again in a moment. An action that failed so was applied at most once: sent again with
    the same key, it is applied or replayed, never applied twice."""
