"""The database edge: engines, the statements batch paths share, and the codecs between
customer rows and records. The tables themselves are in adapters.db.schema."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

from adapters.db.schema import UTCDateTime, customers
from engine.config import Config
from engine.formats.values import FieldType
from engine.language.fields import CUSTOMER_FIELDS

try:
    import fcntl
except ImportError:  # not on Windows: writers there wait as SQLite makes them
    fcntl = None  # type: ignore[assignment]


def database_url(default: str) -> str:
    return os.environ.get("TEND_DATABASE_URL", default)


def make_engine(url: str) -> Engine:
    """An engine with SQLite set up for concurrent use (WAL, busy timeout) or psycopg 3."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30}, json_serializer=json_text,
                                  json_deserializer=orjson.loads)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, json_serializer=json_text,
                            json_deserializer=orjson.loads)


def json_text(value: Any) -> str:
    """JSON as columns and batch parameters take it, written by orjson: the standard
    library's encoder and decoder were a fifth of a push worker's CPU (bench/dispatch.py).
    Keys that are not strings become strings, as json.dumps makes them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# --- codecs between customer rows and the Python records of docs/ARCHITECTURE.md ---

_PLAIN_FIELDS = tuple(name for name in CUSTOMER_FIELDS if name not in ("tags", "opt_out"))
_RECORD_COLUMNS = (*_PLAIN_FIELDS, "tags", "opt_out", "attrs")
# attrs as it comes from the driver (JSON text on SQLite, a dict from psycopg): SQLAlchemy's
# JSON result processing cost more than the decoding itself when streaming a million rows.
_SELECT_RECORDS = sa.select(*(customers.c[name] for name in _RECORD_COLUMNS[:-1]),
                            sa.type_coerce(customers.c.attrs, sa.Text).label("attrs"))
_SELECT_RECORD = _SELECT_RECORDS.where(customers.c.id == sa.bindparam("cid"))


def decode_list(text: str | None) -> tuple[str, ...]:
    """The tuple that adapters.intake.csv_cells.encode_list stored."""
    return tuple(text[1:-1].split(";")) if text else ()


def row_to_customer(row: Mapping[Any, Any], config: Config) -> dict[str, Any]:
    """A customers row as a customer record: typed values, lists as tuples, typed attrs."""
    return _record([row[name] for name in _RECORD_COLUMNS], config.attributes)


def _record(values: Sequence[Any], attributes: Mapping[str, FieldType]) -> dict[str, Any]:
    """`values` in _RECORD_COLUMNS order."""
    record = dict(zip(_PLAIN_FIELDS, values, strict=False))  # the plain fields come first
    tags, opt_out, stored = values[-3:]
    record["tags"] = decode_list(tags)
    record["opt_out"] = decode_list(opt_out)
    if isinstance(stored, str):
        stored = orjson.loads(stored)
    attrs = {}
    for name, ftype in attributes.items():
        value = (stored or {}).get(name)
        if value is None:
            continue
        if ftype is FieldType.NUMBER:
            value = float(value)
        elif ftype is FieldType.DATE:
            value = dt.date.fromisoformat(value)
        attrs[name] = value
    record["attrs"] = attrs
    return record


def stream_customers(conn: sa.Connection, config: Config,
                     batch_size: int = 10_000) -> Iterator[dict[str, Any]]:
    """Every customer record, fetched `batch_size` rows at a time (server-side cursor on PG)."""
    attributes = config.attributes
    for row in conn.execution_options(yield_per=batch_size).execute(_SELECT_RECORDS):
        yield _record(row, attributes)


def load_customer(conn: sa.Connection, config: Config, customer_id: str) -> dict[str, Any] | None:
    row = conn.execute(_SELECT_RECORD, {"cid": customer_id}).first()
    return None if row is None else _record(row, config.attributes)


def refresh_statistics(engine: Engine, table: str) -> None:
    """PostgreSQL plans from statistics that autovacuum refreshes only some time after a bulk
    load; until then a lookup by a list of ids read the whole table (about 20 s for 18,000
    ids right after an import). SQLite plans from its indexes alone."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text(f"ANALYZE {table}"))


