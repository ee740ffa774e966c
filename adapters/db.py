"""The database edge: table definitions, engine creation, and the codecs between rows and records.

The tables here describe what the Alembic migrations create; the migrations are the only thing
that creates them. Columns carry the field names conditions use, so the SQL renderer can be
handed this table and find `arpu`, `churned_on`, ... by name.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect, Engine

from engine.config import Config
from engine.fields import CUSTOMER_FIELDS
from engine.values import FieldType

# Deterministic constraint and index names, so the migrations and this metadata agree on every
# backend and a later migration can drop or alter them by name.
metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
})


def text_c(length: int | None = None) -> sa.types.TypeEngine[str]:
    """Strings compare by code point in every backend: PostgreSQL columns use COLLATE "C"."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Instants stored as naive UTC on every backend and returned aware, in UTC."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


JSONDoc = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql")

customers = sa.Table(
    "customers", metadata,
    sa.Column("id", text_c(64), primary_key=True),
    sa.Column("name", text_c()),
    sa.Column("phone", text_c()),
    sa.Column("email", text_c()),
    sa.Column("birthday", sa.Date),
    sa.Column("joined_on", sa.Date, nullable=False),
    sa.Column("plan", text_c()),
    sa.Column("arpu", sa.Float),
    sa.Column("balance", sa.Float),
    sa.Column("usage_change_pct", sa.Float),
    sa.Column("churn_score", sa.Float),
    sa.Column("contract_end", sa.Date),
    sa.Column("last_active_on", sa.Date),
    sa.Column("churned_on", sa.Date),
    sa.Column("manager", text_c()),
    sa.Column("tags", text_c()),
    sa.Column("opt_out", text_c()),
    sa.Column("attrs", JSONDoc),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Sweeps select on these dates (churned within, contract ending, onboarding, birthdays).
    sa.Index("ix_customers_joined_on", "joined_on"),
    sa.Index("ix_customers_birthday", "birthday"),
)


def _partial_index(column: str) -> sa.Index:
    """An index on the rows that have the date: sweeps only ever ask for a range of it (which
    implies a value), and most customers have none, so it stays small and cheap to build."""
    present = customers.c[column].is_not(None)
    return sa.Index(f"ix_customers_{column}", customers.c[column],
                    sqlite_where=present, postgresql_where=present)


_partial_index("churned_on")
_partial_index("contract_end")

events = sa.Table(
    "events", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", text_c(128), unique=True),
    sa.Column("customer_id", text_c(64), nullable=False, index=True),
    sa.Column("type", text_c(64), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("data", JSONDoc),
    sa.Column("known_customer", sa.Boolean, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Index("ix_events_type_at", "type", "at"),
)

playbook_versions = sa.Table(
    "playbook_versions", metadata,
    sa.Column("playbook", text_c(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("loaded_at", UTCDateTime, nullable=False),
)


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
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


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


def decode_list(text: str | None) -> tuple[str, ...]:
    """The tuple that adapters.csv_cells.encode_list stored."""
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
        stored = json.loads(stored)
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
    row = conn.execute(_SELECT_RECORDS.where(customers.c.id == customer_id)).first()
    return None if row is None else _record(row, config.attributes)
