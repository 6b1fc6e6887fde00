"""A copy's PostgreSQL side: read in one REPEATABLE READ READ ONLY transaction through a
cursor, or written with COPY in one transaction that first takes an advisory lock (two
copies into one database take turns, and the second finds the first's rows). A target
database without Diana's schema gets it inside that transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg

from engine.store.invariants import Report, Rows, score_counts
from engine.store.postgres import ranks
from engine.store.postgres.connect import connect, shown
from engine.store.postgres.schema import LATEST, too_new, upgrade, version_of
from engine.store.postgres.snapshot import Reader
from engine.store.transfer.tables import DERIVED, Table

# Bookkeeping of the schema itself, not the store's data: each side has its own. UNLOGGED
# tables are not read either: what they hold may vanish in any crash (counters of the
# moment, not the store's record), and SQLite has no twin of them.
BOOKKEEPING = frozenset(("schema_migrations",))
CHUNK = 5_000
COPY_LOCK = 0x6469616E61 + 1  # next to schema.LOCK ("diana")


class PgSide:
    kind = "postgres"
    latest = LATEST

    def __init__(self, url: str, runner: asyncio.Runner, conn: asyncpg.Connection) -> None:
        self.url = url
        self.where = f"DIANA_DB ({shown(url)})"
        self.shown = shown(url)
        self.runner = runner
        self.conn = conn
        self.created = False
        self._tx: Any = None
        self._json: set[tuple[str, str]] | None = None
        self._bools: set[tuple[str, str]] | None = None

    @classmethod
    def open(cls, url: str, runner: asyncio.Runner) -> PgSide:
        side = cls(url, runner, runner.run(connect(url)))
        if (err := too_new(side.version(), side.where)) is not None:
            side.close()
            raise err
        return side

    def _run(self, coro: Any) -> Any:
        return self.runner.run(coro)

    def version(self) -> int:
        return self._run(version_of(self.conn))

    def tables(self) -> dict[str, Table]:
        columns: dict[str, list[str]] = {}
        for table, column in self._run(self.conn.fetch(
                "SELECT c.relname, a.attname FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
                " AND NOT a.attisdropped"
                " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                " AND c.relpersistence = 'p' ORDER BY c.relname, a.attnum")):
            if table not in BOOKKEEPING and table not in DERIVED:
                columns.setdefault(table, []).append(column)
        keys: dict[str, list[str]] = {}
        for table, column in self._run(self.conn.fetch(
                "SELECT c.relname, a.attname FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, pos) ON true"
                " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
                " WHERE i.indisprimary AND n.nspname = current_schema()"
                " ORDER BY c.relname, k.pos")):
            keys.setdefault(table, []).append(column)
        parents: dict[str, set[str]] = {}
        for table, parent in self._run(self.conn.fetch(
                "SELECT c.relname, p.relname FROM pg_constraint f"
                " JOIN pg_class c ON c.oid = f.conrelid JOIN pg_class p ON p.oid = f.confrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE f.contype = 'f' AND n.nspname = current_schema()")):
            parents.setdefault(table, set()).add(parent)
        return {t: Table(t, tuple(cols), tuple(keys.get(t, ())),
                         frozenset(parents.get(t, ()))) for t, cols in columns.items()}

    def json_columns(self) -> set[tuple[str, str]]:
        return {(t, c) for t, c in self._run(self.conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND data_type IN ('json', 'jsonb')"))}

    def count(self, table: str) -> int:
        return int(self._run(self.conn.fetchval(f'SELECT count(*) FROM "{table}"')))

    def chunks(self, table: Table, columns: tuple[str, ...]) -> Iterator[list[tuple]]:
        # JSON as text: what the other side stores, and what a digest compares.
        if self._json is None:
            self._json = self.json_columns()
        names = ", ".join(f'"{c}"::text' if (table.name, c) in self._json else f'"{c}"'
                          for c in columns)
        order = ", ".join(f'"{c}"' for c in table.key) or "ctid"
        cursor = self._run(self._cursor(
            f'SELECT {names} FROM "{table.name}" ORDER BY {order}'))
        while rows := self._run(cursor.fetch(CHUNK)):
            yield [tuple(r) for r in rows]

    async def _cursor(self, sql: str) -> Any:
        return await self.conn.cursor(sql)

    def begin_read(self) -> None:
        self._run(self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))

    # ---- the target ---------------------------------------------------------------------

    def begin_write(self) -> None:
        self._tx = self.conn.transaction()
        self._run(self._tx.start())
        self._run(self.conn.execute("SELECT pg_advisory_xact_lock($1)", COPY_LOCK))

    def create_schema(self) -> None:
        """Inside the copy's transaction (a savepoint): no copy, no schema either."""
        self._run(upgrade(self.conn, self.where))
        self.created = True

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if self._bools is None:
            self._bools = {(t, c) for t, c in self._run(self.conn.fetch(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND data_type = 'boolean'"))}
        flags = [i for i, c in enumerate(columns) if (table, c) in self._bools]
        if flags:  # SQLite keeps a boolean as 0 or 1; COPY takes only true or false
            rows = [tuple(bool(v) if i in flags and v is not None else v
                          for i, v in enumerate(row)) for row in rows]
        self._run(self.conn.copy_records_to_table(table, records=rows, columns=list(columns)))

    def finish_inserts(self, tables: dict[str, Table]) -> None:
        """Identity columns go on after the largest copied id (the copy gave every id), and
        the leaderboards' counts are made from the copied scores."""
        self._run(ranks.rebuild(self.conn))
        for table, column in self._run(self.conn.fetch(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND is_identity = 'YES'")):
            if table in tables:
                self._run(self.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'),"
                    f' max("{column}")) FROM "{table}" HAVING max("{column}") IS NOT NULL'))

    def reader(self) -> Rows:
        return Reader(self.runner, self.conn)

    def extra_checks(self, report: Report, actual: dict[tuple[str, int], list[int]]) -> None:
        score_counts(self.reader(), report, actual, ranks.BUCKET_BITS)

    def commit(self) -> None:
        self._run(self._tx.commit())
        self._tx = None

    def rollback(self) -> None:
        if self._tx is not None:
            self._run(self._tx.rollback())
            self._tx = None
        elif self.conn.is_in_transaction():
            self._run(self.conn.execute("ROLLBACK"))

    def close(self, *, committed: bool = True) -> None:
        self._run(self.conn.close())
