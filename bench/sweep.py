"""Preview of every shipped playbook over 1,000,000 demo customers, against two baselines.

  (a) the same typed condition trees evaluated by the plain Python evaluator over rows streamed
      from the database (one pass for all playbooks, derived fields computed per row);
  (b) a raw `SELECT id` with a hand-written SQL predicate per playbook.

Each part runs in its own process (its peak RSS is its own) and reports, per playbook, the
warm time and a digest of the matched ids; the three must agree. Goals: every playbook
together ≤ 3 s and ≤ 256 MB peak RSS on SQLite, ≥ 4× faster than (a), ≤ 2× (b) in total and
≤ 3× (b) for each playbook. The demo database is built once into var/bench/ and reused.

    python bench/sweep.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

NOW = dt.datetime.now(dt.UTC)
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from support.postgres import PostgresServer, Unavailable  # noqa: E402

from adapters.db.engines import make_engine, stream_customers  # noqa: E402
from adapters.db.migrate import upgrade  # noqa: E402
from adapters.db.schema import events  # noqa: E402
from adapters.intake.customer_import import import_customers  # noqa: E402
from adapters.intake.demo_files import demo_spec, write_demo  # noqa: E402
from adapters.intake.event_import import import_events  # noqa: E402
from adapters.tickets.sweep import REPLAY_WINDOW, sweep  # noqa: E402
from engine.config import Config  # noqa: E402
from engine.config_loader import load_config  # noqa: E402
from engine.folders import Folders  # noqa: E402
from engine.language.customer import event_facts, facts  # noqa: E402
from engine.language.evaluate import holds  # noqa: E402
from engine.playbooks.library import load_library  # noqa: E402
from engine.playbooks.playbook import Playbook  # noqa: E402

AT = dt.datetime(2026, 5, 20, 1, 0, tzinfo=dt.UTC)
SEED = 11
EVENTS_PER_CUSTOMER = 0.05


def digest(ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def playbooks(config: Config) -> list[Playbook]:
    """The shipped playbooks that have a hand-written baseline in `hand_sql`: the comparison
    needs one for each (those without are named by `main`)."""
    written = hand_sql("sqlite", config)
    library = load_library(config)
    return sorted((p for p in library.playbooks.values() if p.id in written), key=lambda p: p.id)


def unwritten(config: Config) -> list[str]:
    """Shipped playbooks the comparison leaves out: no hand-written SQL for them yet."""
    written = hand_sql("sqlite", config)
    return sorted(set(load_library(config).playbooks) - set(written))


# --- the three parts, each run in a child process ---

def part_ours(url: str, config: Config) -> dict[str, Any]:
    engine = make_engine(url)
    times, ids = {}, {}
    with engine.connect() as conn:
        for pb in playbooks(config):
            sweep(conn, pb, config, AT)
            started = time.perf_counter()
            selection = sweep(conn, pb, config, AT)
            times[pb.id] = time.perf_counter() - started
            ids[pb.id] = digest(selection.matched)
    return {"times": times, "ids": ids}


def part_python(url: str, config: Config) -> dict[str, Any]:
    """One streamed pass over every customer, each playbook's trees evaluated per row."""
    engine = make_engine(url)
    books = playbooks(config)
    today = config.today(AT)
    matched: dict[str, set[str]] = {pb.id: set() for pb in books}
    scheduled = [pb for pb in books if not pb.trigger.event]
    started = time.perf_counter()
    with engine.connect() as conn:
        by_id = {}
        wanted = _event_customers(conn)
        for record in stream_customers(conn, config):
            seen = facts(record, today, config.tiers, config.lifecycle)
            for pb in scheduled:
                if _selects(pb, seen, today):
                    matched[pb.id].add(record["id"])
            if record["id"] in wanted:
                by_id[record["id"]] = seen
        for pb in books:
            if pb.trigger.event:
                for event in _replayed(conn, pb.trigger.event):
                    seen = by_id.get(event["customer_id"])
                    if seen is None:
                        continue
                    seen = {**seen, **event_facts(event, config.today)}
                    if _selects(pb, seen, today):
                        matched[pb.id].add(event["customer_id"])
    total = time.perf_counter() - started
    return {"times": {"all": total}, "ids": {k: digest(v) for k, v in matched.items()}}


def _selects(pb: Playbook, seen: dict[str, Any], today: dt.date) -> bool:
    return holds(pb.audience, seen, today) and not (pb.exclude and holds(pb.exclude, seen, today))


def _window() -> Any:
    return sa.and_(events.c.at > AT - REPLAY_WINDOW, events.c.at <= AT)


def _event_customers(conn: sa.Connection) -> set[str]:
    return set(conn.scalars(sa.select(events.c.customer_id).where(_window())))


def _replayed(conn: sa.Connection, event_type: str) -> Iterable[dict[str, Any]]:
    query = sa.select(events.c.id, events.c.type, events.c.customer_id, events.c.at,
                      events.c.data).where(events.c.type == event_type, _window())
    return [dict(row) for row in conn.execute(query).mappings()]


