"""Events in: `tend import events FILE.jsonl` and the store every way in shares (`POST /events`
too), which ignores repeated ids.

Each line is checked by `engine/event.py`'s `check_event` (the value and its pure check live
in the engine); file problems name line and field. `store_events` writes checked events inside
the caller's transaction and returns the ones that were new, with their sequence numbers: what
the trigger path needs (an event that was already stored must not trigger twice).

Decisions DESIGN.md leaves open:
- A `null` in `data` is a missing value and is not stored; `id: null` means no id.
- The import commits every `BATCH` lines, after which `on_stored` sees the new events; with
  `strict` the whole file is checked first and nothing is written if any line is bad.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapters.db.engines import json_text, one_of, refresh_statistics
from adapters.db.schema import UTCDateTime, customers, events
from engine.config import Config
from engine.errors import Problem, ValidationError
from engine.event import Event, StoredEvent, check_event
from engine.limits import MAX_DEPTH, too_deep

BATCH = 1000


@dataclass
class Stored:
    new: list[StoredEvent]
    repeated: int


@dataclass(frozen=True)
class Prepared:
    """A batch made ready to insert: which of its customers exist, and its events that have
    an id as the JSON rows of one insert. `POST /events` prepares a batch before taking the
    write lock, so the lock is held for the insert alone."""

    known: frozenset[str]
    rows: str


def prepare(conn: Connection, batch: Sequence[Event], looked_up: Collection[str] = (),
            found: Collection[str] = ()) -> Prepared:
    """`looked_up`: customer ids just looked for (by the matching), of which `found` exist;
    only the others are looked for here."""
    wanted = list({e.customer_id for e in batch} - set(looked_up))
    known = frozenset(existing_ids(conn, customers.c.id, wanted)).union(found)
    rows = [[e.id, e.customer_id, e.type,
             e.at.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds"),
             _json_ready(e.data) if e.data else None, e.customer_id in known]
            for e in batch if e.id is not None]
    return Prepared(known, json_text(rows))


def store_events(conn: Connection, batch: Sequence[Event], received_at: dt.datetime,
                 prepared: Prepared | None = None) -> Stored:
    """Insert `batch` in the caller's transaction; events whose id is already stored (or
    repeated earlier in the batch) are skipped and counted. `prepared`: `prepare(batch)`
    done earlier; `known_customer` then says whether the customer existed at that moment."""
    if not batch:
        return Stored([], 0)
    prepared = prepared or prepare(conn, batch)
    known = prepared.known
    new: list[StoredEvent] = []
    with_id = [(i, e) for i, e in enumerate(batch) if e.id is not None]
    if with_id:
        seqs = _insert_with_ids(conn, prepared.rows, received_at)
        for index, event in with_id:
            seq = seqs.pop(event.id or "", None)  # pop: a repeat later in the batch is not new
            if seq is not None:
                new.append(StoredEvent(seq, event, event.customer_id in known, index))
    without = [(i, e) for i, e in enumerate(batch) if e.id is None]
    if without:
        statement = sa.insert(events).returning(events.c.seq, sort_by_parameter_order=True)
        rows = [{"id": None, "customer_id": e.customer_id, "type": e.type, "at": e.at,
                 "data": _json_ready(e.data) or None, "known_customer": e.customer_id in known,
                 "received_at": received_at} for _, e in without]
        seqs_in_order = conn.execute(statement, rows).scalars().all()
        new.extend(StoredEvent(seq, event, event.customer_id in known, index)
                   for seq, (index, event) in zip(seqs_in_order, without, strict=True))
    new.sort(key=lambda s: s.seq)
    return Stored(new, len(batch) - len(new))


def existing_ids(conn: Connection, column: sa.ColumnElement[str],
                 values: Sequence[str]) -> list[str]:
    """The `values` present in `column`."""
    if not values:
        return []
    return list(conn.scalars(sa.select(column).where(one_of(conn, column, values))).all())


# One statement per batch whatever its size, the rows passed as one JSON text of `prepare`'s
# [id, customer_id, type, at, data, known customer] arrays: a multi-row VALUES of
# thousands of parameters cost more to build and parse than the insert itself, and psycopg
# dumps Python lists as arrays slowly. `at` is written as the DateTime types store it.
_INSERT_SQL = {
    "sqlite": """
    INSERT INTO events (id, customer_id, type, at, data, known_customer, received_at)
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),
           json_extract(value, '$[2]'), json_extract(value, '$[3]'),
           json_extract(value, '$[4]'), json_extract(value, '$[5]'), :received_at
    FROM json_each(:rows) WHERE true
    ON CONFLICT (id) DO NOTHING RETURNING seq, id""",
    "postgresql": """
    INSERT INTO events (id, customer_id, type, at, data, known_customer, received_at)
    SELECT r->>0, r->>1, r->>2, CAST(r->>3 AS TIMESTAMP), NULLIF(r->4, 'null'),
           CAST(r->>5 AS BOOLEAN), :received_at
    FROM jsonb_array_elements(CAST(:rows AS JSONB)) AS r
    ON CONFLICT (id) DO NOTHING RETURNING seq, id"""}
_INSERT = {dialect: sa.text(sql).bindparams(sa.bindparam("received_at", type_=UTCDateTime))
           for dialect, sql in _INSERT_SQL.items()}


def _insert_with_ids(conn: Connection, rows: str, received_at: dt.datetime) -> dict[str, int]:
    """Insert the prepared rows, skipping ids already stored; the new ones' seqs by id."""
    result = conn.execute(_INSERT[conn.dialect.name],
                          {"rows": rows, "received_at": received_at})
    return {event_id: seq for seq, event_id in result.all()}


