"""Fixtures shared by every test folder: the config, and real databases migrated to head.

`db_url` runs a test on SQLite and on PostgreSQL. Each kind is migrated once per session into a
template and every test gets its own copy, which is far faster than migrating per test: SQLite
copies the template's file (a few ms against ~0.2 s of Alembic and fsyncs), PostgreSQL copies
with `CREATE DATABASE ... TEMPLATE` on a throwaway server started once per session
(tests/support/postgres.py), ahead of the tests and on a thread (tests/support/database_pool.py)
so a test does not wait for the copy nor for the drop after it. Where the server cannot be
started the PostgreSQL cases skip and say why.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from hypothesis import settings
from support.clock import real_today, suite_instant
from support.database_pool import DatabasePool
from support.folders import SHIPPED
from support.postgres import PostgresServer, Unavailable
from support.scheduling import pytest_xdist_make_scheduler

from adapters.db.migrate import upgrade
from engine.clock import Clock, system_clock
from engine.config import Config
from engine.config_loader import load_config
from engine.playbooks.library import Library, load_library

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = "tend_template"
_travel: list[time_machine.travel] = []
_instant_key = pytest.StashKey[dt.datetime | None]()
__all__ = ["pytest_xdist_make_scheduler"]  # the hook: how `pytest -n 2` deals out the tests

# Hypothesis's per-example deadline (200 ms) measures the machine, not the code: on a loaded
# 2-core machine an example that takes 3 ms took 425 ms once and failed the suite as "flaky".
# Every property is still checked on every example; only the stopwatch is off.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")


def pytest_configure(config: pytest.Config) -> None:
    """Move the whole suite's clock to its instant (tests/support/clock.py) before any test
    module is imported, so module-level "now"s are read there too."""
    instant = suite_instant(os.environ, real_today())
    if instant is not None:
        travel = time_machine.travel(instant, tick=True)
        travel.start()
        _travel.append(travel)
    config.stash[_instant_key] = instant


def pytest_unconfigure(config: pytest.Config) -> None:
    while _travel:
        _travel.pop().stop()


def pytest_report_header(config: pytest.Config) -> str:
    instant = config.stash.get(_instant_key, None)
    return f"clock: {'the real one' if instant is None else instant.isoformat()} (TEND_TEST_AT)"




@pytest.fixture
def clock() -> Clock:
    """The clock an app under test is handed: the system's (moved to the suite's instant)
    unless a module pins its own by overriding this fixture with a FixedClock."""
    return system_clock


@pytest.fixture(scope="session")
def config() -> Config:
    """The shipped config.yaml with the shipped library folders handed in: a test that wants
    other folders replaces them (support.folders), no test sets TEND_RULES."""
    return dataclasses.replace(load_config(ROOT / "config.yaml"), folders=SHIPPED)


@pytest.fixture(scope="module")
def library(config: Config) -> Library:
    """The shipped library, loaded once per test module (a module whose tests need other
    playbooks overrides it)."""
    return load_library(config)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session, for `sqlite_url` to copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "tend.db"
    upgrade(f"sqlite:///{path}")
    # Alembic's engine is disposed, so the WAL is checkpointed into the file and removed: the
    # file alone is the whole database. Fail loudly if that ever stops being true.
    assert not path.with_name("tend.db-wal").exists(), "template left a WAL file behind"
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh SQLite database at head in the test's own folder (a copy of the template)."""
    path = tmp_path / "tend.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer | Unavailable]:
    """The session's server with a migrated template database, or why there is none."""
    try:
        server = PostgresServer().start()
    except Unavailable as exc:
        yield exc
        return
    try:
        server.execute(f"CREATE DATABASE {TEMPLATE}")
        upgrade(server.url(TEMPLATE))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_pool(postgres: PostgresServer | Unavailable) -> Iterator[DatabasePool | Unavailable]:
    """Copies of the template made ahead and dropped behind, for `pg_url`."""
    if isinstance(postgres, Unavailable):
        yield postgres
        return
    pool = DatabasePool(postgres, TEMPLATE)
    yield pool
    pool.close()


@pytest.fixture
def pg_url(postgres: PostgresServer | Unavailable,
           postgres_pool: DatabasePool | Unavailable) -> Iterator[str]:
    """A fresh PostgreSQL database at head that only this test uses, dropped after it."""
    if isinstance(postgres, Unavailable) or isinstance(postgres_pool, Unavailable):
        pytest.skip(f"PostgreSQL unavailable: {postgres}")
    name = postgres_pool.take()
    yield postgres.url(name)
    postgres_pool.give_back(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh migrated database of each kind, so integration tests cover both backends."""
    url: str = request.getfixturevalue(f"{'pg' if request.param == 'postgresql' else 'sqlite'}_url")
    return url
