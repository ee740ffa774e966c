"""`tend worker` pushing an outbox to a webhook receiver, against the receiver's own ceiling.

A receiver (http.server, HTTP/1.1 keep-alive, answering 200 at once and counting the keys it
saw) runs in its own process on 127.0.0.1. Then, in the same run:

  1. the ceiling: plain clients (as many processes as workers, each with the worker's thread
     count, keep-alive http.client) POST a signed task body to it as fast as it answers;
  2. `tend worker` processes (started first and idle, then every task made due at once) push
     the outbox of a winback ticket; tasks/s from that moment until the last is `delivered`:
     claim, sign, send and record included. 1 and 3 workers on PostgreSQL, 1 on SQLite.

Ratios are worker / ceiling at the same concurrency. Goal: 3 workers on PostgreSQL >= 50%
of the ceiling. Every task must arrive, under its own key. Missed goals are printed, not
failures.

    python bench/dispatch.py [--customers 3000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import sqlalchemy as sa  # noqa: E402
from support.postgres import PostgresServer, Unavailable  # noqa: E402

from adapters.db.engines import make_engine, refresh_statistics  # noqa: E402
from adapters.db.migrate import upgrade  # noqa: E402
from adapters.db.schema import customers, events, tasks  # noqa: E402
from adapters.tasks.worker import THREADS  # noqa: E402
from adapters.tickets import service as tickets  # noqa: E402
from engine.config import Config  # noqa: E402
from engine.config_loader import load_config  # noqa: E402
from engine.folders import Folders  # noqa: E402
from engine.playbooks.library import load_library  # noqa: E402
from engine.tasks.policy import Policy  # noqa: E402
from engine.tickets.users import User  # noqa: E402

PEER = ROOT / "bench" / "dispatch_peer.py"
SECRET_ENV, SECRET = "TEND_BENCH_HOOK_SECRET", "bench-secret"
GOAL = 0.5
BATCH = 100


# --- the receiver and the plain clients (bench/dispatch_peer.py) ---

@contextmanager
def receiver() -> Iterator[int]:
    process = subprocess.Popen([sys.executable, str(PEER), "receiver"], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        yield int(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=10)


def received(port: int) -> dict[str, int]:
    """The receiver's counts since the last call (and reset)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/keys")
    counts: dict[str, int] = json.loads(conn.getresponse().read())
    conn.close()
    return counts


def ceiling(port: int, count: int, processes: int) -> float:
    """Requests/s of `processes` plain clients with THREADS connections each."""
    share = count // processes
    go = time.time() + 3  # after every client's imports
    running = [subprocess.Popen([sys.executable, str(PEER), "client", str(port), str(share),
                                 str(THREADS), str(go)], stdout=subprocess.PIPE, text=True)
               for _ in range(processes)]
    ends = [float(process.communicate(timeout=600)[0]) for process in running]
    if any(process.returncode for process in running):
        raise SystemExit("a ceiling client failed")
    received(port)
    return share * processes / (max(ends) - go)


# --- the outbox and the workers ---

def build(url: str, config: Config, count: int) -> int:
    """A winback ticket approved four days ago for `count` diamonds; its tasks' number."""
    upgrade(url)
    engine = make_engine(url)
    library = load_library(config)
    started = dt.datetime.now(dt.UTC) - dt.timedelta(days=4)
    with engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": f"d{i:06d}", "name": f"d{i:06d}", "phone": "+8613800000000",
             "joined_on": dt.date(2019, 1, 1), "arpu": 350.0,
             "churned_on": started.date() - dt.timedelta(days=10), "updated_at": started}
            for i in range(count)])
        planned = tickets.plan(conn, config, library, library.playbooks["winback"], started,
                               "manual", "designer")
        assert planned is not None
        tickets.approve(conn, config, library, planned["id"],
                        User("lead", frozenset({"campaign_lead"})), "bench", started)
    for table in ("customers", "entries", "tasks"):  # as `tend import` and autovacuum do
        refresh_statistics(engine, table)
    with engine.connect() as conn:
        total = int(conn.scalar(sa.select(sa.func.count()).select_from(tasks)) or 0)
    engine.dispose()
    return total


def reset(engine: sa.Engine, due: dt.datetime) -> None:
    """Every task back in the outbox, due at `due`, its delivery events gone."""
    with engine.begin() as conn:
        conn.execute(events.delete().where(events.c.type == "task_result"))
        conn.execute(tasks.update().values(
            state="pending", due_at=due, attempts=0, lease_expires_at=None, result_at=None,
            sent_at=None, detail=None))


