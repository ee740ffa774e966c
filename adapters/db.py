"""The database edge: table definitions, engine creation, and the codecs between rows and records.

The tables here describe what the Alembic migrations create; the migrations are the only thing
that creates them. Columns carry the field names conditions use, so the SQL renderer can be
handed this table and find `arpu`, `churned_on`, ... by name.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect, Engine

from engine.config import Config
from engine.fields import CUSTOMER_FIELDS

try:
    import fcntl
except ImportError:  # not on Windows: writers there wait as SQLite makes them
    fcntl = None  # type: ignore[assignment]
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
    row = conn.execute(_SELECT_RECORDS.where(customers.c.id == customer_id)).first()
    return None if row is None else _record(row, config.attributes)


# --- tickets: users, tickets and their members, approvals, audit, entries, tasks ---
# Appended for the ticket workflow (migration 0002). Ids of people are their names: audit rows
# and approvals must stay readable after a user is gone, so they hold the name, not a key.

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", text_c(128), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("password_hash", sa.Text),  # console sign-in (migration 0006); NULL: token only
)

user_roles = sa.Table(
    "user_roles", metadata,
    sa.Column("user_id", sa.Integer, primary_key=True),
    sa.Column("role", text_c(128), primary_key=True),
)

tokens = sa.Table(
    "tokens", metadata,
    sa.Column("hash", sa.String(64), primary_key=True),  # sha256 hex: the token is never stored
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime),
)

tickets = sa.Table(
    "tickets", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("playbook", text_c(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("playbook_hash", sa.String(64), nullable=False),
    sa.Column("workflow", text_c(64), nullable=False),
    sa.Column("state", text_c(16), nullable=False, index=True),
    sa.Column("trigger", text_c(16), nullable=False),
    sa.Column("window_key", text_c(64), nullable=False),
    sa.Column("planned_at", UTCDateTime, nullable=False),
    sa.Column("planned_by", text_c(128), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("levels", JSONDoc, nullable=False),
    sa.Column("deadline", UTCDateTime),
    sa.Column("started_at", UTCDateTime),
    sa.Column("evaluate_after", UTCDateTime),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("rehearsal", JSONDoc),
    sa.Column("results", JSONDoc),
    sa.Column("cancel_reason", sa.Text),
    # A sweep of one window opens one ticket, however often it runs (overlapping schedulers).
    sa.UniqueConstraint("playbook", "window_key", name="uq_tickets_playbook_window_key"),
)

ticket_members = sa.Table(
    "ticket_members", metadata,
    sa.Column("ticket_id", sa.Integer, primary_key=True),
    sa.Column("customer_id", text_c(64), primary_key=True),
    sa.Column("grp", text_c(16), nullable=False),       # treatment | control | suppressed
    sa.Column("reason", text_c(16)),                    # the suppression reason
)

approvals = sa.Table(
    "approvals", metadata,
    sa.Column("ticket_id", sa.Integer, primary_key=True),
    sa.Column("level", sa.Integer, primary_key=True),
    sa.Column("role", text_c(128), nullable=False),
    sa.Column("by", text_c(128), nullable=False),
    sa.Column("decision", text_c(16), nullable=False),  # approved | rejected
    sa.Column("comment", sa.Text),
    sa.Column("at", UTCDateTime, nullable=False),
)

audit = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ticket_id", sa.Integer, nullable=False, index=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", text_c(128), nullable=False),
    sa.Column("role", text_c(128), nullable=False),
    sa.Column("action", text_c(32), nullable=False),
    sa.Column("from_state", text_c(16)),
    sa.Column("to_state", text_c(16), nullable=False),
    sa.Column("reason", sa.Text),
)

entries = sa.Table(
    "entries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("playbook", text_c(64), nullable=False),
    sa.Column("customer_id", text_c(64), nullable=False),
    sa.Column("ticket_id", sa.Integer, nullable=False, index=True),
    sa.Column("grp", text_c(16), nullable=False),
    sa.Column("entered_at", UTCDateTime, nullable=False),
    # Cooldown asks: did this customer enter this playbook after a given instant?
    sa.Index("ix_entries_playbook_customer_id_entered_at",
             "playbook", "customer_id", "entered_at"),
)

tasks = sa.Table(
    "tasks", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ticket_id", sa.Integer, nullable=False, index=True),
    sa.Column("entry_id", sa.Integer, nullable=False),
    sa.Column("customer_id", text_c(64), nullable=False),
    sa.Column("step", text_c(64), nullable=False),
    sa.Column("channel", text_c(32), nullable=False),
    sa.Column("route", text_c(160), nullable=False),
    sa.Column("state", text_c(16), nullable=False),
    sa.Column("idempotency_key", text_c(96), nullable=False, unique=True),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("payload", JSONDoc, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Migration 0004: a pulled task is held until its lease ends (then pulled again); a task
    # cancelled while held keeps it until the next pull has listed the cancel. The adapter's
    # best result so far is the state; when it happened and what it said are kept with it.
    sa.Column("lease_expires_at", UTCDateTime),
    sa.Column("result_at", UTCDateTime),
    sa.Column("detail", JSONDoc),
    # Migration 0005: push deliveries tried so far; the worker retries, then dead-letters.
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # Migration 0008, the contact policy and step timing: when the task was first handed to an
    # adapter (a contact: frequency caps, capacity per day), its playbook's priority (claim
    # order, arbitration), which retry of its step it is (0: the first contact; retry_of: the
    # task it retries), and the step's `unless` and `retry` rules, so results and claims need
    # no playbook text.
    sa.Column("sent_at", UTCDateTime),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
    sa.Column("retry_of", sa.Integer),
    sa.Column("step_rules", JSONDoc),
    # Dispatch asks: which tasks of a channel are due?
    sa.Index("ix_tasks_channel_state_due_at", "channel", "state", "due_at"),
    # The policy asks: what did this customer get lately? how much did a channel send today?
    sa.Index("ix_tasks_customer_id", "customer_id"),
    sa.Index("ix_tasks_channel_sent_at", "channel", "sent_at"),
    # The push worker asks (migration 0010): which of a channel's holds have ended? (cancels
    # due, pushes of a worker that died); found without reading its delivered tasks.
    sa.Index("ix_tasks_channel_lease_expires_at", "channel", "lease_expires_at"),
)

# Migration 0011: claimers (pull and push) take due tasks highest priority first, then oldest
# due. Walking this index, PostgreSQL stops after a batch's worth of open tasks instead of
# sorting every due task of the channels on every claim (a drain of N due tasks in batches
# of B was N²/B rows sorted). SQLite would never use it (a partial index serves only queries
# that repeat its WHERE term) and sorts its due tasks as before.
_OPEN = ("pending", "leased", "pushed")
sa.Index("ix_tasks_claim_order", tasks.c.priority.desc(), tasks.c.due_at, tasks.c.id,
         postgresql_where=tasks.c.state.in_(_OPEN)).ddl_if(dialect="postgresql")

scheduler_lease = sa.Table(
    "scheduler_lease", metadata,
    sa.Column("name", text_c(64), primary_key=True),
    sa.Column("holder", text_c(128), nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)


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
    literal, so `= ANY(...)` is an index condition whatever the planner's statistics say."""
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