def part_sql(url: str, config: Config) -> dict[str, Any]:
    """Hand-written SQL as written, and (SQLite) the same with index use forbidden.

    SQLite has no column statistics for ranges, so its planner takes an index for
    `joined_on < X` even when nearly every row matches; the best of the two plans is the
    stricter baseline, reported beside the one a person would get.
    """
    engine = make_engine(url)
    handwritten = hand_sql(engine.dialect.name, config)
    times, best, ids = {}, {}, {}
    with engine.connect() as conn:
        for pb in playbooks(config):
            text, params = handwritten[pb.id]
            variants = [text]
            if engine.dialect.name == "sqlite" and text.startswith("SELECT id FROM customers "):
                variants.append(text.replace(" WHERE ", " NOT INDEXED WHERE ", 1))
            timed = []
            for variant in variants:
                conn.exec_driver_sql(variant, params).all()
                started = time.perf_counter()
                found = [row[0] for row in conn.exec_driver_sql(variant, params)]
                timed.append(time.perf_counter() - started)
            times[pb.id], best[pb.id] = timed[0], min(timed)
            ids[pb.id] = digest(found)
    return {"times": times, "best": best, "ids": ids}


def hand_sql(dialect: str, config: Config) -> dict[str, tuple[str, Any]]:
    """What a careful person would write by hand for each shipped playbook."""
    pg = dialect == "postgresql"
    today = config.today(AT)

    def day(n: int) -> str:
        return (today + dt.timedelta(days=n)).isoformat()

    def no_tag(*tags: str) -> str:
        found = " OR ".join(f"{'strpos' if pg else 'instr'}(tags, ';{t};') > 0" for t in tags)
        return f"(tags IS NULL OR NOT ({found}))"

    def json_num(col: str, key: str) -> str:
        return f"({col}->>'{key}')::float" if pg else f"json_extract({col}, '$.{key}')"

    def json_text(col: str, key: str) -> str:
        return f"({col}->>'{key}')" if pg else f"json_extract({col}, '$.{key}')"

    def date(text: str) -> str:
        return f"DATE '{text}'" if pg else f"'{text}'"

    not_churned = "churned_on IS NULL"
    not_onboarding = f"joined_on < {date(day(-30))}"
    decline = "(usage_change_pct <= -30 OR churn_score >= 0.6)"
    not_decline = ("(usage_change_pct IS NULL OR usage_change_pct > -30) AND "
                   "(churn_score IS NULL OR churn_score < 0.6)")
    month_day = "to_char(birthday, 'MM-DD')" if pg else "substr(birthday, 6, 5)"
    birthdays = [today.strftime("%m-%d")]
    if today.strftime("%m-%d") == "02-28" and today.year % 4 != 0:
        birthdays.append("02-29")
    upgrade = json_text("attrs", "last_upgrade_on")

    def customers_where(predicate: str) -> tuple[str, Any]:
        return f"SELECT id FROM customers WHERE {predicate}", ()

    def replay(event_type: str, predicate: str) -> tuple[str, Any]:
        start = (AT - REPLAY_WINDOW).replace(tzinfo=None).isoformat(sep=" ")
        end = AT.replace(tzinfo=None).isoformat(sep=" ")
        stamp = "TIMESTAMP " if pg else ""
        return (f"SELECT DISTINCT c.id FROM events e JOIN customers c ON c.id = e.customer_id "
                f"WHERE e.type = '{event_type}' AND e.at > {stamp}'{start}' "
                f"AND e.at <= {stamp}'{end}' AND {predicate}", ())

    return {
        "birthday": customers_where(
            f"{month_day} IN ({', '.join(repr(b) for b in birthdays)}) AND {not_churned}"),
        "churn_risk": customers_where(
            f"{not_churned} AND {not_onboarding} AND {decline} AND arpu >= 80 "
            f"AND {no_tag('do_not_market', 'do_not_call')}"),
        "competitor_call_alert": replay(
            "competitor_call", f"{json_num('e.data', 'minutes')} >= 2 AND c.arpu >= 150 "
            f"AND c.churned_on IS NULL AND {no_tag('do_not_call')}"),
        "high_value_upsell": customers_where(
            f"{not_churned} AND joined_on < {date(day(-365))} AND {not_decline} "
            f"AND arpu >= 150 AND NOT ({upgrade} IS NOT NULL AND {upgrade} >= '{day(-180)}' "
            f"AND {upgrade} <= '{day(0)}') AND {no_tag('do_not_market', 'complaint_open')}"),
        "renewal": customers_where(
            f"contract_end >= {date(day(0))} AND contract_end <= {date(day(60))} "
            f"AND {not_churned} AND {no_tag('do_not_market')}"),
        "upsell": customers_where(
            f"{not_churned} AND {not_onboarding} AND joined_on >= {date(day(-365))} "
            f"AND {not_decline} AND (arpu IS NULL OR arpu < 150) "
            f"AND {no_tag('do_not_market', 'complaint_open')}"),
        "welcome": customers_where(
            f"{not_churned} AND joined_on >= {date(day(-30))} AND {no_tag('do_not_market')}"),
        "winback": customers_where(
            f"churned_on >= {date(day(-90))} AND churned_on <= {date(day(0))} AND arpu >= 150 "
            f"AND {no_tag('do_not_winback')}"),
        "zero_usage_alert": replay(
            "zero_usage", f"{json_num('e.data', 'days')} >= 7 AND c.arpu >= 80 "
            f"AND c.churned_on IS NULL AND {no_tag('do_not_call')}"),
    }


