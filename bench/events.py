"""`POST /events` on a real server (gunicorn) against durable-rules' own `post` rate.

On a fresh database with demo customers and an approved standing ticket for
`zero_usage_alert`, `tend serve` runs in a subprocess and this process is its HTTP client:

  1. ingest: batches of zero_usage events (one per customer, days 1..14, `at` = now) posted
     over keep-alive connections to 127.0.0.1; events/s from the first request to the last
     response, validation, storage, matching and the tasks made included; the best of three
     passes, each on its own third of the customers (a customer's second event would meet
     cooldown and make no task), as the baseline is the best of three;
  2. the baseline, in its own process in the same run: engine.compilers.rules.Matcher.matches over
     the same events' facts (customer facts + event facts, built before timing), events/s, the
     best of three passes.
     Goal: ingest >= 25% of durable-rules' own rate;
  3. open-loop latency of single-event `POST /events` at 100 requests/s (one request every
     10 ms, latency counted from the moment it was due, so a slow server cannot hide its
     queue). Goal: p99 < 50 ms.

Both sides must agree on which events matched. SQLite always, PostgreSQL when a throwaway
server can be started (tests/support/postgres.py). Missed goals are printed, not failures.

    python bench/events.py [--customers 56000] [--batch 500] [--seconds 20] [--workers 2]
    python bench/events.py --profile [postgresql]  # cProfile of the ingest path, test client
"""

from __future__ import annotations

import argparse
import concurrent.futures
import cProfile
import dataclasses
import datetime as dt
import http.client
import json
import os
import pstats
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

NOW = dt.datetime.now(dt.UTC)
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import sqlalchemy as sa  # noqa: E402
from open_loop import fire, still_client  # noqa: E402
from support.postgres import PostgresServer, Unavailable  # noqa: E402
from support.server import serving  # noqa: E402

from adapters.access.users import add_user  # noqa: E402
from adapters.db.engines import load_customers, make_engine  # noqa: E402
from adapters.db.migrate import upgrade  # noqa: E402
from adapters.db.schema import tasks as task_table  # noqa: E402
from adapters.intake.customer_import import import_customers  # noqa: E402
from adapters.intake.demo_files import demo_spec, write_demo  # noqa: E402
from adapters.tickets import service as tickets  # noqa: E402
from engine.compilers.rules import Matcher  # noqa: E402
from engine.config import Config  # noqa: E402
from engine.config_loader import load_config  # noqa: E402
from engine.folders import Folders  # noqa: E402
from engine.language.customer import event_facts, facts  # noqa: E402
from engine.playbooks.library import load_library  # noqa: E402
from engine.playbooks.triggers import ruleset_name  # noqa: E402
from engine.tickets.users import User  # noqa: E402

PLAYBOOK = "zero_usage_alert"
SEED = 7
LATENCY_GOAL_MS = 50.0
RATIO_GOAL = 0.25
PASSES = 3
NOT_MATCHED = {"conditions not met", "unknown customer", "older than trigger_max_age"}


# --- data: customers, users, the standing ticket, the events ---

def build(url: str, config: Config, customers: int, folder: Path) -> dict[str, Any]:
    """Migrated database with demo customers, users and an approved standing ticket."""
    upgrade(url)
    today = NOW.date()
    files = write_demo(demo_spec(config, customers, 0, SEED, today), folder)
    engine = make_engine(url)
    problems: list[Any] = []
    import_customers(engine, config, files.customers, report=problems.append, now=NOW)
    if problems:
        raise SystemExit(f"demo customers did not import cleanly: {problems[:3]}")
    library = load_library(config)
    playbook = library.playbooks[PLAYBOOK]
    now = NOW
    with engine.begin() as conn:
        token = add_user(conn, "bench_sms", ["adapter:sms"], NOW)
        add_user(conn, "bench_designer", ["designer"], NOW)
        add_user(conn, "bench_lead", ["campaign_lead"], NOW)
    with engine.begin() as conn:
        # as the scheduler opens a standing ticket (adapters.tickets.scheduler.plan_standing):
        # an event playbook's ticket planned by hand is refused
        ticket = tickets.plan(conn, config, library, playbook, now, "event", "scheduler",
                              window_key=f"standing:v{playbook.version}")
    if ticket is None:
        raise SystemExit("the standing ticket was not planned")
    with engine.begin() as conn:
        approved = tickets.approve(conn, config, library, int(ticket["id"]),
                                   User("bench_lead", frozenset({"campaign_lead"})),
                                   "bench", NOW)
    if approved["state"] != "executing":
        raise SystemExit(f"standing ticket is {approved['state']}, not executing")
    with engine.connect() as conn:
        ids = sorted(conn.scalars(sa.text("SELECT id FROM customers")))
    engine.dispose()
    return {"token": token, "ticket": int(ticket["id"]), "ids": ids}