# --- notices (migration 0003): who was told about which ticket level, and whether it went out ---

notices = sa.Table(
    "notices", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ticket_id", sa.Integer, nullable=False),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("kind", text_c(16), nullable=False),        # awaiting | overdue
    sa.Column("role", text_c(128), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),                     # NULL: not delivered yet, retried
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    # Deciding to notify is inserting this row: a second decision for one level conflicts.
    sa.UniqueConstraint("ticket_id", "level", "kind", name="uq_notices_ticket_id_level_kind"),
)


# --- churn model (migration 0007): what was known of each customer at the start of a month ---
# Features are read from here, never from today's row (which already knows who churned later).

customer_snapshots = sa.Table(
    "customer_snapshots", metadata,
    sa.Column("month", sa.Date, primary_key=True),          # the first day of the month
    sa.Column("customer_id", text_c(64), primary_key=True),
    sa.Column("as_of", sa.Date, nullable=False),            # the local day the values describe
    sa.Column("taken_at", UTCDateTime, nullable=False),
    sa.Column("tenure_days", sa.Integer, nullable=False),
    sa.Column("arpu", sa.Float),
    sa.Column("balance", sa.Float),
    sa.Column("usage_change_pct", sa.Float),
    sa.Column("days_inactive", sa.Integer),
    sa.Column("contract_days_left", sa.Integer),
    sa.Column("churned_on", sa.Date),                       # churned already, as known then
    sa.Column("event_counts", JSONDoc),                     # {type: n} in the 30 days before
)


# --- gathered event matches (migration 0009): matches waiting for their day's ticket ---
# An event-triggered playbook whose workflow is not standing records each match here; the
# matches of one local day become one planned ticket once the day is over.

event_matches = sa.Table(
    "event_matches", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("playbook", text_c(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("day", sa.Date, nullable=False),              # local day the match was made
    sa.Column("customer_id", text_c(64), nullable=False),
    sa.Column("event_seq", sa.Integer, nullable=False),
    sa.Column("matched_at", UTCDateTime, nullable=False),
    # An event is gathered once per playbook, whoever retries it.
    sa.UniqueConstraint("event_seq", "playbook", name="uq_event_matches_event_seq_playbook"),
    sa.Index("ix_event_matches_playbook_day", "playbook", "day"),
)
