"""The SQL rendering agrees with the reference evaluator on a real database, both kinds.

Random typed conditions (tests/strategies.py) over random customers: each example writes the
customers as the importer stores them, runs the rendered predicate, and compares the selected
ids with the evaluator's. Event conditions are checked the same way through the replay join.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import DIFFERENTIAL, conditions, customers, days, values

from adapters.db.engines import make_engine
from adapters.db.schema import customers as customers_table
from adapters.db.schema import events as events_table
from engine.compilers.sql import SqlRenderer
from engine.config import Config
from engine.language.condition import Condition, Leaf, Not
from engine.language.customer import event_facts, facts
from engine.language.evaluate import holds

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def stored(record: Mapping[str, Any]) -> dict[str, Any]:
    """A customer record as a row: lists as `;a;b;`, attrs as JSON with ISO dates."""
    row = {k: v for k, v in record.items() if k != "attrs"}
    for name in ("tags", "opt_out"):
        items = record.get(name)
        row[name] = ";" + ";".join(items) + ";" if items else None
    attrs = {k: v.isoformat() if isinstance(v, dt.date) else v
             for k, v in (record.get("attrs") or {}).items()}
    row["attrs"] = attrs or None
    row["updated_at"] = NOW
    return row


def replace_customers(conn: sa.Connection, records: Iterable[Mapping[str, Any]]) -> None:
    conn.execute(events_table.delete())
    conn.execute(customers_table.delete())
    rows = [stored(r) for r in records]
    if rows:
        conn.execute(customers_table.insert(), rows)


EXAMPLES = settings(DIFFERENTIAL, max_examples=max(DIFFERENTIAL.max_examples, 400))


def unique_customers(config: Config, today: dt.date,
                     aim: Condition) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Customers whose values are often aimed at the condition's literals and boundaries."""
    return st.lists(customers(config.attributes, today, aim), max_size=6,
                    unique_by=lambda r: r["id"])


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_sweep_predicate_agrees_with_evaluator(engine: sa.Engine, config: Config) -> None:

    @EXAMPLES
    @given(st.data())
    def check(data: st.DataObject) -> None:
        today = data.draw(days(), "today")
        cond = data.draw(conditions(config.catalog(), today), "condition")
        records = data.draw(unique_customers(config, today, cond), "customers")
        renderer = SqlRenderer(customers_table, config, today, engine.dialect.name)
        with engine.begin() as conn:
            replace_customers(conn, records)
            got = set(conn.scalars(sa.select(customers_table.c.id)
                                   .where(renderer.render(cond))))
        expected = {r["id"] for r in records
                    if holds(cond, facts(r, today, config.tiers, config.lifecycle), today)}
        assert got == expected

    check()


def test_event_replay_predicate_agrees_with_evaluator(engine: sa.Engine, config: Config) -> None:
    catalog = config.catalog("competitor_call")
    data_types = config.events["competitor_call"]

    @EXAMPLES
    @given(st.data())
    def check(data: st.DataObject) -> None:
        today = data.draw(days(), "today")
        cond = data.draw(conditions(catalog, today), "condition")
        records = data.draw(unique_customers(config, today, cond), "customers")
        moments = st.datetimes(dt.datetime(today.year - 1, 1, 1), dt.datetime(today.year, 12, 31),
                               timezones=st.just(dt.UTC))
        happened = [
            {"id": data.draw(st.one_of(st.none(), st.text("xyz", min_size=1, max_size=3))),
             "customer_id": r["id"], "type": "competitor_call", "at": data.draw(moments),
             "data": {k: data.draw(values(t, today)) for k, t in data_types.items()
                      if data.draw(st.booleans())}}
            for r in records]
        ids = [e["id"] for e in happened if e["id"] is not None]
        if len(ids) != len(set(ids)):
            return
        renderer = SqlRenderer(customers_table, config, today, engine.dialect.name,
                               events_table)
        with engine.begin() as conn:
            replace_customers(conn, records)
            if happened:
                conn.execute(events_table.insert(), [
                    {**e, "data": e["data"] or None, "known_customer": True, "received_at": NOW}
                    for e in happened])
            got = set(conn.scalars(
                sa.select(customers_table.c.id)
                .join_from(events_table, customers_table,
                           events_table.c.customer_id == customers_table.c.id)
                .where(renderer.render(cond))))
        by_id = {r["id"]: r for r in records}
        expected = set()
        for event in happened:
            seen = facts(by_id[event["customer_id"]], today, config.tiers, config.lifecycle)
            seen.update(event_facts(event, config.today))
            if holds(cond, seen, today):
                expected.add(event["customer_id"])
        assert got == expected

    check()


