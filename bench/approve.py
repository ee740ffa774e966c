"""Approving a ticket of 20,000 customers, against inserting the same rows with executemany.

The last approval starts the ticket (adapters/tickets/execution.start): it reads the members,
inserts an entry for each (treatment and control), reads the entry ids back, loads the
treatment's records, decides each step's eligibility, lets the contact policy judge every new
task, and inserts the tasks. The baseline is the floor of that work: the very rows it wrote
(entries, then tasks), deleted and inserted again with one executemany per table, in the same
database and run. Goal: approve ≤ 2× the baseline, on SQLite and PostgreSQL.

    python bench/approve.py [--customers 20000]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from support.postgres import PostgresServer, Unavailable  # noqa: E402

from adapters.db.engines import make_engine, refresh_statistics  # noqa: E402
from adapters.db.migrate import upgrade  # noqa: E402
from adapters.db.schema import customers, entries, tasks  # noqa: E402
from adapters.tickets import service  # noqa: E402
from engine.config import Config  # noqa: E402
from engine.config_loader import load_config  # noqa: E402
from engine.folders import Folders  # noqa: E402
from engine.playbooks.library import Library, load_library  # noqa: E402
from engine.tickets.users import User  # noqa: E402

AT = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
LEAD = User("bench_lead", frozenset({"campaign_lead"}))
ROUNDS = 3
GOAL = 2.0


def customer(i: int) -> dict[str, Any]:
    """A churned diamond: winback selects every one, with a call and an SMS each."""
    return {"id": f"b{i:06d}", "name": f"name {i}", "phone": "+8613800000000", "email": None,
            "joined_on": dt.date(2019, 1, 1), "arpu": 350.0,
            "churned_on": dt.date(2026, 10, 1), "manager": f"m{i % 50}", "tags": None,
            "opt_out": None, "updated_at": AT}


def one_round(url: str, config: Config, library: Library, size: int) -> tuple[float, float, int]:
    """(approve seconds, executemany seconds, rows) on a fresh database at `url`."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(customers.insert(), [customer(i) for i in range(size)])
        refresh_statistics(engine, "customers")  # as an import does (customer_import.py)
        with engine.begin() as conn:
            ticket = service.plan(conn, config, library, library.playbooks["winback"], AT,
                                  "manual", "bench_planner")
        assert ticket is not None
        started = time.perf_counter()
        with engine.begin() as conn:
            done = service.approve(conn, config, library, ticket["id"], LEAD, "bench", AT)
        approve = time.perf_counter() - started
        assert done["state"] == "executing", done["state"]
        with engine.begin() as conn:
            made = [dict(r) for r in conn.execute(sa.select(entries)
                                                  .where(entries.c.ticket_id == ticket["id"])
                                                  .order_by(entries.c.id)).mappings()]
            sent = [dict(r) for r in conn.execute(sa.select(tasks)
                                                  .where(tasks.c.ticket_id == ticket["id"])
                                                  .order_by(tasks.c.id)).mappings()]
            conn.execute(tasks.delete().where(tasks.c.ticket_id == ticket["id"]))
            conn.execute(entries.delete().where(entries.c.ticket_id == ticket["id"]))
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(entries.insert(), made)
            conn.execute(tasks.insert(), sent)
        floor = time.perf_counter() - started
        return approve, floor, len(made) + len(sent)
    finally:
        engine.dispose()


def measure(backend: str, urls: list[str], config: Config, library: Library,
            size: int) -> bool:
    runs = [one_round(url, config, library, size) for url in urls]
    approve = statistics.median(r[0] for r in runs)
    floor = statistics.median(r[1] for r in runs)
    ratio = approve / floor
    print(f"approve {backend}: {size:,} customers, {runs[0][2]:,} rows (entries + tasks): "
          f"approve {approve:.3f} s, executemany {floor:.3f} s, ratio {ratio:.2f}x "
          f"(goal <= {GOAL:g}x; median of {len(runs)})", flush=True)
    return ratio <= GOAL


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--customers", type=int, default=20_000)
    options.add_argument("--rounds", type=int, default=ROUNDS)
    args = options.parse_args()
    config = dataclasses.replace(load_config(ROOT / "config.yaml"),
                                 folders=Folders(ROOT / "rules", ROOT / "workflows"))
    library = load_library(config)
    with tempfile.TemporaryDirectory(prefix="tend-bench-approve-") as tmp:
        urls = [f"sqlite:///{tmp}/approve{i}.db" for i in range(args.rounds)]
        ok = measure("sqlite", urls, config, library, args.customers)
    try:
        server = PostgresServer().start()
    except Unavailable as exc:
        print(f"approve postgresql: skipped, {exc}")
        return 0 if ok else 1
    try:
        for i in range(args.rounds):
            server.execute(f"CREATE DATABASE approve{i}")
        ok &= measure("postgresql", [server.url(f"approve{i}") for i in range(args.rounds)],
                      config, library, args.customers)
    finally:
        server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