def make_events(ids: list[str], batch_count: int, single_count: int) -> tuple[list, list]:
    """One zero_usage event per customer (distinct ids, so cooldown doesn't hide the work):
    the first `batch_count` customers for the batches, the next ones for single posts."""
    rng = random.Random(SEED)
    chosen = rng.sample(ids, batch_count + single_count)

    def event(n: int, cid: str) -> dict[str, Any]:
        return {"id": f"bench-{n}", "customer_id": cid, "type": "zero_usage",
                "data": {"days": rng.randint(1, 14)}}

    events = [event(n, cid) for n, cid in enumerate(chosen)]
    return events[:batch_count], events[batch_count:]


def stamped(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    at = NOW.isoformat()
    return [{**e, "at": at} for e in events]


# --- part 2: durable-rules alone, in its own process ---

def part_rules(url: str, events_file: str, config: Config) -> dict[str, Any]:
    events = json.loads(Path(events_file).read_text())
    engine = make_engine(url)
    with engine.connect() as conn:
        records = load_customers(conn, config, sorted({e["customer_id"] for e in events}))
    engine.dispose()
    library = load_library(config)
    playbook = library.playbooks[PLAYBOOK]
    matcher = Matcher()
    name = ruleset_name(playbook)
    matcher.add(name, playbook.selector)
    now = NOW
    today = config.today(now)
    prepared = []
    for e in events:
        seen = facts(records[e["customer_id"]], today, config.tiers, config.lifecycle)
        seen.update(event_facts({**e, "at": now}, config.today))
        prepared.append((e["id"], seen))
    for _, seen in prepared[:200]:
        matcher.matches(name, seen, today)
    best = float("inf")
    for _ in range(3):  # the best of three passes: the baseline at its fastest
        matched = []
        started = time.perf_counter()
        for event_id, seen in prepared:
            if matcher.matches(name, seen, today):
                matched.append(event_id)
        best = min(best, time.perf_counter() - started)
    return {"rate": len(prepared) / best, "matched": sorted(matched)}


def child(part: str, url: str, events_file: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--part", part, "--url", url,
                          "--events-file", events_file],
                         check=True, capture_output=True, text=True, timeout=600).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


# --- the server and its client ---

@contextmanager
def server(url: str, workers: int, log: Path) -> Iterator[int]:
    env = {**os.environ, "TEND_DATABASE_URL": url, "TEND_CONFIG": str(ROOT / "config.yaml"),
           "TEND_RULES": str(ROOT / "rules"), "TEND_WORKFLOWS": str(ROOT / "workflows")}
    with serving(env, ROOT, workers, 60, log) as base:
        yield int(base.rsplit(":", 1)[1])


class Client:
    """One keep-alive connection per thread; reconnects when the server closes it."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}",
                        "Content-Type": "application/json"}
        self.local = threading.local()

    def post_events(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.post(json.dumps(events).encode()))
        return result

    def post(self, body: bytes) -> bytes:
        """POST /events with a JSON body; the 200 answer's body."""
        for attempt in (1, 2):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                                    timeout=120)
            try:
                conn.request("POST", "/events", body, self.headers)
                reply = conn.getresponse()
                data = reply.read()
            except (http.client.RemoteDisconnected, ConnectionError):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
                continue
            if reply.will_close:
                conn.close()
                self.local.conn = None
            if reply.status != 200:
                raise SystemExit(f"POST /events: {reply.status} {data[:500]!r}")
            return data
        raise AssertionError("unreachable")


