"""The data of bench/view.py: a library of 30 offers and 13 playbooks, and a database of
customers, executing tickets, their members, entries and tasks, and contacts, generated from
a seeded RNG and bulk-loaded (SQLite: executemany in one transaction per table; PostgreSQL:
COPY), then cached under var/bench/ by `VERSION` and size, so a rerun only migrates it.

What a view reads, at the issue's sizes (1,000,000 customers):
  - 30 offers (half with a `limit` of handled contacts) named by the playbooks' steps;
  - 10 executing sweep tickets holding 200,000 members in all (9 in 10 treatment), each
    member with an entry, each treated member with a task (pending, leased, or a result);
  - 3 contact-triggered playbooks (`trigger: {contact: [...]}`, modelled on the shipped
    rules/retention_inbound.yaml: customers in decline, silver and up, a 30-day cooldown),
    two of them on store, each with its executing standing ticket and the entries and tasks
    of earlier contacts: a store view judges the customer by both and enters them when they
    match, as a clerk's view does;
  - 5 contacts per customer (the trajectory), on store, hotline and online, over 60 days.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import shutil
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from adapters.access.users import add_user
from adapters.db.engines import make_engine
from adapters.db.migrate import upgrade
from engine.config import Config
from engine.folders import Folders
from engine.playbooks.library import Library, load_library

VERSION = 2  # bump when what is generated changes: the cached databases are rebuilt
SEED = 20
AT = dt.datetime(2026, 12, 10, 3, 0, tzinfo=dt.UTC)  # 11:00 in Shanghai, a Thursday
CAMPAIGNS, CONTACT_PLAYBOOKS, OFFERS, TRAJECTORY = 10, 3, 30, 5
CHUNK = 50_000
OPEN = ("pending", "leased")
RESULTS = ("no_answer", "delivered", "connected", "accepted", "declined")
OUTCOMES = ("presented",) * 4 + ("interested",) * 2 + ("declined",) * 2 + ("handled", "referred")
CONTACT_CHANNELS = ("store", "hotline", "online")
CONTACT_TRIGGERS = (("store", "hotline"), ("hotline", "online"), ("store", "online"))
ELIGIBLE = ("{stage: {in: [growth, maturity, decline]}}", "{tier: {ne: standard}}",
            "{attr.plan_fee: {gte: 58}}", "{arpu: {gte: 30}}")


def members_of(customers: int) -> int:
    return customers // 5  # 200,000 of 1,000,000


# --- the library: written as files, loaded as the server loads it ---

def write_library(root: Path, shipped: Path) -> Path:
    """rules/ (playbooks, offers/) and workflows/ (the shipped ones) under `root`."""
    if (root / "done").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    (root / "rules" / "offers").mkdir(parents=True)
    shutil.copytree(shipped / "workflows", root / "workflows")
    for n in range(OFFERS):
        limit = f"limit: {[3000, 50000][n % 2]}\n" if n % 4 < 2 else ""
        (root / "rules" / "offers" / f"{offer(n)}.yaml").write_text(
            f"offer: {offer(n)}\nversion: 1\ntitle: {{zh: 优惠{n:02d}, en: Offer {n:02d}}}\n"
            f"script: {{zh: '{{name}}您好,优惠{n:02d}', en: 'Hello {{name}}, offer {n:02d}'}}\n"
            f"eligible: {ELIGIBLE[n % len(ELIGIBLE)]}\n"
            f"channels: [outbound_call, store, hotline, online, sms]\n"
            f"valid: {{from: 2026-01-01, until: 2027-12-31}}\n{limit}")
    for n in range(CAMPAIGNS):
        named = [offer(3 * n + k) for k in range(3)]
        (root / "rules" / f"{campaign(n)}.yaml").write_text(
            f"playbook: {campaign(n)}\ntitle: Bench campaign {n}\nversion: 1\n"
            f"owner: retention-team\npriority: {10 + n}\n"
            "trigger: {schedule: '0 9 * * mon-fri'}\naudience: {tier: {ne: standard}}\n"
            "holdout: 0.10\ncooldown: 30d\nworkflow: standard\nsteps:\n"
            f"  - {{id: call, channel: outbound_call, template: bench_call, "
            f"offers: [{named[0]}, {named[1]}]}}\n"
            f"  - {{id: sms, channel: sms, template: bench_sms, offers: [{named[2]}], "
            "delay: 2d}\ngoal: {event: contract_renewed, within: 30d}\n")
    for n in range(CONTACT_PLAYBOOKS):
        named = [offer(n + 10 * k) for k in range(3)]
        (root / "rules" / f"{contact_playbook(n)}.yaml").write_text(
            f"playbook: {contact_playbook(n)}\ntitle: Bench contact {n}\nversion: 1\n"
            f"owner: retention-team\npriority: {50 + n}\n"
            f"trigger: {{contact: [{', '.join(CONTACT_TRIGGERS[n])}]}}\n"
            "audience: {all: [{stage: {eq: decline}}, {tier: {ne: standard}}]}\n"
            "holdout: 0.10\ncooldown: 30d\nworkflow: alerts\n"
            f"steps:\n  - {{id: follow_up, channel: sms, template: bench_follow_up, "
            f"offers: [{', '.join(named)}], delay: 1d}}\n"
            "goal: {event: contract_renewed, within: 30d}\n")
    (root / "done").touch()
    return root


def offer(n: int) -> str:
    return f"bench_offer_{n:02d}"


def campaign(n: int) -> str:
    return f"bench_campaign_{n:02d}"


def contact_playbook(n: int) -> str:
    return f"bench_contact_{n}"


# --- rows ---

def stamp(at: dt.datetime) -> str:
    """An instant as both backends store it: naive UTC text (SQLAlchemy's SQLite format)."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def customer_rows(count: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    today = AT.date()
    updated = stamp(AT)
    for n in range(count):
        joined = today - dt.timedelta(days=rng.randint(1, 3000))
        churned = (today - dt.timedelta(days=rng.randint(1, 400))).isoformat() \
            if rng.random() < 0.03 else None
        decline = rng.random() < 0.15
        yield (customer(n), f"客户{n}", f"138{n:08d}", None,
               dt.date(rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
               joined.isoformat(), "p96", round(rng.lognormvariate(4.2, 0.6), 2),
               round(rng.uniform(-20, 300), 2),
               round(rng.uniform(-60, -30) if decline else rng.uniform(-29, 40), 1),
               round(rng.random(), 3),
               (today + dt.timedelta(days=rng.randint(-100, 700))).isoformat(),
               (today - dt.timedelta(days=rng.randint(0, 30))).isoformat(), churned,
               f"m{n % 400:03d}", ";do_not_call;" if rng.random() < 0.05 else None,
               ";sms;" if rng.random() < 0.05 else None,
               json.dumps({"plan_fee": rng.choice([38, 58, 96, 128, 198]),
                           "region": rng.choice(["east", "west", "north", "south"])}),
               updated)


CUSTOMER_COLUMNS = ("id", "name", "phone", "email", "birthday", "joined_on", "plan", "arpu",
                    "balance", "usage_change_pct", "churn_score", "contract_end",
                    "last_active_on", "churned_on", "manager", "tags", "opt_out", "attrs",
                    "updated_at")


def customer(n: int) -> str:
    return f"c{n:07d}"


def contact_rows(count: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    span = 60 * 86400
    for n in range(count):
        for k in range(TRAJECTORY):
            at = stamp(AT - dt.timedelta(seconds=rng.randint(60, span)))
            outcome = rng.choice(OUTCOMES)
            yield (f"k{n:07d}-{k}", customer(n), rng.choice(CONTACT_CHANNELS),
                   offer(rng.randrange(OFFERS)) if rng.random() < 0.8 else None, None, outcome,
                   "asked about the plan" if rng.random() < 0.3 else None, f"agent{n % 50}", at,
                   '{"channel": "outbound_call"}' if outcome == "referred" else None, None, at)


CONTACT_COLUMNS = ("id", "customer_id", "channel", "offer", "ticket_id", "outcome", "note", "by",
                   "at", "refer_to", "task_id", "recorded_at")
TICKET_COLUMNS = ("id", "playbook", "version", "playbook_hash", "workflow", "state", "trigger",
                  "window_key", "planned_at", "planned_by", "at", "levels", "started_at")
MEMBER_COLUMNS = ("ticket_id", "customer_id", "grp", "reason")
ENTRY_COLUMNS = ("id", "playbook", "customer_id", "ticket_id", "grp", "entered_at")
TASK_COLUMNS = ("id", "ticket_id", "entry_id", "customer_id", "step", "channel", "route", "state",
                "idempotency_key", "due_at", "payload", "created_at", "updated_at",
                "lease_expires_at", "result_at", "detail", "attempts", "sent_at", "priority",
                "attempt")


def ticket_rows(library: Library, customers: int, rng: random.Random) -> dict[str, list[Any]]:
    """Tickets, members, entries and tasks: each campaign a tenth of the members, chosen at
    random (a customer may be in several), each standing ticket as many entries as a
    campaign has members."""
    out: dict[str, list[Any]] = {"tickets": [], "ticket_members": [], "entries": [], "tasks": []}
    per_ticket = members_of(customers) // CAMPAIGNS
    names = [campaign(n) for n in range(CAMPAIGNS)] + [contact_playbook(n)
                                                       for n in range(CONTACT_PLAYBOOKS)]
    for ticket_id, name in enumerate(names, start=1):
        pb = library.playbooks[name]
        standing = name.startswith("bench_contact")
        started = AT - dt.timedelta(days=rng.randint(2, 20))
        out["tickets"].append((
            ticket_id, name, pb.version, pb.hash, pb.workflow, "executing",
            "contact" if standing else "schedule",
            f"standing:v{pb.version}" if standing else f"w{ticket_id}",
            stamp(started), "bench", stamp(started), '[{"level": 1, "role": "campaign_lead"}]',
            stamp(started)))
        for cid in sorted(rng.sample(range(customers), per_ticket)):
            grp = "control" if rng.random() < pb.holdout else "treatment"
            if not standing:
                out["ticket_members"].append((ticket_id, customer(cid), grp, None))
            entry_id = len(out["entries"]) + 1
            entered = started + dt.timedelta(minutes=rng.randint(0, 60 * 24))
            out["entries"].append((entry_id, name, customer(cid), ticket_id, grp,
                                   stamp(entered)))
            if grp == "treatment":
                out["tasks"].append(task_row(len(out["tasks"]) + 1, ticket_id, entry_id,
                                             customer(cid), pb, rng))
    return out


def task_row(task_id: int, ticket_id: int, entry_id: int, cid: str, pb: Any,
             rng: random.Random) -> tuple[Any, ...]:
    step = pb.steps[0]
    state = rng.choice(OPEN) if rng.random() < 0.4 else rng.choice(RESULTS)
    sent = AT - dt.timedelta(seconds=rng.randint(60, 14 * 86400))
    due = AT + dt.timedelta(hours=rng.randint(1, 72)) if state == "pending" else sent
    result = sent + dt.timedelta(minutes=5) if state in RESULTS else None
    payload = json.dumps({"template": step.template, "params": {"offer": step.offers[0]}})
    return (task_id, ticket_id, entry_id, cid, step.id, step.channel, "pool", state,
            f"t{ticket_id}-{cid}-{step.id}", stamp(due), payload, stamp(due), stamp(due),
            stamp(AT + dt.timedelta(minutes=5)) if state == "leased" else None,
            stamp(result) if result else None, None, 0,
            None if state == "pending" else stamp(sent), pb.priority, 0)


# --- loading ---

def chunks(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def load_sqlite(path: Path, table: str, columns: Sequence[str],
                rows: Iterator[tuple[Any, ...]]) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    quoted = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    with conn:
        for batch in chunks(rows):
            conn.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", batch)
    conn.close()


def load_postgres(url: str, table: str, columns: Sequence[str],
                  rows: Iterator[tuple[Any, ...]]) -> None:
    quoted = ", ".join(f'"{c}"' for c in columns)
    with psycopg.connect(url) as conn, conn.cursor() as cur, \
            cur.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def build(url: str, config: Config, library: Library, customers: int) -> str:
    """Migrate, load every table, add the agent who opens views; its token."""
    started = time.perf_counter()
    upgrade(url)
    rng = random.Random(SEED)
    tables = ticket_rows(library, customers, rng)
    plan: list[tuple[str, Sequence[str], Iterator[tuple[Any, ...]]]] = [
        ("customers", CUSTOMER_COLUMNS, customer_rows(customers, rng)),
        ("contacts", CONTACT_COLUMNS, contact_rows(customers, rng)),
        ("tickets", TICKET_COLUMNS, iter(tables["tickets"])),
        ("ticket_members", MEMBER_COLUMNS, iter(tables["ticket_members"])),
        ("entries", ENTRY_COLUMNS, iter(tables["entries"])),
        ("tasks", TASK_COLUMNS, iter(tables["tasks"])),
        ("playbook_versions", ("playbook", "version", "hash", "text", "loaded_at"),
         iter([(pb.id, pb.version, pb.hash, pb.text, stamp(AT))
               for pb in library.playbooks.values()])),
    ]
    pg = url.startswith("postgresql")
    for table, columns, rows in plan:
        if pg:
            load_postgres(url, table, columns, rows)
        else:
            load_sqlite(Path(sa.engine.make_url(url).database or ""), table, columns, rows)
    if pg:
        with psycopg.connect(url, autocommit=True) as conn:
            for table in ("tickets", "entries", "tasks"):
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT max(id) FROM {table}))".encode())
            conn.execute(b"VACUUM ANALYZE")
    engine = make_engine(url)
    with engine.begin() as conn:
        token = add_user(conn, "bench_agent", ["agent:store"], AT)
    engine.dispose()
    print(f"view: built {customers:,} customers, {len(tables['ticket_members']):,} members, "
          f"{len(tables['entries']):,} entries, {len(tables['tasks']):,} tasks, "
          f"{customers * TRAJECTORY:,} contacts in {time.perf_counter() - started:.0f}s",
          flush=True)
    return token


def library_of(root: Path, config: Config, shipped: Path) -> tuple[Path, Library]:
    folder = write_library(root, shipped)
    here = dataclasses.replace(config, folders=Folders(folder / "rules", folder / "workflows"))
    return folder, load_library(here)