@pytest.mark.parametrize("field", ["tier", "stage", "tenure_days", "days_to_birthday",
                                   "attr.region", "tags"])
def test_negated_leaf_selects_customers_missing_the_underlying_value(
        engine: sa.Engine, config: Config, field: str) -> None:
    """`not` is true where its leaf is false for lack of a value: NULL must not leak through."""
    today = dt.date(2026, 1, 1)
    ftype = config.catalog().types[field]
    literal: Any = {"tier": ("gold",), "stage": ("decline",), "attr.region": ("north",),
                    "tags": ("vip",)}.get(field, (0.0,))
    op = "contains_any" if field == "tags" else "in"
    cond = Not(Leaf(field, op, literal, ftype))
    bare = {"id": "bare", "joined_on": dt.date(2020, 1, 1)}
    renderer = SqlRenderer(customers_table, config, today, engine.dialect.name)
    with engine.begin() as conn:
        replace_customers(conn, [bare])
        got = set(conn.scalars(sa.select(customers_table.c.id).where(renderer.render(cond))))
    assert holds(cond, facts(bare, today, config.tiers, config.lifecycle), today)
    assert got == {"bare"}


def test_the_largest_lists_a_file_may_hold_run_on_the_database(engine: sa.Engine,
                                                                config: Config) -> None:
    """A condition file is bounded (engine.limits) below the bind-parameter limits of both
    databases: nine full lists of several kinds still run, where one list of 65,536 values
    once validated and then failed on PostgreSQL."""
    from engine.formats.source import load_yaml
    from engine.language.condition import Parser
    from engine.limits import MAX_LIST_VALUES

    today = dt.date(2026, 1, 1)
    numbers = list(range(MAX_LIST_VALUES))
    dates = [(today - dt.timedelta(days=n)).isoformat() for n in numbers]
    lists = [("id", "in", [f"c{n}" for n in numbers]), ("arpu", "in", numbers),
             ("tenure_days", "in", numbers), ("tags", "contains_any", [f"t{n}" for n in numbers]),
             ("joined_on", "in", dates), ("birthday", "not_in", dates),
             ("churned_on", "not_in", dates), ("days_to_birthday", "in", numbers[:366]),
             ("name", "not_in", [f"n{n}" for n in numbers])]
    text = "any:\n" + "".join(f"  - {field}: {{{op}: [{', '.join(map(str, values))}]}}\n"
                              for field, op, values in lists)
    source = load_yaml(text, "big.yaml")
    parser = Parser(source, config.catalog())
    cond = parser.parse(source.root, [])
    assert parser.problems == [] and cond is not None
    records = [{"id": "c7", "joined_on": dt.date(2019, 1, 1), "birthday": None,
                "churned_on": None, "name": None},
               {"id": "z", "joined_on": dt.date(2010, 1, 1), "birthday": today,
                "churned_on": today, "name": "n1"}]
    renderer = SqlRenderer(customers_table, config, today, engine.dialect.name)
    with engine.begin() as conn:
        replace_customers(conn, records)
        got = set(conn.scalars(sa.select(customers_table.c.id).where(renderer.render(cond))))
    expected = {r["id"] for r in records
                if holds(cond, facts(r, today, config.tiers, config.lifecycle), today)}
    assert got == expected == {"c7", "z"}