def matched_ids(replies: list[dict[str, Any]]) -> list[str]:
    return sorted(t["event"] for r in replies for t in r["triggered"]
                  if t["playbook"] == PLAYBOOK and t["reason"] not in NOT_MATCHED)


def ingest(client: Client, events: list[dict[str, Any]], batch: int,
           threads: int, passes: int) -> tuple[float, list[dict[str, Any]]]:
    """The best rate of `passes` passes, each over its own share of `events`; all replies."""
    best, replies = 0.0, []
    share = -(-len(events) // passes)
    for start in range(0, len(events), share):
        rate, more = ingest_pass(client, events[start:start + share], batch, threads)
        best, replies = max(best, rate), replies + more
    return best, replies


def ingest_pass(client: Client, events: list[dict[str, Any]], batch: int,
                threads: int) -> tuple[float, list[dict[str, Any]]]:
    """The client's JSON work is done outside the timed window (bodies written before,
    answers read after): on two shared cores it would be counted against the server."""
    bodies = [json.dumps(stamped(events[i:i + batch])).encode()
              for i in range(0, len(events), batch)]
    with concurrent.futures.ThreadPoolExecutor(threads) as pool, still_client():
        started = time.perf_counter()
        answers = list(pool.map(client.post, bodies))
        elapsed = time.perf_counter() - started
    replies = [json.loads(answer) for answer in answers]
    stored = sum(r["stored"] for r in replies)
    if stored != len(events):
        raise SystemExit(f"ingest stored {stored} of {len(events)} events")
    return len(events) / elapsed, replies


def open_loop(client: Client, events: list[dict[str, Any]], interval: float,
              threads: int) -> list[float]:
    """One single-event POST every `interval` seconds; each latency from its due time."""
    latencies: list[float] = [0.0] * len(events)

    def one(i: int, due: float) -> None:
        client.post_events(stamped([events[i]]))
        latencies[i] = time.perf_counter() - due

    fire(len(events), interval, one, threads)
    return latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def warm(client: Client, threads: int) -> None:
    """Every worker loads the library and compiles its ruleset before anything is timed."""
    ghost = [{"customer_id": "bench-ghost", "type": "zero_usage", "data": {"days": 9}}]
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: client.post_events(stamped(ghost)), range(threads * 8)))


def run_backend(backend: str, url: str, config: Config, args: argparse.Namespace,
                folder: Path) -> bool:
    started = time.perf_counter()
    built = build(url, config, args.customers, folder)
    singles = int(args.seconds * args.rate)
    batch_events, single_events = make_events(built["ids"], args.customers - singles, singles)
    events_file = folder / "events.json"
    events_file.write_text(json.dumps(batch_events))
    print(f"events {backend}: {args.customers:,} demo customers, standing ticket "
          f"{built['ticket']} approved, built in {time.perf_counter() - started:.0f}s",
          flush=True)

    rules = child("rules", url, str(events_file))
    with server(url, args.workers, folder / f"serve-{backend}.log") as port:
        client = Client(port, built["token"])
        warm(client, args.workers)
        rate, replies = ingest(client, batch_events, args.batch, args.workers, PASSES)
        latencies = open_loop(client, single_events, 1 / args.rate, args.threads)
    engine = make_engine(url)
    with engine.connect() as conn:
        made = conn.scalar(sa.select(sa.func.count()).select_from(task_table))
    engine.dispose()

    ours = matched_ids(replies)
    agree = ours == rules["matched"]
    made_now = sum(len(t.get("tasks") or []) for r in replies for t in r["triggered"])
    ratio = rate / rules["rate"]
    print(f"events {backend}: ingest {rate:,.0f} events/s end to end ({len(batch_events):,} "
          f"events in {PASSES} passes, the best; {args.batch} per request, {args.workers} "
          f"workers, {made_now:,} tasks made); "
          f"durable-rules post alone {rules['rate']:,.0f}/s; ratio {ratio:.1%} "
          f"(goal >= {RATIO_GOAL:.0%}){'' if ratio >= RATIO_GOAL else '  MISSED'}")
    print(f"events {backend}: matched {len(ours):,} of {len(batch_events):,} "
          f"({'agrees' if agree else 'DIFFERS from'} durable-rules alone: "
          f"{len(rules['matched']):,}); {made:,} tasks stored in all")
    ms = [v * 1000 for v in latencies]
    p50, p95, p99 = (percentile(ms, p) for p in (50, 95, 99))
    print(f"events {backend}: single POST /events at {args.rate:.0f} req/s "
          f"({len(ms):,} requests, open loop): p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
          f"p99 {p99:.0f} ms, max {max(ms):.0f} ms (goal p99 < {LATENCY_GOAL_MS:.0f} ms)"
          f"{'' if p99 < LATENCY_GOAL_MS else '  MISSED'}", flush=True)
    return agree


