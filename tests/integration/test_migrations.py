"""The migrations are the only way the schema is made, so they must build what the code expects."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from adapters.db import make_engine, metadata


def test_upgrade_head_creates_the_tables(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"customers", "events", "playbook_versions", "alembic_version"} <= tables


def test_migrated_schema_matches_the_metadata(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
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
