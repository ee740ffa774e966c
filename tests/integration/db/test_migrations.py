"""The migrations are the only way the schema is made, so they must build what the code expects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from adapters.db.engines import make_engine
from adapters.db.schema import metadata


def test_upgrade_head_creates_the_tables(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"customers", "events", "playbook_versions", "alembic_version"} <= tables


def _made_here(dialect: str) -> Callable[..., bool]:
    """Alembic's compare ignores `ddl_if` (sqlalchemy/alembic#1491): an index the metadata
    makes on one backend only is left out of the comparison on the others."""
    def include(item: Any, name: str | None, kind: str, reflected: bool, _: Any) -> bool:
        condition = getattr(getattr(item, "_ddl_if", None), "dialect", None)
        return reflected or kind != "index" or condition in (None, dialect)
    return include


def test_migrated_schema_matches_the_metadata(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "include_object": _made_here(engine.dialect.name)})
            diffs = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert diffs == []


def test_sweep_indexes_on_dates_most_customers_lack_are_partial(db_url: str) -> None:
    """compare_metadata does not compare index predicates, so check them here."""
    engine = make_engine(db_url)
    try:
        found = {index["name"]: index for index in sa.inspect(engine).get_indexes("customers")}
    finally:
        engine.dispose()
    dialect = engine.dialect.name
    for column, partial in (("churned_on", True), ("contract_end", True),
                            ("joined_on", False), ("birthday", False)):
        index = found[f"ix_customers_{column}"]
        assert index["column_names"] == [column]
        where = index.get("dialect_options", {}).get(f"{dialect}_where")
        assert (str(where).replace("(", "").replace(")", "") if partial else where) == \
            (f"{column} IS NOT NULL" if partial else None)


def test_claim_order_index_is_partial_and_postgresql_only(db_url: str) -> None:
    """A claim walks it in (priority, due) order among open tasks; SQLite could not use it."""
    engine = make_engine(db_url)
    try:
        found = {index["name"]: index for index in sa.inspect(engine).get_indexes("tasks")}
    finally:
        engine.dispose()
    if engine.dialect.name != "postgresql":
        assert "ix_tasks_claim_order" not in found
        return
    index = found["ix_tasks_claim_order"]
    assert index["column_names"] == ["priority", "due_at", "id"]
    assert index["column_sorting"] == {"priority": ("desc",)}
    where = str(index["dialect_options"]["postgresql_where"])
    assert all(f"'{state}'" in where for state in ("pending", "leased", "pushed"))