# --- --profile: where one process spends the ingest time ---

def profile(config: Config, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="tend-bench-") as tmp:
        if args.profile == "sqlite":
            profile_on(f"sqlite:///{tmp}/events.db", config, args, Path(tmp))
            return
        pg = PostgresServer().start()
        try:
            pg.execute("CREATE DATABASE events")
            profile_on(pg.url("events"), config, args, Path(tmp))
        finally:
            pg.stop()


def profile_on(url: str, config: Config, args: argparse.Namespace, tmp: Path) -> None:
    from adapters.http.app import create_app

    built = build(url, config, args.customers, tmp)
    batch_events, _ = make_events(built["ids"], args.customers, 0)
    app = create_app({"TEND_CONFIG": config, "DATABASE_URL": url})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {built['token']}"}
    client.post("/events", json=[], headers=headers)
    batches = [batch_events[i:i + args.batch]
               for i in range(0, len(batch_events), args.batch)]
    prof = cProfile.Profile()
    with still_client():  # as `tend serve` freezes its own start-up objects
        started = time.perf_counter()
        prof.enable()
        for b in batches:
            reply = client.post("/events", json=stamped(b), headers=headers)
            assert reply.status_code == 200, reply.json
        prof.disable()
        elapsed = time.perf_counter() - started
    print(f"profile: {len(batch_events):,} events in {elapsed:.2f}s in process "
          f"({len(batch_events) / elapsed:,.0f}/s, cProfile on)")
    stats = pstats.Stats(prof)
    stats.sort_stats("cumulative").print_stats(
        r"api_events|standing|event_import|engine/event\.py|triggers|rules\.py|customer\.py|planning|"
        r"execution|db\.py|get_json|werkzeug/test\.py.*\(post\)")
    stats.sort_stats("tottime").print_stats(25)
    app.extensions["tend"].dispose()


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--customers", type=int, default=56_000,
                         help="demo customers; one event each (batches + single posts)")
    options.add_argument("--batch", type=int, default=500)
    options.add_argument("--workers", type=int, default=2)
    options.add_argument("--rate", type=float, default=100.0, help="single posts per second")
    options.add_argument("--seconds", type=float, default=20.0)
    options.add_argument("--threads", type=int, default=8, help="open-loop client threads")
    options.add_argument("--no-postgres", action="store_true")
    options.add_argument("--profile", nargs="?", const="sqlite",
                         choices=["sqlite", "postgresql"])
    options.add_argument("--part", choices=["rules"])
    options.add_argument("--url")
    options.add_argument("--events-file")
    args = options.parse_args()
    config = dataclasses.replace(load_config(ROOT / "config.yaml"),
                                 folders=Folders(ROOT / "rules", ROOT / "workflows"))
    if args.part:
        print(json.dumps(part_rules(args.url, args.events_file, config)))
        return 0
    if args.profile:
        profile(config, args)
        return 0
    if args.customers <= args.seconds * args.rate:
        options.error("--customers must exceed --seconds x --rate (one event per customer)")
    with tempfile.TemporaryDirectory(prefix="tend-bench-") as tmp:
        folder = Path(tmp) / "sqlite"
        ok = run_backend("sqlite", f"sqlite:///{folder}/events.db", config, args, folder)
        if args.no_postgres:
            return 0 if ok else 1
        try:
            pg = PostgresServer().start()
        except Unavailable as exc:
            print(f"events postgresql: skipped, {exc}")
            return 0 if ok else 1
        try:
            pg.execute("CREATE DATABASE events")
            folder = Path(tmp) / "postgresql"
            ok &= run_backend("postgresql", pg.url("events"), config, args, folder)
        finally:
            pg.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
