"""Task export of 1,000,000 tasks (`GET /tasks/export`, `tend export tasks`): rows/s and peak
RSS for CSV, on SQLite and on PostgreSQL (a server-side cursor), with the peak RSS of an
export of a tenth as many rows beside it: streaming keeps memory flat, so the two peaks are
close, where a buffered export would grow tenfold. XLSX (constant_memory) is timed on the
tenth. Each export runs in its own process, so its peak RSS is its own.

    python bench/export.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from support.postgres import PostgresServer, Unavailable  # noqa: E402

from adapters.db.engines import make_engine  # noqa: E402
from adapters.db.migrate import upgrade  # noqa: E402
from adapters.db.schema import customers, tasks  # noqa: E402
from adapters.tasks import export  # noqa: E402
from adapters.tasks.listing import task_filters  # noqa: E402
from engine.config_loader import load_config  # noqa: E402

AT = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
CUSTOMERS_PER_TASK = 10  # a tenth as many customers as tasks
INSERT_BATCH = 20_000
STATES = ("pending", "connected", "declined", "no_answer", "accepted")
REASONS = (None, None, "price", None, None)


def build(url: str, rows: int) -> None:
    """A migrated database holding `rows` tasks of `rows / 10` customers (reused when full)."""
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        if conn.scalar(sa.select(sa.func.count()).select_from(tasks)) == rows:
            return
        conn.execute(tasks.delete())
        conn.execute(customers.delete())
    people = max(rows // CUSTOMERS_PER_TASK, 1)
    for first in range(0, people, INSERT_BATCH):
        with engine.begin() as conn:
            conn.execute(customers.insert(), [
                {"id": f"c{n:07d}", "name": f"客户{n}", "phone": f"138{n:08d}",
                 "joined_on": dt.date(2020, 1, 1), "updated_at": AT}
                for n in range(first, min(first + INSERT_BATCH, people))])
    for first in range(0, rows, INSERT_BATCH):
        with engine.begin() as conn:
            conn.execute(tasks.insert(), [_task(n, people)
                                          for n in range(first, min(first + INSERT_BATCH, rows))])
    engine.dispose()


def _task(n: int, people: int) -> dict[str, Any]:
    return {"ticket_id": 1 + n % 7, "entry_id": n, "customer_id": f"c{n % people:07d}",
            "step": "call", "channel": "account_manager", "route": f"manager:m{n % 40:02d}",
            "state": STATES[n % 5], "idempotency_key": f"{n}:call", "due_at": AT,
            "payload": {"template": "t"}, "created_at": AT, "updated_at": AT,
            "result_at": None if n % 5 == 0 else AT, "reason": REASONS[n % 5]}


def part(url: str, fmt: str, limit: int) -> dict[str, Any]:
    """One export to a sink (bytes counted, nothing kept): tasks with id ≤ `limit`."""
    config = load_config(ROOT / "config.yaml")
    engine = make_engine(url)
    spec = export.ExportSpec([*task_filters(), tasks.c.id <= limit], fmt, "zh",
                             config.timezone, config.reasons)
    started = time.perf_counter()
    size = chunks = 0
    for chunk in export.stream(engine, spec):
        size += len(chunk)
        chunks += 1
    took = time.perf_counter() - started
    return {"seconds": took, "bytes": size, "chunks": chunks,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child(url: str, fmt: str, limit: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--part", fmt, "--url", url,
                          "--limit", str(limit)], check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def report(backend: str, url: str, rows: int) -> None:
    tenth = max(rows // 10, 1)
    small, full = child(url, "csv", tenth), child(url, "csv", rows)
    print(f"export {backend} csv: {rows:,} rows in {full['seconds']:.1f} s = "
          f"{rows / full['seconds']:,.0f} rows/s, {full['bytes'] / 2**20:.0f} MiB in "
          f"{full['chunks']:,} chunks; peak RSS {full['rss_mb']:.0f} MB "
          f"({small['rss_mb']:.0f} MB for {tenth:,} rows: flat)", flush=True)
    book = child(url, "xlsx", tenth)
    print(f"export {backend} xlsx: {tenth:,} rows in {book['seconds']:.1f} s = "
          f"{tenth / book['seconds']:,.0f} rows/s; peak RSS {book['rss_mb']:.0f} MB", flush=True)


def main() -> int:
    options = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    options.add_argument("--rows", type=int, default=1_000_000)
    options.add_argument("--part", choices=export.FORMATS)
    options.add_argument("--url")
    options.add_argument("--limit", type=int)
    args = options.parse_args()
    if args.part:
        print(json.dumps(part(args.url, args.part, args.limit)))
        return 0
    folder = ROOT / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / f'export-{args.rows}.db'}"
    build(url, args.rows)
    report("sqlite", url, args.rows)
    try:
        server = PostgresServer().start()
    except Unavailable as exc:
        print(f"export postgresql: skipped, {exc}")
        return 0
    try:
        server.execute("CREATE DATABASE export")
        pg_url = server.url("export")
        build(pg_url, args.rows)
        report("postgresql", pg_url, args.rows)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