def dispatch(url: str, port: int, config_file: Path, total: int, workers: int,
             log: Path) -> float:
    """Tasks/s of `workers` processes from the moment all tasks are due to the last one
    delivered."""
    engine = make_engine(url)
    reset(engine, dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    env = {**os.environ, "TEND_DATABASE_URL": url, SECRET_ENV: SECRET,
           "TEND_RULES": str(ROOT / "rules"), "TEND_WORKFLOWS": str(ROOT / "workflows")}
    with log.open("ab") as out:
        running = [subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "--config", str(config_file), "worker",
             "--batch", str(BATCH), "--every", "0.1"], env=env, cwd=ROOT, stdout=out,
            stderr=subprocess.STDOUT) for _ in range(workers)]
    try:
        time.sleep(3)  # imports and connections: not what is measured
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(tasks.update().values(due_at=dt.datetime.now(dt.UTC)))
        done = sa.select(sa.func.count()).select_from(tasks).where(tasks.c.state == "delivered")
        while True:
            with engine.connect() as conn:
                if conn.scalar(done) == total:
                    break
            if any(p.poll() is not None for p in running):
                raise SystemExit(f"a worker exited:\n{log.read_text()[-2000:]}")
            time.sleep(0.02)
        rate = total / (time.perf_counter() - started)
    finally:
        for process in running:
            process.terminate()
        for process in running:
            process.wait(timeout=30)
        engine.dispose()
    counts = received(port)
    if counts["keys"] != total:
        raise SystemExit(f"the receiver saw {counts['keys']} keys for {total} tasks")
    return rate


def bench(backend: str, url: str, config: Config, port: int, folder: Path,
          args: argparse.Namespace, worker_counts: list[int],
          ceilings: dict[int, float]) -> bool:
    total = build(url, config, args.customers)
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace(
        "{adapter: log", f"{{adapter: webhook, options: {{url: 'http://127.0.0.1:{port}/hook', "
                         f"secret_env: {SECRET_ENV}}}")
    config_file = folder / "config.yaml"
    config_file.write_text(text.split("\ncontact_policy:")[0], encoding="utf-8")
    met = True
    for workers in worker_counts:
        rate = max(dispatch(url, port, config_file, total, workers, folder / "workers.log")
                   for _ in range(args.rounds))
        ratio = rate / ceilings[workers]
        goal = ""
        if backend == "postgresql" and workers == 3:
            met = ratio >= GOAL
            goal = f"  goal >= {GOAL:.0%}: {'met' if met else 'MISSED'}"
        print(f"dispatch {backend}: {workers} worker(s) x {THREADS} threads: {rate:,.0f} "
              f"tasks/s ({total:,} tasks, best of {args.rounds}) = {ratio:.0%} of the "
              f"receiver's ceiling at that concurrency{goal}", flush=True)
    return met


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--customers", type=int, default=3000,
                         help="winback diamonds: about two tasks each (a call and an sms)")
    options.add_argument("--rounds", type=int, default=2, help="best of this many runs")
    args = options.parse_args()
    config = dataclasses.replace(load_config(ROOT / "config.yaml"), policy=Policy(),
                                 folders=Folders(ROOT / "rules", ROOT / "workflows"))
    with tempfile.TemporaryDirectory(prefix="tend-bench-") as tmp, receiver() as port:
        count = 2 * args.customers
        ceilings = {n: max(ceiling(port, count, n) for _ in range(args.rounds)) for n in (1, 3)}
        for n, rate in ceilings.items():
            print(f"dispatch ceiling: {n} plain client(s) x {THREADS} threads: {rate:,.0f} "
                  f"POST/s to the same receiver", flush=True)
        folder = Path(tmp) / "sqlite"
        folder.mkdir()
        bench("sqlite", f"sqlite:///{folder}/dispatch.db", config, port, folder, args, [1],
              ceilings)
        try:
            pg = PostgresServer().start()
        except Unavailable as exc:
            print(f"dispatch postgresql: skipped, {exc}")
            return 0
        try:
            pg.execute("CREATE DATABASE dispatch")
            folder = Path(tmp) / "postgresql"
            folder.mkdir()
            met = bench("postgresql", pg.url("dispatch"), config, port, folder, args, [1, 3],
                        ceilings)
        finally:
            pg.stop()
    print(f"dispatch: 3 workers on PostgreSQL {'reach' if met else 'MISS'} {GOAL:.0%} of "
          f"the receiver's ceiling")
    return 0


if __name__ == "__main__":
    sys.exit(main())
