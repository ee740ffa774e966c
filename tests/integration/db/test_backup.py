"""`tend backup` and `tend restore` on SQLite and on the test PostgreSQL (pg_dump/pg_restore
for real): a backup taken while a writer writes restores into a fresh database with everything
that was committed before it began, and bad arguments are refused with a clear message."""

from __future__ import annotations

import datetime as dt
import itertools
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from support.postgres import PostgresServer

from adapters.access.users import add_user
from adapters.cli import main
from adapters.db.engines import make_engine
from adapters.db.migrate import alembic_config
from adapters.db.schema import customers, users

HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()

AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
_fresh = itertools.count(1)


def tend(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"TEND_DATABASE_URL": url})


@pytest.fixture
def fresh_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind (no schema: the restore brings it)."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'tend.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"tend_restored_{next(_fresh)}"
    server.execute(f"CREATE DATABASE {name}")
    yield server.url(name)
    server.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _ids(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(sa.select(customers.c.id).order_by(customers.c.id)))
    finally:
        engine.dispose()


def test_a_backup_while_a_writer_writes_restores_into_a_fresh_database(
        db_url: str, fresh_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        add_user(conn, "lena", ["campaign_lead"], dt.datetime.now(dt.UTC))
    written = threading.Event()
    stop = threading.Event()
    count = [0]

    def writer() -> None:  # one customer per transaction, in id order, until told to stop
        while not stop.is_set():
            with engine.begin() as conn:
                conn.execute(customers.insert().values(
                    id=f"c{count[0]:06d}", name="x", joined_on=dt.date(2020, 1, 1), arpu=1.0,
                    updated_at=AT))
            count[0] += 1
            if count[0] == 50:
                written.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert written.wait(30)
        at_start = count[0]
        made = tend(db_url, "backup", str(tmp_path / "tend.backup"))
        at_end = count[0]
    finally:
        stop.set()
        thread.join(30)
        engine.dispose()
    assert made.exit_code == 0, made.output
    backup = tmp_path / "tend.backup"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    restored = tend(fresh_url, "restore", "--yes", str(backup))
    assert restored.exit_code == 0, restored.output
    ids = _ids(fresh_url)
    assert at_start <= len(ids) <= at_end + 1  # what was committed when the snapshot was taken
    assert ids == [f"c{i:06d}" for i in range(len(ids))]  # a consistent prefix, nothing torn
    check = make_engine(fresh_url)
    try:
        with check.connect() as conn:
            assert conn.scalars(sa.select(users.c.name)).all() == ["lena"]
            assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == HEAD
    finally:
        check.dispose()
    again = tend(fresh_url, "restore", "--yes", str(backup))  # over a database that has it all
    assert again.exit_code == 0, again.output
    assert _ids(fresh_url) == ids


def test_bad_arguments_are_refused_with_a_clear_message(db_url: str, tmp_path: Path) -> None:
    kind = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    exists = tmp_path / "exists.backup"
    exists.write_text("keep me")
    text = tmp_path / "notes.txt"
    text.write_text("not a backup")
    other = tmp_path / "other.backup"
    other.write_bytes(b"PGDMP" if kind == "sqlite" else b"SQLite format 3\x00")
    cases = [
        (["backup", str(exists)], f"backup: {exists} exists; pass --force to replace it"),
        (["backup", str(tmp_path / "no" / "such" / "folder.backup")], "does not exist"),
        (["restore", "--yes", str(tmp_path / "missing.backup")], "is not a file"),
        (["restore", "--yes", str(text)], f"restore: {text} is not a backup made by"),
        (["restore", "--yes", str(other)], f"but the database is {kind}"),
    ]
    for args, message in cases:
        result = tend(db_url, *args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
    assert exists.read_text() == "keep me"
    refused = CliRunner().invoke(main, ["restore", str(text)], input="n\n",
                                 env={"TEND_DATABASE_URL": db_url})
    assert refused.exit_code == 1 and "Aborted" in refused.output
    memory = tend("sqlite:///:memory:", "backup", str(tmp_path / "m.backup"))
    assert memory.exit_code == 1 and "is not a SQLite database file" in memory.output


def test_a_damaged_sqlite_backup_is_refused_before_it_replaces_anything(
        sqlite_url: str, tmp_path: Path) -> None:
    assert tend(sqlite_url, "backup", str(tmp_path / "good.backup")).exit_code == 0
    damaged = tmp_path / "damaged.backup"
    data = bytearray((tmp_path / "good.backup").read_bytes())
    data[4096:8192] = b"\xff" * 4096
    damaged.write_bytes(bytes(data))
    result = tend(sqlite_url, "restore", "--yes", str(damaged))
    assert result.exit_code == 1 and "restore:" in result.output
    assert "Traceback" not in result.output
