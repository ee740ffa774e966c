"""A database outage under the long-running processes, on a real PostgreSQL stopped and
restarted and on a SQLite file that cannot be opened (a folder where the file should be, which
even root cannot open as a database): the worker and the scheduler wait, log, retry with a
bounded backoff and carry on; /healthz answers 503 naming the database; the CLI says the
database is unreachable instead of hinting at migrations."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.executing import HOLD, NOW, executing
from support.lease import TTL, Clock, lease_holder, rules
from support.postgres import PostgresServer

from adapters.channels.registry import pushers
from adapters.cli import main
from adapters.db.engines import make_engine
from adapters.db.outage import Backoff
from adapters.http.app import create_app
from adapters.tasks.worker import run
from adapters.tickets.scheduler import Scheduler
from engine.config import Config
from engine.playbooks.library import Library
from engine.tasks.channel import Channel

__all__ = ["rules"]  # the fixture (`library` is tests/conftest.py's)

QUICK = {"first": 0.05, "most": 0.3}  # seconds: the test's outage lasts about one


class Gated(Backoff):
    """A retry waits for the test to open the gate once the database is back whole: on SQLite
    a retry between the folder's removal and the file's return would make an empty file."""

    def __init__(self, who: str) -> None:
        super().__init__(who, **QUICK)
        self.gate = threading.Event()

    def failed(self, exc: BaseException, sleep: Callable[[float], object]) -> None:
        super().failed(exc, sleep)
        assert self.gate.wait(20)


@dataclass
class Outage:
    url: str
    down: Callable[[], None]
    up: Callable[[], None]


@pytest.fixture(params=["sqlite", "postgresql"])
def outage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outage]:
    is_down = [False]
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
        path, away = tmp_path / "tend.db", tmp_path / "away"

        def halt() -> None:
            away.mkdir()
            for file in tmp_path.glob("tend.db*"):
                file.rename(away / file.name)
            path.mkdir()  # "unable to open database file"

        def resume() -> None:
            path.rmdir()
            for file in away.iterdir():
                file.rename(tmp_path / file.name)
            away.rmdir()
    else:
        url = request.getfixturevalue("pg_url")
        server: PostgresServer = request.getfixturevalue("postgres")
        halt, resume = server.halt, server.resume

    def down() -> None:
        halt()
        is_down[0] = True

    def up() -> None:
        resume()
        is_down[0] = False

    yield Outage(url, down, up)
    if is_down[0]:
        up()


def wait_for(probe: Callable[[], object], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not probe():
        assert time.monotonic() < deadline, f"nothing after {seconds}s"
        time.sleep(0.05)


def _retried(caplog: pytest.LogCaptureFixture, who: str) -> bool:
    return any(f"{who}: database unreachable" in r.getMessage() for r in caplog.records)


def _running(target: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    failed: list[BaseException] = []

    def body() -> None:
        try:
            target()
        except BaseException as exc:  # the test asserts there is none
            failed.append(exc)

    thread = threading.Thread(target=body)
    thread.start()
    return thread, failed


def test_the_worker_waits_out_an_outage_and_pushes_when_it_ends(
        outage: Outage, config: Config, library: Library, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    engine = make_engine(outage.url)
    executing(engine, config, library)  # tasks due now
    engine.dispose()
    log_file = tmp_path / "dispatch.log"
    logged = dataclasses.replace(config, channels={
        name: Channel(name, "log", {"path": str(log_file)}) for name in config.channels})
    outage.down()
    stop = threading.Event()
    waits = Gated("worker")
    thread, failed = _running(lambda: run(engine, pushers(logged.channels), 100, HOLD, 0.1,
                                          stop, clock=lambda: NOW, lanes=1, outage=waits))
    try:
        wait_for(lambda: _retried(caplog, "worker") or failed)
        assert not failed and not log_file.exists()
        outage.up()
        waits.gate.set()
        wait_for(lambda: (log_file.exists() and len(log_file.read_text().splitlines()) >= 6)
                 or failed)
    finally:
        stop.set()
        thread.join(20)
        engine.dispose()
    assert not failed and not thread.is_alive()
    assert any("worker: database reachable again" in r.getMessage() for r in caplog.records)


def test_the_scheduler_waits_out_an_outage_then_takes_the_lease(
        outage: Outage, config: Config, rules: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    engine = make_engine(outage.url)
    outage.down()
    waits = Gated("scheduler")
    scheduler = Scheduler(engine, config, "s1", TTL,
                          Clock(dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)), waits)
    stop = threading.Event()
    thread, failed = _running(lambda: scheduler.run(stop, 0.1))
    try:
        wait_for(lambda: _retried(caplog, "scheduler") or failed)
        assert not failed and not scheduler.leader
        outage.up()
        waits.gate.set()
        wait_for(lambda: scheduler.leader or failed)
    finally:
        stop.set()
        thread.join(20)
    assert not failed and not thread.is_alive()
    assert lease_holder(engine) == "s1"
    engine.dispose()


def test_a_sweep_at_an_outage_retries_and_opens_its_ticket(
        outage: Outage, config: Config, rules: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = make_engine(outage.url)
    waits = Gated("scheduler")
    clock = Clock(dt.datetime(2026, 11, 20, 0, 59, tzinfo=dt.UTC))  # 08:59, before the fire
    scheduler = Scheduler(engine, config, "s1", TTL, clock, waits, sleep=time.sleep)
    scheduler.tick()
    engine.dispose()
    clock.now = dt.datetime(2026, 11, 20, 1, 0, 5, tzinfo=dt.UTC)  # the 09:00 fire
    outage.down()
    opened: list[object] = []
    thread, failed = _running(lambda: opened.append(scheduler.sweep("winback")))
    try:
        wait_for(lambda: _retried(caplog, "scheduler") or failed)
        outage.up()
        waits.gate.set()
    finally:
        thread.join(20)
        engine.dispose()
    assert not failed and opened and opened[0] is not None


def test_healthz_answers_503_naming_the_database(outage: Outage, config: Config) -> None:
    app = create_app({"TEND_CONFIG": config, "DATABASE_URL": outage.url, "TESTING": True,
                      "SECRET_KEY": "x" * 40})
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    outage.down()
    app.extensions["tend"].dispose()  # a SQLite connection already open would still read
    reply = client.get("/healthz")
    assert reply.status_code == 503 and reply.is_json
    assert reply.json["status"] == "unavailable"
    assert reply.json["message"].startswith("database unreachable: ")
    outage.up()
    assert client.get("/healthz").status_code == 200
    app.extensions["tend"].dispose()


def test_the_cli_says_the_database_is_unreachable(outage: Outage) -> None:
    outage.down()
    result = CliRunner().invoke(main, ["worker", "--once"],
                                env={"TEND_DATABASE_URL": outage.url})
    assert result.exit_code == 1, result.output
    assert "database unreachable" in result.output and "schema" not in result.output