def begin_writes(conn: sa.Connection) -> None:
    """Take SQLite's write lock now, before the first read of a read-modify-write.

    pysqlite starts a deferred transaction at the first write, so two writers that both read
    first fail with "database is locked" when upgrading; BEGIN IMMEDIATE makes the second one
    wait (busy timeout) instead. PostgreSQL needs nothing here. Call it first in a transaction.
    """
    if conn.dialect.name != "sqlite":
        return
    raw: Any = conn.connection.dbapi_connection
    if not raw.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def one_of(conn: sa.Connection, column: sa.ColumnElement[Any],
           values: Sequence[str] | Sequence[int]) -> sa.ColumnElement[bool]:
    """`column IN values` for a long list, the list passed as one text parameter: an IN list
    of hundreds of parameters was compiled anew by SQLAlchemy and parsed anew by psycopg on
    every call, and psycopg dumps a Python list as an array slowly, which made a batch's
    lookups cost more than its inserts. SQLite reads the list as JSON; PostgreSQL as an array
    literal, so `= ANY(...)` can be an index condition. PostgreSQL needs the table's
    statistics for that (refresh_statistics): without them it may scan the table and parse
    the literal once per row."""
    if conn.dialect.name != "postgresql":
        items = sa.func.json_each(sa.literal(json_text(list(values)), _TEXT))
        return column.in_(sa.select(items.table_valued("value").c.value))
    quoted = ('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    listed = sa.literal("{" + ",".join(quoted) + "}", _TEXT)
    kind = _INTEGER if values and isinstance(values[0], int) else _TEXT
    return column == sa.any_(sa.cast(listed, postgresql.ARRAY(kind)))


_INTEGER, _TEXT = sa.Integer(), sa.Text()


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]],
                returning: Sequence[str]) -> list[sa.Row[Any]]:
    """INSERT `rows` (a key missing from a row is NULL) as one statement whose one parameter is
    the rows as JSON, RETURNING the `returning` columns, typed, in no particular order.

    For a batch path: an executemany processed every value of every row in Python and
    PostgreSQL's RETURNING of many rows became one statement of thousands of parameters.
    Instants, dates and JSON documents are written in the text each backend reads them from.
    """
    names = sorted({name for row in rows for name in row})
    kinds = [_json_kind(table.c[name].type) for name in names]
    converts = [(i, _AS_JSON[kind]) for i, kind in enumerate(kinds) if kind in _AS_JSON]
    listed = []
    for row in rows:
        values = [row.get(name) for name in names]
        for i, convert in converts:
            if values[i] is not None:
                values[i] = convert(values[i])
        listed.append(values)
    if conn.dialect.name == "postgresql":
        picked = [f"CAST(r->>{i} AS {_PG_CASTS[kind]})" if kind in _PG_CASTS else f"r->>{i}"
                  for i, kind in enumerate(kinds)]
        source = "jsonb_array_elements(CAST(:rows AS JSONB)) AS r"
    else:
        picked = [f"json_extract(value, '$[{i}]')" for i in range(len(names))]
        source = "json_each(:rows) WHERE true"
    statement = sa.text(f"INSERT INTO {table.name} ({', '.join(names)}) "
                        f"SELECT {', '.join(picked)} FROM {source} "
                        f"RETURNING {', '.join(returning)}")
    typed = statement.columns(*(table.c[name] for name in returning))
    return list(conn.execute(typed, {"rows": json_text(listed)}).all())


_PG_CASTS = {"instant": "TIMESTAMP", "date": "DATE", "json": "JSONB", "int": "INTEGER",
             "float": "DOUBLE PRECISION", "bool": "BOOLEAN"}


def _json_kind(kind: sa.types.TypeEngine[Any]) -> str:
    if isinstance(kind, UTCDateTime):
        return "instant"
    for name, types in (("json", sa.JSON), ("date", sa.Date), ("bool", sa.Boolean),
                        ("int", sa.Integer), ("float", sa.Float)):
        if isinstance(kind, types):
            return name
    return "text"


def _instant_text(value: dt.datetime) -> str:
    """As UTCDateTime stores an instant: naive UTC."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


_AS_JSON: dict[str, Callable[[Any], Any]] = {
    "instant": _instant_text, "date": dt.date.isoformat, "json": json_text}


@contextmanager
def writer_turn(engine: Engine) -> Iterator[None]:
    """Writers of one SQLite database queue on an OS lock beside its file, for a busy write
    path (`POST /events`). SQLite's own wait for its write lock sleeps 1, 2, 5, 10, ... ms
    between tries, so a writer waiting for another's commit slept longer than the other held
    the lock; the OS lock wakes the next writer as the first one lets go. Elsewhere a no-op."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:" or fcntl is None:
        yield
        return
    with open(path + ".writers", "a") as turn:
        fcntl.flock(turn, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(turn, fcntl.LOCK_UN)


def load_customers(conn: sa.Connection, config: Config,
                   ids: Sequence[str], chunk: int = 5_000) -> dict[str, dict[str, Any]]:
    """The records of `ids` (those that exist), fetched a chunk of ids per query."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        rows = conn.execute(_SELECT_RECORDS.where(one_of(conn, customers.c.id, part))).all()
        for row in rows:  # fetchall: psycopg fetches row by row slowly
            record = _record(row, config.attributes)
            found[record["id"]] = record
    return found


def iso(value: dt.datetime | None) -> str | None:
    """An instant as the API writes it (ISO 8601), or None."""
    return None if value is None else value.isoformat()
