"""Bulk upsert of converted customer batches, one writer per backend.

Both writers update only the columns the file has, so an absent column leaves stored values
alone, and merge `attrs` key by key: the attribute columns present replace (or, when empty,
remove) their keys and other keys stay. The whole import is one transaction.

- SQLite: DBAPI `executemany` of `INSERT ... ON CONFLICT(id) DO UPDATE` under BEGIN IMMEDIATE.
  When the file is at least as large as the table, the secondary indexes are dropped and built
  again at the end (inside the transaction): sorting once is several times faster than
  inserting a million random dates into four B-trees.
- PostgreSQL: psycopg 3 `COPY` into a temporary staging table, then one upsert per batch
  (`DISTINCT ON (id)` keeps the last row of an id, as SQLite's row-by-row order does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from adapters.db.schema import customers
from adapters.intake.customer_csv import Layout
from engine.formats.values import FieldType

REBUILD_MIN_ROWS = 50_000
STAGE_ROWS = 50_000  # PostgreSQL: rows per COPY into staging and upsert from it


class Writer(Protocol):
    missing: Any  # what the rows carry for an empty cell (see adapters.intake.csv_cells)

    def expect(self, rows: int) -> None:
        """How many rows the file probably holds, to choose a loading strategy."""

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Value rows in `Layout.sources()` order."""

    def finish(self, commit: bool) -> int:
        """Commit or roll back; the number of customers that were new."""


@contextmanager
def open_writer(engine: Engine, layout: Layout, now: dt.datetime) -> Iterator[Writer]:
    """A writer on its own connection, stamping rows `now`; anything raised inside rolls
    the import back."""
    raw = engine.raw_connection()
    try:
        conn: Any = raw.driver_connection
        writer: Writer
        if engine.dialect.name == "sqlite":
            stamp = customers.c.updated_at.type.bind_processor(engine.dialect)
            writer = _SqliteWriter(conn, layout, stamp(now) if stamp else now)
        else:
            writer = _PostgresWriter(conn, layout, now.replace(tzinfo=None))
        yield writer
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class _SqliteWriter:
    missing = ""  # the statement's NULLIF(?, '') stores NULL

    def __init__(self, conn: Any, layout: Layout, stamp: Any) -> None:
        self.conn = conn
        self.sql = _sqlite_upsert(layout, str(stamp))
        self.rebuild: list[str] = []
        conn.execute("BEGIN IMMEDIATE")
        self.before = self._count()

    def _count(self) -> int:
        count: int = self.conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        return count

    def expect(self, rows: int) -> None:
        if rows < max(self.before, REBUILD_MIN_ROWS) or self.rebuild:
            return
        found = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'customers' AND sql IS NOT NULL").fetchall()
        for name, sql in found:
            self.conn.execute(f"DROP INDEX {_quote(name)}")
            self.rebuild.append(sql)

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self.conn.executemany(self.sql, rows)

    def finish(self, commit: bool) -> int:
        if not commit:
            self.conn.rollback()
            return 0
        for sql in self.rebuild:
            self.conn.execute(sql)
        inserted = self._count() - self.before
        self.conn.commit()
        return inserted


def _sqlite_upsert(layout: Layout, stamp: str) -> str:
    names = [name for _, name in layout.fields]
    updates = [f"{_quote(n)} = excluded.{_quote(n)}" for n in names if n != "id"]
    if layout.attrs:
        names.append("attrs")
        updates.append(f"attrs = {_merged_attrs(layout)}")
    values = ["?" if name == "id" else "NULLIF(?, '')" for name in names]
    names.append("updated_at")
    values.append(_literal(stamp))
    updates.append("updated_at = excluded.updated_at")
    return (f"INSERT INTO customers ({', '.join(map(_quote, names))}) "
            f"VALUES ({', '.join(values)}) "
            f"ON CONFLICT (id) DO UPDATE SET {', '.join(updates)}")


def _merged_attrs(layout: Layout) -> str:
    """The stored attrs without the file's attribute keys, plus the file's non-empty ones."""
    paths = ", ".join(_literal(f"$.{key}") for _, key, _ in layout.attrs)
    return (f"NULLIF(json_patch(json_remove(coalesce(customers.attrs, '{{}}'), {paths}), "
            "coalesce(excluded.attrs, '{}')), '{}')")


_PG_TYPES = {FieldType.NUMBER: "float8", FieldType.DATE: "date", FieldType.STRING: "text",
             FieldType.LIST: "text", "id": "text", "opt_out": "text", "attrs": "jsonb"}


class _PostgresWriter:
    missing = None
    STAGE = "tend_stage_customers"

    def __init__(self, conn: Any, layout: Layout, now: dt.datetime) -> None:
        self.conn = conn
        self.now = now
        self.inserted = 0
        self.pending: list[tuple[Any, ...]] = []
        kinds = [kind for _, _, kind in layout.sources()][:len(layout.fields)]
        if layout.attrs:
            kinds.append("attrs")
        self.columns = [f"c{i}" for i in range(len(kinds))]
        typed = [f"{column} {_PG_TYPES[kind]}" for column, kind
                 in zip(self.columns, kinds, strict=True)]
        conn.execute(f"CREATE TEMP TABLE {self.STAGE} (seq bigserial, {', '.join(typed)}) "
                     "ON COMMIT DROP")
        self.copy_sql = f"COPY {self.STAGE} ({', '.join(self.columns)}) FROM STDIN"
        self.upsert = _postgres_upsert(layout, self.columns, self.STAGE)

    def expect(self, rows: int) -> None:
        """COPY plus one set-based upsert per batch is already the bulk path."""

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self.pending.extend(rows)
        if len(self.pending) >= STAGE_ROWS:
            self._upsert()

    def _upsert(self) -> None:
        with self.conn.cursor() as cur:
            with cur.copy(self.copy_sql) as copy:
                for row in self.pending:
                    copy.write_row(row)
            cur.execute(self.upsert, {"now": self.now})
            self.inserted += cur.fetchone()[0]
            cur.execute(f"TRUNCATE {self.STAGE}")
        self.pending.clear()

    def finish(self, commit: bool) -> int:
        if not commit:
            self.conn.rollback()
            return 0
        if self.pending:
            self._upsert()
        self.conn.commit()
        return self.inserted


def _postgres_upsert(layout: Layout, columns: list[str], stage: str) -> str:
    names = [name for _, name in layout.fields]
    updates = [f"{_quote(n)} = EXCLUDED.{_quote(n)}" for n in names if n != "id"]
    if layout.attrs:
        names.append("attrs")
        keys = ", ".join(_literal(key) for _, key, _ in layout.attrs)
        updates.append(f"attrs = NULLIF((coalesce(c.attrs, '{{}}') - ARRAY[{keys}]::text[]) "
                       "|| coalesce(EXCLUDED.attrs, '{}'), '{}')")
    selected = [*columns, "%(now)s"]
    names.append("updated_at")
    updates.append("updated_at = EXCLUDED.updated_at")
    id_column = columns[names.index("id")]
    return (f"WITH up AS (INSERT INTO customers AS c ({', '.join(map(_quote, names))}) "
            f"SELECT DISTINCT ON ({id_column}) {', '.join(selected)} FROM {stage} "
            f"ORDER BY {id_column}, seq DESC "
            f"ON CONFLICT (id) DO UPDATE SET {', '.join(updates)} "
            "RETURNING (xmax = 0) AS inserted) "
            "SELECT count(*) FILTER (WHERE inserted) FROM up")
