"""`GET /customers/<id>/view` on a real server (gunicorn) against the bare indexed lookups of
the same rows, served the same way and measured in the same run.

Data (bench/view_data.py, cached in var/bench/ by data version and size): 1,000,000
customers, 30 offers, 10 executing tickets holding 200,000 members, 3 contact-triggered
playbooks, 5 contacts per customer. Each run works on a copy of the cached database (a
view writes: its log, and the entries of the contact playbooks it sets off), so every run
starts from the same data. Each side in turn (the
baseline first) runs on 127.0.0.1 with 2 gunicorn workers and is sent requests for random
customers at 200 requests/s, open loop: each request is fired when it is due, whatever the
earlier ones are doing, and its latency counts from that instant, so a slow server cannot
hide its queue (no coordinated omission). A few seconds of warm-up precede each. The view is
opened by an `agent:store` on store, the way a clerk opens it: it is logged, and it enters
the customer into the contact playbooks on store whose audience they are in (unless a
cooldown holds them), tasks and all.

    Goal: p99 <= 25 ms, and the median <= 3x the baseline's median.

The baseline (bench/view_peer.py) is a WSGI function that reads the customer, their open
tasks, their memberships of executing tickets and their 20 newest contacts through the
driver. SQLite always, PostgreSQL when a server can be started (tests/support/postgres.py);
its cluster is kept in var/bench/ too. Missed goals are printed, not failures.

    python bench/view.py [--customers 1000000] [--rate 200] [--seconds 30] [--no-postgres]
    TEND_VIEW_CUSTOMERS=50000 make bench      # a quick run
    python bench/view.py --explain            # the plans of the view's statements
    python bench/view.py --cpu --customers 20000 --no-postgres
        # CPU per view in one process (Flask's test client, no server, no network), the view
        # against the baseline's function: steadier than latencies on a busy machine
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
import view_data as data  # noqa: E402
from open_loop import fire  # noqa: E402
from support.postgres import PostgresServer, Unavailable, free_port  # noqa: E402

from adapters.db.engines import make_engine  # noqa: E402
from adapters.db.migrate import upgrade  # noqa: E402
from engine.config import Config  # noqa: E402
from engine.config_loader import load_config  # noqa: E402

P99_GOAL_MS, MEDIAN_RATIO_GOAL = 25.0, 3.0
CACHE = ROOT / "var" / "bench"


# --- the databases, built once per data version and size ---

def sqlite_database(config: Config, customers: int, library: data.Library) -> tuple[str, str]:
    """The cached SQLite database's URL (migrated to the head) and the agent's token."""
    path = CACHE / f"view-v{data.VERSION}-{customers}.db"
    meta = path.with_suffix(".json")
    if not meta.exists():
        partial = CACHE / "view-partial.db"
        for stale in CACHE.glob("view-partial.db*"):
            stale.unlink()
        token = data.build(f"sqlite:///{partial}", config, library, customers)
        partial.rename(path)
        meta.write_text(json.dumps({"token": token}))
    url = f"sqlite:///{path}"
    upgrade(url)
    return url, json.loads(meta.read_text())["token"]


@contextmanager
def postgres_database(config: Config, customers: int,
                      library: data.Library) -> Iterator[tuple[str, str]]:
    """A PostgreSQL server, started as the tests start theirs (tests/support/postgres.py),
    on the cluster kept in var/bench/ (built on first use, or again when the kept one does
    not start); halted, kept, after."""
    folder = CACHE / f"view-pg-v{data.VERSION}-{customers}"
    server = None
    if (folder / "token").exists():
        try:
            server = PostgresServer(folder).reopen()
        except Unavailable as exc:
            print(f"view postgresql: the kept cluster in {folder} did not start, building it "
                  f"again ({str(exc)[-300:]})", flush=True)
            server = None
    if server is None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        server = PostgresServer(folder).start()
        server.execute("CREATE DATABASE view")
        (folder / "token").write_text(data.build(server.url("view"), config, library, customers))
    try:
        upgrade(server.url("view"))
        server.execute("DROP DATABASE IF EXISTS view_run")
        server.execute("CREATE DATABASE view_run TEMPLATE view")
        try:
            yield server.url("view_run"), (folder / "token").read_text()
        finally:
            server.execute("DROP DATABASE IF EXISTS view_run WITH (FORCE)")
    finally:
        server.stop()


@contextmanager
def sqlite_copy(url: str) -> Iterator[str]:
    """A copy of the cached SQLite database for one run (SQLite's online backup, so a
    write-ahead log is copied in), removed after."""
    path = Path(sa.engine.make_url(url).database or "")
    copy = path.with_name(f"{path.stem}-run.db")
    for stale in path.parent.glob(f"{copy.name}*"):
        stale.unlink()
    source, target = sqlite3.connect(path), sqlite3.connect(copy)
    with target:
        source.backup(target)
    source.close()
    target.close()
    try:
        yield f"sqlite:///{copy}"
    finally:
        for made in path.parent.glob(f"{copy.name}*"):
            made.unlink()


# --- --explain: the plans of the view's statements ---

def explain(url: str, config: Config, library: data.Library) -> None:
    """Open one member's view in process (rolled back) and print each statement it ran
    with its plan: EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL."""
    from adapters.view import service

    engine = make_engine(url)
    seen: list[tuple[str, Any]] = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda _c, _cur, sql, params, _ctx, _many: seen.append((sql, params)))
    with engine.connect() as conn:
        member = conn.scalar(sa.text("SELECT customer_id FROM ticket_members LIMIT 1"))
        conn.rollback()
        seen.clear()
        service.view(conn, config, library, member, "store", "bench_agent", data.AT)
        conn.rollback()
        sqlite = engine.dialect.name == "sqlite"
        for sql, params in list(seen):
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            plan = conn.exec_driver_sql(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ")
                                        + sql, params).all()
            print(" ".join(sql.split())[:400])
            for row in plan:
                print("    " + (str(row[-1]) if sqlite else str(row[0])))
    engine.dispose()


# --- --cpu: the CPU a view costs in one process ---

def cpu(url: str, token: str, library: Path, customers: int, batches: int = 8,
        size: int = 40) -> None:
    """Views of random customers through Flask's test client (and the baseline's WSGI
    function through werkzeug's) after a warm-up, in batches: the least and the median CPU
    per view (process time, so what other processes do counts little)."""
    import view_peer
    from werkzeug.test import Client

    from adapters.http.app import create_app
    from engine.clock import FixedClock

    _, env = tend(url, 1, library)
    os.environ.update({k: v for k, v in env.items() if k != "TEND_CLOCK_START"})
    app = create_app({"DATABASE_URL": url, "CLOCK": FixedClock(data.AT)})
    os.environ["VIEW_PEER_URL"] = url
    sides = {"view": (app.test_client(), {"Authorization": f"Bearer {token}"}),
             "baseline": (Client(view_peer.app), {})}
    rng = random.Random(data.SEED)
    for name, (client, headers) in sides.items():
        ids = [data.customer(rng.randrange(customers)) for _ in range((batches + 2) * size)]
        for cid in ids[:2 * size]:
            client.get(f"/customers/{cid}/view?channel=store", headers=headers)
        spent = []
        for b in range(batches):
            start = time.process_time()
            for cid in ids[(b + 2) * size:(b + 3) * size]:
                client.get(f"/customers/{cid}/view?channel=store", headers=headers)
            spent.append((time.process_time() - start) / size * 1000)
        spent.sort()
        print(f"view cpu: {name:<8} {spent[0]:.2f} ms least, {spent[len(spent) // 2]:.2f} ms "
              f"median CPU per view ({batches} batches of {size})", flush=True)


# --- the servers ---

@contextmanager
def serving(command: list[str], env: dict[str, str], log: Path) -> Iterator[int]:
    port = free_port()
    command = [a.replace("{port}", str(port)) for a in command]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{command[2]} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def tend(url: str, workers: int, library: Path) -> tuple[list[str], dict[str, str]]:
    return ([sys.executable, "-m", "adapters.cli", "serve", "--host", "127.0.0.1", "--port",
             "{port}", "--workers", str(workers)],
            {"TEND_DATABASE_URL": url, "TEND_CONFIG": str(ROOT / "config.yaml"),
             "TEND_RULES": str(library / "rules"), "TEND_WORKFLOWS": str(library / "workflows"),
             "TEND_CLOCK_START": data.AT.isoformat()})


def peer(url: str, workers: int) -> tuple[list[str], dict[str, str]]:
    return ([sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
             "127.0.0.1:{port}", "--chdir", str(ROOT / "bench"),
             "view_peer:app"], {"VIEW_PEER_URL": url})


# --- the open loop ---

def get(port: int, path: str, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers=headers)
        reply = conn.getresponse()
        reply.read()
        return reply.status
    finally:
        conn.close()


def open_loop(port: int, ids: list[str], rate: float, token: str,
              threads: int) -> tuple[list[float], int]:
    """One GET every 1/rate s, fired when due; each latency (ms) from its due time, and how
    many answers were not 200."""
    headers = {"Authorization": f"Bearer {token}"}
    latencies = [0.0] * len(ids)
    statuses = [0] * len(ids)

    def one(i: int, due: float) -> None:
        statuses[i] = get(port, f"/customers/{ids[i]}/view?channel=store", headers)
        latencies[i] = (time.perf_counter() - due) * 1000

    fire(len(ids), 1 / rate, one, threads)
    return latencies, sum(1 for s in statuses if s != 200)


def percentiles(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {f"p{p}": ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]
            for p in (50, 95, 99)} | {"max": ordered[-1]}


def measure(name: str, side: tuple[list[str], dict[str, str]], token: str,
            args: argparse.Namespace, rng: random.Random, log: Path) -> dict[str, float]:
    count = int(args.rate * args.seconds)
    with serving(*side, log) as port:
        warm = [data.customer(rng.randrange(args.customers))
                for _ in range(int(args.rate * args.warmup))]
        open_loop(port, warm, args.rate, token, args.threads)
        ids = [data.customer(rng.randrange(args.customers)) for _ in range(count)]
        ms, failed = open_loop(port, ids, args.rate, token, args.threads)
    if failed:
        raise SystemExit(f"view: {failed} of {count} {name} requests failed; see {log}")
    return percentiles(ms)


def run_backend(backend: str, url: str, token: str, library: Path,
                args: argparse.Namespace) -> None:
    rng = random.Random(f"{data.SEED}-{backend}")
    logs = CACHE / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    base = measure("baseline", peer(url, args.workers), token, args, rng,
                   logs / f"view-peer-{backend}.log")
    ours = measure("view", tend(url, args.workers, library), token, args, rng,
                   logs / f"view-serve-{backend}.log")
    ratio = ours["p50"] / base["p50"]

    def shown(p: dict[str, float]) -> str:
        return ", ".join(f"{k} {v:.1f} ms" for k, v in p.items())

    print(f"view {backend}: GET /customers/<id>/view at {args.rate:.0f} req/s for "
          f"{args.seconds:.0f} s, open loop, {args.customers:,} customers, {args.workers} "
          f"gunicorn workers", flush=True)
    print(f"view {backend}:   view      {shown(ours)} (goal p99 <= {P99_GOAL_MS:.0f} ms)"
          f"{'' if ours['p99'] <= P99_GOAL_MS else '  MISSED'}")
    print(f"view {backend}:   baseline  {shown(base)} (bare indexed lookups, same server)")
    print(f"view {backend}:   median {ratio:.2f}x the baseline's (goal <= "
          f"{MEDIAN_RATIO_GOAL:.0f}x){'' if ratio <= MEDIAN_RATIO_GOAL else '  MISSED'}",
          flush=True)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--customers", type=int,
                         default=int(os.environ.get("TEND_VIEW_CUSTOMERS", "1000000")),
                         help="default 1,000,000, or TEND_VIEW_CUSTOMERS")
    options.add_argument("--rate", type=float, default=200.0, help="requests per second")
    options.add_argument("--seconds", type=float, default=30.0)
    options.add_argument("--warmup", type=float, default=3.0, help="seconds, not counted")
    options.add_argument("--workers", type=int, default=2)
    options.add_argument("--threads", type=int, default=32, help="open-loop client threads")
    options.add_argument("--no-postgres", action="store_true")
    options.add_argument("--explain", action="store_true",
                         help="print the plans of the view's statements, measure nothing")
    options.add_argument("--cpu", action="store_true",
                         help="CPU per view in one process (no server), view and baseline")
    args = options.parse_args()
    config = load_config(ROOT / "config.yaml")
    CACHE.mkdir(parents=True, exist_ok=True)
    folder, library = data.library_of(CACHE / f"view-library-v{data.VERSION}", config, ROOT)
    kept, token = sqlite_database(config, args.customers, library)
    with sqlite_copy(kept) as url:
        if args.explain:
            explain(url, config, library)
        elif args.cpu:
            cpu(url, token, folder, args.customers)
        else:
            run_backend("sqlite", url, token, folder, args)
    if args.no_postgres:
        return 0
    try:
        with postgres_database(config, args.customers, library) as (pg_url, pg_token):
            if args.explain:
                explain(pg_url, config, library)
            elif args.cpu:
                cpu(pg_url, pg_token, folder, args.customers)
            else:
                run_backend("postgresql", pg_url, pg_token, folder, args)
    except Unavailable as exc:
        print(f"view postgresql: skipped, {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
