"""Small readers for tests: YAML text as plain data, a SQLite connection that closes."""

from __future__ import annotations

import contextlib
import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML


def read(text: str) -> Any:
    """YAML text as plain dicts, lists and scalars (YAML 1.2, as the loader reads it)."""
    return YAML(typ="safe", pure=True).load(io.StringIO(text))


@contextlib.contextmanager
def sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path)
    try:
        yield conn
    finally:
        conn.close()
