"""Alembic environment: run migrations against Tend's database with Tend's engine settings.

The URL is the one the rest of Tend uses (TEND_DATABASE_URL, else config.yaml's database_url)
unless the caller put one into the Alembic config (adapters.db.migrate does), so `alembic upgrade
head` from the shell and `tend db upgrade` migrate the same database.
"""

from __future__ import annotations

from alembic import context

from adapters.db.engines import database_url, make_engine
from adapters.db.schema import metadata
from engine.config_loader import load_config


def _url() -> str:
    given = context.config.get_main_option("sqlalchemy.url")
    if given:
        return given
    return database_url("") or load_config().database_url


def run_migrations_online() -> None:
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=metadata,
                              render_as_batch=connection.dialect.name == "sqlite")
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run against a database")
run_migrations_online()
