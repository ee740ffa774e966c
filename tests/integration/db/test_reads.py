"""Several reads in one statement (adapters/db/reads.py) return what each returns alone, on
both backends: the same rows in the same order, with instants aware in UTC, dates, JSON
documents, numbers, text and NULLs as the driver and the column types give them. The
customer view's reads rely on it (on PostgreSQL they are one round trip)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import make_engine
from adapters.db.reads import Read, fetch
from adapters.db.schema import channel_sends, contacts, tasks, tickets

AT = dt.datetime(2026, 12, 31, 15, 30, 0, 123456, tzinfo=dt.UTC)


@pytest.fixture
def conn(db_url: str) -> Iterator[Connection]:
    engine = make_engine(db_url)
    with engine.begin() as setup:
        setup.execute(tickets.insert().values(
            id=1, playbook="winback", version=2, playbook_hash="h" * 64, workflow="standard",
            state="executing", trigger="schedule", window_key="w1", planned_at=AT,
            planned_by="bob", at=AT, levels=[{"level": 1, "role": "campaign_lead"}]))
        setup.execute(tasks.insert(), [
            {"id": n, "ticket_id": 1, "entry_id": n, "customer_id": f"c{n % 2}",
             "step": "sms", "channel": "sms", "route": "pool",
             "state": "pending" if n % 3 else "accepted", "idempotency_key": f"k{n}",
             "due_at": AT - dt.timedelta(hours=n), "payload": {"params": {"offer": f"o{n}"},
                                                              "n": [n, None, True]},
             "created_at": AT, "updated_at": AT,
             "result_at": None if n % 3 else AT - dt.timedelta(minutes=n),
             "detail": None if n % 2 else "kept", "attempts": 0, "priority": n}
            for n in range(1, 9)])
        setup.execute(contacts.insert(), [
            {"id": f"k{n}", "customer_id": "c1", "channel": "store", "offer": None if n == 2
             else "o1", "outcome": "presented", "by": "ann", "at": AT - dt.timedelta(days=n % 3),
             "recorded_at": AT} for n in range(5)])
        setup.execute(channel_sends.insert(), [
            {"channel": channel, "slot": slot, "sent": slot % 7}
            for channel in ("sms", "store") for slot in range(10, 14)])
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def _reads() -> dict[str, Read]:
    cid = sa.bindparam("cid")
    return {
        "tasks": Read(sa.select(tasks.c.id, tasks.c.due_at, tasks.c.result_at,
                                tasks.c.payload, tasks.c.detail, tasks.c.priority)
                      .where(tasks.c.customer_id == cid).order_by(tasks.c.due_at.desc())
                      .limit(sa.bindparam("n")), {"cid": "c1", "n": 3}),
        "joined": Read(sa.select(tasks.c.id, tickets.c.playbook, tickets.c.levels,
                                 tickets.c.planned_at)
                       .join(tickets, tickets.c.id == tasks.c.ticket_id)
                       .where(tasks.c.id.in_(sa.bindparam("ids", expanding=True)))
                       .order_by(tasks.c.id.desc()), {"ids": [2, 5, 7]}),
        "contacts": Read(sa.select(contacts).where(contacts.c.customer_id == cid)
                         .order_by(contacts.c.at.desc(), contacts.c.id), {"cid": "c1"}),
        "sums": Read(sa.select(channel_sends.c.channel, sa.func.sum(channel_sends.c.sent))
                     .where(channel_sends.c.slot >= sa.bindparam("first"))
                     .group_by(channel_sends.c.channel).order_by(channel_sends.c.channel),
                     {"first": 11}),
        "flags": Read(sa.select(tasks.c.id, (tasks.c.priority > sa.bindparam("p")).label("high"))
                      .order_by(tasks.c.id.desc()), {"p": 4}),
        "none": Read(sa.select(tasks.c.id, tasks.c.due_at).where(tasks.c.customer_id == cid)
                     .where(tasks.c.id > 100), {"cid": "c1"}),
    }


def _alone(conn: Connection, reads: dict[str, Read]) -> dict[str, list[tuple[Any, ...]]]:
    return {name: [tuple(row) for row in conn.execute(read.query, dict(read.params))]
            for name, read in reads.items()}


def test_a_batch_returns_what_each_read_returns_alone(conn: Connection) -> None:
    reads = _reads()
    batched = fetch(conn, reads)
    assert {name: [tuple(row) for row in rows] for name, rows in batched.items()} == \
        _alone(conn, reads)
    first = batched["tasks"][0]
    assert first.due_at == AT - dt.timedelta(hours=1) and first.due_at.tzinfo == dt.UTC
    assert first.payload == {"params": {"offer": "o1"}, "n": [1, None, True]}
    assert [row.id for row in batched["joined"]] == [7, 5, 2]
    assert [tuple(row) for row in batched["sums"]] == [("sms", 4 + 5 + 6), ("store", 15)]
    assert batched["none"] == []
    assert [row.high for row in batched["flags"]] == [True] * 4 + [False] * 4


def test_the_rows_read_by_name_and_by_position(conn: Connection) -> None:
    row = fetch(conn, _reads())["contacts"][0]
    assert row.customer_id == row[1] == "c1"
    assert row.at == AT


def test_two_reads_giving_one_parameter_two_values_are_refused(conn: Connection) -> None:
    reads = _reads()
    reads["other"] = Read(reads["tasks"].query, {"cid": "c0", "n": 3})
    with pytest.raises(ValueError, match="parameter 'cid'"):
        fetch(conn, reads)


def test_a_read_whose_json_would_lose_exact_decimals_is_refused(conn: Connection) -> None:
    reads = _reads()
    reads["money"] = Read(sa.select(sa.cast(tasks.c.priority, sa.Numeric(10, 2))))
    with pytest.raises(TypeError, match="exact decimals"):
        fetch(conn, reads)