def _json_ready(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in data.items()}


@dataclass
class EventImport:
    file: str
    read: int = 0
    stored: int = 0
    repeated: int = 0
    bad: int = 0
    unknown_customer_events: int = 0
    unknown_customers: set[str] = field(default_factory=set)
    written: bool = True

    def summary(self, shown: int = 10) -> list[str]:
        lines = [f"{self.file}: {self.read} events read, {self.stored} stored, "
                 f"{self.repeated} with an id already stored (ignored), {self.bad} bad"]
        if self.unknown_customers:
            names = sorted(self.unknown_customers)
            more = f", and {len(names) - shown} more" if len(names) > shown else ""
            lines.append(f"{self.file}: {self.unknown_customer_events} events stored for "
                         f"{len(names)} unknown customers: {', '.join(names[:shown])}{more}")
        if not self.written:
            lines.append(f"{self.file}: nothing written (--strict and {self.bad} bad lines)")
        return lines


def import_events(engine: Engine, config: Config, path: Path, *,
                  report: Callable[[Problem], None], strict: bool = False,
                  on_stored: Callable[[list[StoredEvent]], None] | None = None,
                  now: dt.datetime) -> EventImport:
    """Store every good line of a JSONL file, received `now`; each bad line goes to
    `report` as file:line."""
    result = EventImport(str(path))
    if strict:
        for _ in _checked_batches(path, config, report, result):
            pass
        if result.bad:
            result.written = False
            return result
        result.read = result.bad = 0
    received_at = now
    for batch in _checked_batches(path, config, None if strict else report, result):
        with engine.begin() as conn:
            stored = store_events(conn, batch, received_at)
        result.stored += len(stored.new)
        result.repeated += stored.repeated
        for item in stored.new:
            if not item.known_customer:
                result.unknown_customer_events += 1
                result.unknown_customers.add(item.event.customer_id)
        if on_stored is not None and stored.new:
            on_stored(stored.new)
    refresh_statistics(engine, "events")
    return result


def _checked_batches(path: Path, config: Config, report: Callable[[Problem], None] | None,
                     result: EventImport) -> Iterator[list[Event]]:
    name = str(path)
    try:
        file = path.open("rb")
    except OSError as exc:
        raise ValidationError([Problem(name, 0, 0, f"cannot read: {exc.strerror}")]) from None
    batch: list[Event] = []
    with file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            result.read += 1
            checked = _check_line(line, config)
            if isinstance(checked, Event):
                batch.append(checked)
            else:
                result.bad += 1
                for key, message in checked:
                    if report is not None:
                        where = "" if key == "event" else f"field {key!r}: "
                        report(Problem(name, number, 0, where + message))
            if len(batch) >= BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _check_line(line: bytes, config: Config) -> Event | list[tuple[str, str]]:
    try:
        raw = json.loads(line)
    except UnicodeDecodeError:
        return [("event", "not UTF-8 text")]
    except json.JSONDecodeError as exc:
        return [("event", f"invalid JSON: {exc.msg} at character {exc.pos + 1}")]
    except RecursionError:
        return [("event", f"JSON nested deeper than {MAX_DEPTH} levels")]
    where = too_deep(raw)
    if where is not None:
        return [("event", f"JSON nested deeper than {MAX_DEPTH} levels at {where}")]
    return check_event(raw, config)
