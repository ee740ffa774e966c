"""`tend worker` on both databases: push channels against a real webhook receiver."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from support.cli import run
from support.executing import HOLD, NOW, executing
from support.webhook import Receiver, receiving, signed

from adapters.channels.registry import pushers
from adapters.db.engines import make_engine
from adapters.db.schema import tasks
from adapters.tasks.worker import run_once
from engine.config import Config
from engine.playbooks.library import Library
from engine.tasks.channel import Channel

ROOT = Path(__file__).resolve().parents[3]
SECRET_ENV, SECRET = "TEND_TEST_HOOK_SECRET", "s3cret-for-tests"


@pytest.fixture
def engine(db_url: str, config: Config, library: Library,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    engine = make_engine(db_url)
    executing(engine, config, library)
    yield engine
    engine.dispose()


def _hooked(config: Config, receiver: Receiver, **options: Any) -> Config:
    """The config with every channel bound to the receiver."""
    bound = {"url": receiver.url, "secret_env": SECRET_ENV, "timeout": 5, **options}
    return dataclasses.replace(config, channels={
        name: Channel(name, "webhook", bound) for name in config.channels})


def _tasks(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(tasks).order_by(tasks.c.id)))


def test_every_task_is_delivered_once_signed_with_its_key(engine: Engine,
                                                           config: Config) -> None:
    with receiving() as receiver:
        channels = pushers(_hooked(config, receiver).channels)
        first = run_once(engine, channels, 4, HOLD, NOW)
        rest = run_once(engine, channels, 100, HOLD, NOW)
        assert run_once(engine, channels, 100, HOLD, NOW)["delivered"] == 0
    rows = _tasks(engine)
    assert first["delivered"] == 4 and first["delivered"] + rest["delivered"] == len(rows)
    assert sorted(receiver.keys()) == sorted(r.idempotency_key for r in rows)
    for key, signature, body in receiver.calls:
        assert signed(signature, body, SECRET) and json.loads(body)["idempotency_key"] == key
    assert {(r.state, r.attempts, r.lease_expires_at) for r in rows} == {("delivered", 1, None)}


def test_a_failing_receiver_is_retried_later_with_the_same_key(engine: Engine,
                                                                config: Config) -> None:
    with receiving([500, 500]) as receiver:
        channels = pushers(_hooked(config, receiver, backoff=60).channels)
        assert run_once(engine, channels, 100, HOLD, NOW)["retry"] == len(_tasks(engine))
        waiting = _tasks(engine)
        assert {r.state for r in waiting} == {"pending"}
        assert all(NOW + dt.timedelta(seconds=29) < r.due_at <= NOW + dt.timedelta(seconds=60)
                   for r in waiting)
        assert sum(run_once(engine, channels, 100, HOLD, NOW).values()) == 0  # not yet due
        run_once(engine, channels, 100, HOLD, NOW + dt.timedelta(hours=1))
        done = run_once(engine, channels, 100, HOLD, NOW + dt.timedelta(hours=2))
    rows = _tasks(engine)
    assert done["delivered"] == len(rows)
    assert {(r.state, r.attempts) for r in rows} == {("delivered", 3)}
    assert sorted(receiver.keys()) == sorted(r.idempotency_key for r in rows for _ in range(3))


def test_a_receiver_that_keeps_failing_dead_letters_the_task(engine: Engine,
                                                              config: Config) -> None:
    with receiving([500] * 10) as receiver:
        channels = pushers(_hooked(config, receiver, attempts=3, backoff=1).channels)
        for hour in range(4):
            run_once(engine, channels, 100, HOLD, NOW + dt.timedelta(hours=hour))
    rows = _tasks(engine)
    assert {(r.state, r.attempts) for r in rows} == {("dead", 3)}
    assert all(r.detail["reason"].startswith("gave up after 3 attempts: HTTP 500")
               for r in rows)
    assert len(receiver.calls) == 3 * len(rows)


def test_an_unreachable_receiver_is_retried(engine: Engine, config: Config) -> None:
    with receiving() as gone:
        pass  # its port is closed now: connections are refused
    counts = run_once(engine, pushers(_hooked(config, gone).channels), 100, HOLD, NOW)
    rows = _tasks(engine)
    assert counts["retry"] == len(rows) and {r.state for r in rows} == {"pending"}
    assert all("ConnectionRefusedError" in r.detail["error"] or "URLError" in r.detail["error"]
               for r in rows)


def test_a_refusal_dead_letters_at_once(engine: Engine, config: Config) -> None:
    with receiving([400]) as receiver:
        counts = run_once(engine, pushers(_hooked(config, receiver).channels), 100, HOLD, NOW)
    rows = _tasks(engine)
    assert counts["dead"] == len(rows) == len(receiver.calls)
    assert {(r.state, r.attempts, r.detail["reason"]) for r in rows} == {
        ("dead", 1, f"HTTP 400 from {receiver.url}")}


def test_workers_racing_on_one_database_push_each_key_once(engine: Engine,
                                                           config: Config) -> None:
    with receiving() as receiver:
        channels = pushers(_hooked(config, receiver).channels)

        def work() -> None:
            for _ in range(20):
                if sum(run_once(engine, channels, 2, HOLD, NOW).values()) == 0:
                    return

        workers = [threading.Thread(target=work) for _ in range(3)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=60)
    rows = _tasks(engine)
    assert sorted(receiver.keys()) == sorted(r.idempotency_key for r in rows)
    assert {r.state for r in rows} == {"delivered"}, [r.detail for r in rows
                                                      if r.state != "delivered"]


def test_tend_worker_once_pushes_through_the_cli(sqlite_url: str, config: Config,
                                                 library: Library, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(sqlite_url)
    executing(engine, config, library)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv("TEND_DATABASE_URL", sqlite_url)
    with receiving() as receiver:
        text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace(
            "{adapter: log", f"{{adapter: webhook, options: {{url: '{receiver.url}', "
                             f"secret_env: {SECRET_ENV}}}")
        text = text.split("\ncontact_policy:")[0]  # its quiet hours would bind it to the hour
        (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
        result = run(CliRunner(), "worker", "--once", config=tmp_path / "config.yaml")
    assert result.exit_code == 0, result.output
    rows = _tasks(engine)
    engine.dispose()
    assert json.loads(result.output.strip().splitlines()[-1])["delivered"] == len(rows)
    assert sorted(receiver.keys()) == sorted(r.idempotency_key for r in rows)


def test_a_log_channel_appends_one_masked_line_per_task(engine: Engine, config: Config,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "out" / "dispatch.log"
    logged = dataclasses.replace(config, channels={
        name: Channel(name, "log", {"path": str(path)}) for name in config.channels})
    counts = run_once(engine, pushers(logged.channels), 100, HOLD, NOW)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows = _tasks(engine)
    assert counts["delivered"] == len(lines) == len(rows)
    assert sorted(line["idempotency_key"] for line in lines) == \
        sorted(r.idempotency_key for r in rows)
    assert {line["payload"]["customer"]["phone"] for line in lines} == {"***"}
    assert "13800000000" not in path.read_text(encoding="utf-8")
