"""Assignment (划配) on both databases: a demo import is balanced across the rules' managers
within the tolerance and audited; a dry run writes nothing; `tend assign` shows and applies."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from support.cli import CONFIG, run

from adapters.db.engines import make_engine
from adapters.db.schema import assignments, customers
from adapters.intake import assignment
from adapters.intake.customer_import import import_customers
from adapters.intake.demo_files import demo_spec, write_demo
from engine.config import Config
from engine.tasks.assignment import AssignmentRules, Rule

NOW = dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC)  # 23:30 on New Year's Eve, Shanghai
EAST = frozenset({"shanghai", "jiangsu", "zhejiang"})
RULES = AssignmentRules((
    Rule("vip_east", ("e1", "e2"), frozenset({"gold", "diamond"}), "region", EAST),
    Rule("vip", ("v1", "v2", "v3"), frozenset({"gold", "diamond"})),
    Rule("silver", ("s1", "s2", "s3", "s4"), frozenset({"silver"})),
), tolerance=2)
SECTION = """assignment:
  tolerance: 2
  rules:
    - {rule: vip_east, tiers: [gold, diamond], where: {region: [shanghai, jiangsu, zhejiang]},
       managers: [e1, e2]}
    - {rule: vip, tiers: [gold, diamond], managers: [v1, v2, v3]}
    - {rule: silver, tiers: [silver], managers: [s1, s2, s3, s4]}

"""


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, config: Config) -> Path:
    out = tmp_path_factory.mktemp("demo")
    return write_demo(demo_spec(config, 600, 0, 7, NOW.date()), out).customers


def managers(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        return {row[0]: row[1] for row in conn.execute(
            sa.select(customers.c.id, customers.c.manager))}


def audit_rows(engine: Engine) -> list[tuple[str, str, str, str]]:
    with engine.connect() as conn:
        return [(r.customer_id, r.manager, r.rule, r.by) for r in conn.execute(
            sa.select(assignments).order_by(assignments.c.id))]


def test_an_import_is_balanced_across_the_managers_within_the_tolerance(
        engine: Engine, config: Config, demo: Path) -> None:
    ruled = dataclasses.replace(config, assignment=RULES)
    result = import_customers(engine, ruled, demo, report=lambda p: None, now=NOW)
    assert result.assigned > 0
    assert f"{result.assigned} customer(s) assigned a manager" in "\n".join(result.summary())
    held = collections.Counter(m for m in managers(engine).values() if m is not None)
    for rule in RULES.rules:
        counts = [held[m] for m in rule.managers]
        assert max(counts) - min(counts) <= RULES.tolerance, (rule, counts)
    assert sum(held[m] for m in RULES.rules[2].managers) > 50  # silver: nobody had one
    audit = audit_rows(engine)
    assert len(audit) == result.assigned and {row[3] for row in audit} == {"import"}
    stored = managers(engine)
    assert all(stored[customer] == manager for customer, manager, _, _ in audit)
    assert {rule for _, _, rule, _ in audit} == {"vip_east", "vip", "silver"}
    # nothing left to do: a second run assigns nobody
    with engine.begin() as conn:
        assert assignment.assign(conn, ruled, NOW, "daily") == []


def test_a_dry_run_writes_nothing_and_the_daily_run_applies(
        engine: Engine, config: Config, demo: Path) -> None:
    import_customers(engine, config, demo, report=lambda p: None, now=NOW)  # no rules
    before = managers(engine)
    ruled = dataclasses.replace(config, assignment=RULES)
    with engine.begin() as conn:
        planned = assignment.assign(conn, ruled, NOW, "cli", dry_run=True)
    assert planned and managers(engine) == before and audit_rows(engine) == []
    assert all(before[a.customer] is None for a in planned)
    assert assignment.daily(engine, ruled, NOW) == len(planned)
    after = managers(engine)
    assert {a.customer: a.manager for a in planned} == {
        c: m for c, m in after.items() if before[c] is None and m is not None}
    assert [(c, m, r) for c, m, r, _ in audit_rows(engine)] == [
        (a.customer, a.manager, a.rule) for a in planned]


def test_tend_assign_shows_then_applies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        demo: Path) -> None:
    monkeypatch.setenv("TEND_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)
    tend = CliRunner()
    assert run(tend, "db", "upgrade").exit_code == 0
    assert run(tend, "import", "customers", str(demo)).exit_code == 0
    shipped = CONFIG.read_text(encoding="utf-8")
    start, end = shipped.index("assignment:"), shipped.index("roles: [campaign_lead")
    ruled = tmp_path / "config.yaml"
    ruled.write_text(shipped[:start] + SECTION + shipped[end:], encoding="utf-8")
    dry = run(tend, "assign", "--dry-run", config=ruled)
    assert dry.exit_code == 0, dry.output
    count = int(dry.stdout.splitlines()[-1].split()[0])
    assert count > 0 and "(dry run: nothing written)" in dry.stdout
    assert "customer" in dry.stdout and "vip_east" in dry.stdout
    again = run(tend, "assign", "--dry-run", config=ruled)
    assert again.stdout == dry.stdout  # the dry run changed nothing
    applied = run(tend, "assign", config=ruled)
    assert applied.stdout.splitlines()[-1] == f"{count} customer(s) assigned a manager"
    done = run(tend, "assign", "--dry-run", config=ruled)
    assert done.stdout.splitlines()[-1].startswith("0 customer(s) would be assigned")
    bad = tmp_path / "bad.yaml"
    bad.write_text(shipped[:start] + SECTION.replace("[silver]", "[platinum]")
                   + shipped[end:], encoding="utf-8")
    refused = run(tend, "assign", config=bad)
    assert refused.exit_code != 0 and "unknown tier 'platinum'" in refused.output
    assert f"{bad}:" in refused.output


def test_the_scheduler_assigns_once_a_local_day(engine: Engine, config: Config,
                                                 demo: Path) -> None:
    from adapters.tickets.scheduler import Scheduler
    from engine.clock import FixedClock

    import_customers(engine, config, demo, report=lambda p: None, now=NOW)  # no rules
    ruled = dataclasses.replace(config, assignment=RULES)
    clock = FixedClock(NOW)
    leader = Scheduler(engine, ruled, "a", dt.timedelta(seconds=30), clock)
    leader.tick()
    first = audit_rows(engine)
    assert first and {row[3] for row in first} == {"daily"}
    with engine.begin() as conn:  # an import clears one customer's manager later that day
        conn.execute(sa.update(customers).where(customers.c.id == first[0][0])
                     .values(manager=None))
    clock.advance(dt.timedelta(minutes=20))  # 23:50: the same local day
    leader.tick()
    assert audit_rows(engine) == first
    clock.advance(dt.timedelta(minutes=20))  # 00:10 on 1 January
    leader.tick()
    assert audit_rows(engine)[len(first):] == [(*first[0][:3], "daily")]
