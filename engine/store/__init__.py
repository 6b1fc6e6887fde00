"""Player data: the store interface and its SQLite implementation (the imperative shell).

    store = await SqliteStore.open("diana.sqlite3", game)
    await store.register("tg:42", name="Ana")
    result = await store.apply("tg:42", Choose("greet", turn=1), key="update:1001")

`SyncStore` (sync.py) wraps it for synchronous callers such as `diana play`.
"""

from engine.store.errors import (
    AdminError,
    BatchFailed,
    KeyConflict,
    PlayerExists,
    SchemaTooNew,
    StoreClosed,
    StoreCorrupt,
    StoreError,
    StoreOpenError,
    StoreReadOnly,
    StoreUnavailable,
    UnknownPlayer,
)
from engine.store.interface import (
    ActionResult,
    PlayerInfo,
    RankEntry,
    Resumed,
    Standing,
    Stats,
    Store,
)
from engine.store.progress import Progress, progress
from engine.store.sqlite.store import SqliteStore
from engine.store.sync import SyncStore

__all__ = [
    "ActionResult",
    "AdminError",
    "BatchFailed",
    "KeyConflict",
    "PlayerExists",
    "PlayerInfo",
    "Progress",
    "RankEntry",
    "Resumed",
    "SchemaTooNew",
    "SqliteStore",
    "Standing",
    "Stats",
    "Store",
    "StoreClosed",
    "StoreCorrupt",
    "StoreError",
    "StoreOpenError",
    "StoreReadOnly",
    "StoreUnavailable",
    "SyncStore",
    "UnknownPlayer",
    "progress",
]
