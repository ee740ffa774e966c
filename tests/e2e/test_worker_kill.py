"""Three `tend worker` processes against a real webhook receiver on loopback, one SIGKILLed
mid-dispatch and started again, on SQLite and PostgreSQL: every task arrives, none is lost,
none arrives under two keys, and only the killed worker's tasks in flight may arrive twice
(with their one key)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from support.clock import child_env
from support.webhook import receiving

from adapters.db.engines import make_engine
from adapters.db.schema import customers, tasks
from adapters.tasks.worker import LANES
from adapters.tickets import service as tickets
from engine.config import Config
from engine.playbooks.library import load_library
from engine.tasks.policy import Policy
from engine.tickets.users import User

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = 150  # diamonds: a call and an sms each, but for the control group
BATCH = 10
SECRET_ENV = "TEND_TEST_HOOK_SECRET"
DEADLINE = 40.0  # seconds for everything to arrive: a hang fails, it does not block


def _executing(url: str, config: Config) -> int:
    """A winback ticket approved four days ago: all its tasks are due now. Their count."""
    engine = make_engine(url)
    library = load_library(config)
    started = dt.datetime.now(dt.UTC) - dt.timedelta(days=4)
    with engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": f"d{i:03d}", "name": f"d{i:03d}", "joined_on": dt.date(2019, 1, 1),
             "arpu": 350.0, "churned_on": started.date() - dt.timedelta(days=10),
             "updated_at": started} for i in range(CUSTOMERS)])
        planned = tickets.plan(conn, config, library, library.playbooks["winback"], started,
                               "manual", "designer")
        assert planned is not None
        tickets.approve(conn, config, library, planned["id"],
                        User("lead", frozenset({"campaign_lead"})), "ok", started)
        count = conn.scalar(sa.select(sa.func.count()).select_from(tasks))
    engine.dispose()
    return int(count or 0)


def _worker(config_file: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "--config", str(config_file), "worker",
             "--batch", str(BATCH), "--every", "0.2"],
            env=child_env(env), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def _wait_for(done: Callable[[], bool], what: str, workers: list[subprocess.Popen[bytes]],
              logs: list[Path]) -> None:
    """Until `done()`; a worker that exits, or the deadline, fails the test with the logs."""
    deadline = time.monotonic() + DEADLINE
    while not done():
        exited = [w.args for w in workers if w.poll() is not None]
        if exited or time.monotonic() > deadline:
            tails = "\n".join(log.read_text(errors="replace")[-1500:] for log in logs)
            raise AssertionError(f"not {what} within {DEADLINE}s (exited: {exited})\n{tails}")
        time.sleep(0.1)


def _catches_sigterm(pid: int) -> bool:
    """Whether the process has its SIGTERM handler in place (Linux: SigCgt in /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    caught = int(next(line.split()[1] for line in status.splitlines()
                      if line.startswith("SigCgt:")), 16)
    return bool(caught >> (signal.SIGTERM - 1) & 1)


def test_a_killed_worker_loses_nothing_and_doubles_only_its_tasks_in_flight(
        db_url: str, config: Config, tmp_path: Path) -> None:
    total = _executing(db_url, dataclasses.replace(config, policy=Policy()))
    assert total > CUSTOMERS  # the holdout (10%) gets none
    with receiving(delay=0.05) as receiver:
        text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace(
            "{adapter: log", f"{{adapter: webhook, options: {{url: '{receiver.url}', "
                             f"secret_env: {SECRET_ENV}}}")
        config_file = tmp_path / "config.yaml"
        text = text.split("\ncontact_policy:")[0]  # quiet hours would bind it to the hour
        text = re.sub(r"(?m)^task_lease:.*$", "", text) + "\ntask_lease: 3s\n"
        config_file.write_text(text, encoding="utf-8")
        env = {**os.environ, "TEND_DATABASE_URL": db_url, SECRET_ENV: "s3cret-for-tests",
               "TEND_RULES": str(ROOT / "rules"), "TEND_WORKFLOWS": str(ROOT / "workflows")}
        logs = [tmp_path / f"worker{i}.log" for i in range(3)]
        workers = [_worker(config_file, env, log) for log in logs]
        try:
            _wait_for(lambda: len(receiver.calls) >= total // 3, "a third delivered", workers, logs)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=10)
            workers[0] = _worker(config_file, env, logs[0])
            engine = make_engine(db_url)

            def all_delivered() -> bool:
                with engine.connect() as conn:
                    return conn.scalar(sa.select(sa.func.count()).select_from(tasks)
                                       .where(tasks.c.state == "delivered")) == total

            try:
                _wait_for(all_delivered, "every task delivered", workers, logs)
            except AssertionError as exc:
                with engine.connect() as conn:
                    states = conn.execute(sa.select(tasks.c.state, tasks.c.channel,
                                                    sa.func.count(), sa.func.max(tasks.c.due_at))
                                          .group_by(tasks.c.state, tasks.c.channel)).all()
                raise AssertionError(f"{exc}\ntasks by state: {states}") from None
            with engine.connect() as conn:
                keys = {row.id: row.idempotency_key for row in conn.execute(sa.select(tasks))}
            engine.dispose()
        finally:
            for worker in workers:
                _wait_for(lambda w=worker: _catches_sigterm(w.pid), "ready to stop", workers,
                          logs)  # a SIGTERM during start-up kills before the handler is set
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=15)
    assert [w.returncode for w in workers] == [0, 0, 0]  # SIGTERM: a clean stop
    bodies = [json.loads(body) for _, _, body in receiver.calls]
    assert all(keys[b["id"]] == b["idempotency_key"] == key
               for (key, _, _), b in zip(receiver.calls, bodies, strict=True))
    arrived = Counter(receiver.keys())
    assert set(arrived) == set(keys.values())  # nothing lost, nothing under another key
    twice = [key for key, n in arrived.items() if n > 1]
    in_flight = BATCH * LANES  # what the killed worker could hold: its rounds' batches
    assert len(twice) <= in_flight and all(arrived[key] == 2 for key in twice)
