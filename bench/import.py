"""`tend import customers` against a raw bulk load of the same CSV (goal: at most 2x slower).

SQLite: the importer (in process) vs the csv module plus one executemany into a plain table
with the same columns, keyed by id as any table an upsert targets, in one transaction.
PostgreSQL (a throwaway server, as the tests start it): the importer vs COPY of the file into
a staging table and one INSERT ... ON CONFLICT. The importer validates and types every cell
and keeps the sweep indexes; the baselines do neither (the PostgreSQL one lets the server
parse the CSV), so the ratio is the price of that work.

    python bench/import.py [--rows 1000000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

NOW = dt.datetime.now(dt.UTC)
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.postgres import PostgresServer, Unavailable  # noqa: E402

from adapters.db.engines import make_engine  # noqa: E402
from adapters.db.migrate import upgrade  # noqa: E402
from adapters.intake.customer_import import import_customers  # noqa: E402
from adapters.intake.demo_files import demo_spec, write_demo  # noqa: E402
from engine.config import Config  # noqa: E402
from engine.config_loader import load_config  # noqa: E402
from engine.errors import Problem  # noqa: E402

GOAL = 2.0


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rows", type=int, default=1_000_000)
    options.add_argument("--repeat", type=int, default=1, help="best of N runs")
    options.add_argument("--background", choices=("auto", "yes", "no"), default="auto",
                         help="parse in a child process (auto: when a core is idle)")
    args = options.parse_args()
    config = load_config(ROOT / "config.yaml")
    with tempfile.TemporaryDirectory(prefix="tend-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        files = write_demo(demo_spec(config, args.rows, 0, 7, dt.date(2026, 5, 20)), folder)
        print(f"generated {args.rows} customers in {time.perf_counter() - started:.1f}s "
              f"({files.customers.stat().st_size / 1e6:.0f} MB)", flush=True)
        header = files.customers.open(encoding="utf-8").readline().strip().split(",")
        sqlite(folder, files.customers, header, config, args)
        postgres(files.customers, header, config, args)
    return 0


def best(repeat: int, run: Callable[[int], Timing]) -> Timing:
    return min((run(i) for i in range(repeat)), key=lambda t: t.wall)


@dataclass(frozen=True)
class Timing:
    """Wall seconds, and CPU seconds of this process and its children (the parsing child):
    on a shared machine the CPU figures say more than the wall clock."""

    wall: float
    cpu: float


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def timed(run: Callable[[], object]) -> Timing:
    wall, cpu = time.perf_counter(), cpu_seconds()
    run()
    return Timing(time.perf_counter() - wall, cpu_seconds() - cpu)


def tend_import(url: str, csv_path: Path, config: Config, background: str) -> Timing:
    engine = make_engine(url)
    problems: list[Problem] = []
    results = []
    mode = {"auto": None, "yes": True, "no": False}[background]
    timing = timed(lambda: results.append(import_customers(
        engine, config, csv_path, report=problems.append, background=mode, now=NOW)))
    engine.dispose()
    result = results[0]
    if problems or result.inserted != result.read:
        raise SystemExit(f"import went wrong: {result}, {problems[:3]}")
    return timing


def sqlite(folder: Path, csv_path: Path, header: list[str], config: Config,
           args: argparse.Namespace) -> None:
    def tend(i: int) -> Timing:
        url = f"sqlite:///{folder / f'tend{i}.db'}"
        upgrade(url)
        return tend_import(url, csv_path, config, args.background)

    def raw(i: int) -> Timing:
        conn = sqlite3.connect(folder / f"raw{i}.db")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"CREATE TABLE customers ({', '.join(_sqlite_types(header, config))})")

        def load() -> None:
            with csv_path.open(encoding="utf-8", newline="") as file:
                rows = csv.reader(file)
                next(rows)
                conn.execute("BEGIN")
                conn.executemany(
                    f"INSERT INTO customers VALUES ({', '.join('?' * len(header))})", rows)
                conn.commit()

        timing = timed(load)
        conn.close()
        return timing

    raw_t = best(args.repeat, raw)
    tend_t = best(args.repeat, tend)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report("sqlite", args.rows, tend_t, raw_t,
           f"; CPU tend {tend_t.cpu:.1f}s, raw {raw_t.cpu:.1f}s, "
           f"ratio {tend_t.cpu / raw_t.cpu:.2f}x; peak RSS {peak:.0f} MB "
           f"(largest child {child:.0f} MB)")


def _sqlite_types(header: list[str], config: Config) -> list[str]:
    from adapters.db.schema import customers

    types = {c.name: c.type.compile() for c in customers.columns}
    types["id"] += " PRIMARY KEY"
    return [f'"{name}" {types.get(name, "TEXT")}' for name in header]


def postgres(csv_path: Path, header: list[str], config: Config,
             args: argparse.Namespace) -> None:
    try:
        server = PostgresServer().start()
    except Unavailable as exc:
        print(f"import postgresql: skipped, {exc}")
        return
    try:
        def fresh(name: str) -> str:
            server.execute(f"CREATE DATABASE {name}")
            upgrade(server.url(name))
            return server.url(name)

        def tend(i: int) -> Timing:
            return tend_import(fresh(f"tend{i}"), csv_path, config, args.background)

        def raw(i: int) -> Timing:
            with psycopg.connect(fresh(f"raw{i}")) as conn:
                return timed(lambda: _copy_and_upsert(conn, csv_path, header, config))

        report("postgresql", args.rows, best(args.repeat, tend), best(args.repeat, raw), "")
    finally:
        server.stop()


def _copy_and_upsert(conn: psycopg.Connection, csv_path: Path, header: list[str],
                     config: Config) -> None:
    from adapters.db.schema import customers

    pg = {"FLOAT": "float8", "DATE": "date"}
    types = {c.name: pg.get(str(c.type.compile()), "text") for c in customers.columns}
    attr_types = {"number": "float8", "date": "date", "bool": "boolean", "string": "text"}
    types.update({n: attr_types[t.value] for n, t in config.attributes.items()})
    stage = ", ".join(f'"{name}" {types[name]}' for name in header)
    fields = [n for n in header if n not in config.attributes]
    attrs = ", ".join(f"'{n}', \"{n}\"" for n in header if n in config.attributes)
    quoted = ", ".join(f'"{n}"' for n in fields)
    with conn.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE stage ({stage})")
        with cur.copy("COPY stage FROM STDIN WITH (FORMAT csv, HEADER true)") as copy, \
                csv_path.open("rb") as file:
            while block := file.read(1 << 20):
                copy.write(block)
        updates = ", ".join(f'"{n}" = EXCLUDED."{n}"' for n in fields if n != "id")
        cur.execute(f"INSERT INTO customers ({quoted}, attrs, updated_at) "
                    f"SELECT {quoted}, jsonb_strip_nulls(jsonb_build_object({attrs})), now() "
                    f"FROM stage ON CONFLICT (id) DO UPDATE SET {updates}, "
                    "attrs = EXCLUDED.attrs, updated_at = EXCLUDED.updated_at")
    conn.commit()


def report(backend: str, rows: int, tend: Timing, raw: Timing, extra: str) -> None:
    print(f"import {backend}: tend {rows / tend.wall / 1000:.0f}k rows/s ({tend.wall:.1f}s), "
          f"raw {rows / raw.wall / 1000:.0f}k rows/s ({raw.wall:.1f}s), "
          f"ratio {tend.wall / raw.wall:.2f}x (goal <= {GOAL:g}x){extra}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