PARTS: dict[str, Callable[[str, Config], dict[str, Any]]] = {
    "ours": part_ours, "python": part_python, "sql": part_sql}


# --- the parent: data, children, verdict ---

def child(part: str, url: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--part", part, "--url", url],
                         check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def build(url: str, rows: int, config: Config, folder: Path) -> None:
    """Demo data at AT imported with `tend import` (the path users take)."""
    upgrade(url)
    files = write_demo(demo_spec(config, rows, int(rows * EVENTS_PER_CUSTOMER), SEED,
                                 config.today(AT)), folder)
    engine = make_engine(url)
    problems: list[Any] = []
    import_customers(engine, config, files.customers, report=problems.append, now=NOW)
    import_events(engine, config, files.events, report=problems.append, now=NOW)
    if problems:
        raise SystemExit(f"demo data did not import cleanly: {problems[:3]}")
    engine.dispose()


def sqlite_database(rows: int, config: Config) -> str:
    folder = ROOT / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"sweep-{rows}-{SEED}.db"
    url = f"sqlite:///{path}"
    if not path.exists():
        started = time.perf_counter()
        partial = folder / "partial.db"
        partial.unlink(missing_ok=True)
        build(f"sqlite:///{partial}", rows, config, folder)
        partial.rename(path)
        print(f"built {path.name} in {time.perf_counter() - started:.0f}s", flush=True)
    return url


def compare(backend: str, parts: dict[str, dict[str, Any]], books: list[str]) -> bool:
    ours, sql = parts["ours"], parts["sql"]
    mine, written, best = ours["times"], sql["times"], sql["best"]
    agree = True
    print(f"sweep {backend}: {'playbook':<22} {'ours':>7} {'hand SQL':>9} {'ratio':>6}"
          f" {'best plan':>10} {'ratio':>6}")
    for pb in books:
        same = all(p["ids"][pb] == ours["ids"][pb] for p in parts.values())
        agree &= same
        print(f"sweep {backend}: {pb:<22} {mine[pb]:>6.3f}s {written[pb]:>8.3f}s "
              f"{mine[pb] / written[pb]:>5.2f}x {best[pb]:>9.3f}s {mine[pb] / best[pb]:>5.2f}x"
              f"{'' if same else '  IDS DIFFER'}")
    total = sum(mine.values())
    print(f"sweep {backend}: total {total:.2f}s (goal <= 3 s on SQLite), peak RSS "
          f"{ours['rss_mb']:.0f} MB (goal <= 256 MB)")
    for label, base in (("as written", written), ("best plan", best)):
        worst = max(mine[p] / base[p] for p in books)
        print(f"sweep {backend}: vs hand-written SQL ({label}) {total / sum(base.values()):.2f}x"
              f" in total (goal <= 2x), worst playbook {worst:.2f}x (goal <= 3x)")
    if "python" in parts:
        py = parts["python"]["times"]["all"]
        print(f"sweep {backend}: plain Python evaluator {py:.1f}s, ours {py / total:.1f}x faster "
              "(goal >= 4x)")
    print(f"sweep {backend}: ids {'agree' if agree else 'DIFFER'} across "
          f"{', '.join(parts)}", flush=True)
    return agree


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rows", type=int, default=1_000_000)
    options.add_argument("--part", choices=sorted(PARTS))
    options.add_argument("--url")
    args = options.parse_args()
    config = dataclasses.replace(load_config(ROOT / "config.yaml"),
                                 folders=Folders(ROOT / "rules", ROOT / "workflows"))
    if args.part:
        result = PARTS[args.part](args.url, config)
        print(json.dumps({**result, "rss_mb": peak_rss_mb()}))
        return 0
    books = [pb.id for pb in playbooks(config)]
    print(f"sweep: {len(books)} playbooks compared; without a hand-written baseline, left out: "
          f"{', '.join(unwritten(config)) or 'none'}", flush=True)
    url = sqlite_database(args.rows, config)
    ok = compare("sqlite", {p: child(p, url) for p in ("ours", "sql", "python")}, books)
    try:
        server = PostgresServer().start()
    except Unavailable as exc:
        print(f"sweep postgresql: skipped, {exc}")
        return 0 if ok else 1
    try:
        server.execute("CREATE DATABASE sweep")
        pg_url = server.url("sweep")
        with tempfile.TemporaryDirectory(prefix="tend-bench-") as tmp:
            build(pg_url, args.rows, config, Path(tmp))
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("ANALYZE")
        ok &= compare("postgresql", {p: child(p, pg_url) for p in ("ours", "sql")}, books)
    finally:
        server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
