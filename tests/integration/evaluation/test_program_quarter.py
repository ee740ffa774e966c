"""A full simulated quarter (90 days, the shipped library) with config.yaml `global_control:
0.1`: no global-control customer ever gets a task of a marketing playbook, each marketing
sweep that matched one set them aside (suppressed `global_control`), while the care
playbooks (birthday greetings, VIP care) still reach them, and those tickets are recorded
as exempt. The program report over the quarter then compares real arms. SQLite only: the
loop is the one tests/integration/simulation/test_simulate.py runs on both databases; this test is
about who is contacted over a long run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from support.cli import CONFIG, run

from adapters.db.engines import make_engine
from adapters.db.schema import customers, tasks, ticket_members, tickets
from adapters.evaluation import program
from engine.config_loader import load_config
from engine.playbooks.selection import EXEMPT_CLASSES, in_global_control

SHARE = 0.1


def test_a_quarter_with_a_global_control(tmp_path: Path, sqlite_url: str) -> None:
    text = CONFIG.read_text(encoding="utf-8")
    assert "\nglobal_control: 0 " in text
    config_path = tmp_path / "config.yaml"
    config_path.write_text(text.replace("\nglobal_control: 0 ", f"\nglobal_control: {SHARE} "),
                           encoding="utf-8")
    result = run(CliRunner(), "simulate", "--customers", "400", "--days", "90", "--seed", "2",
                 "--start", "2026-09-01", "--auto-approve", "--effect", "*=0.1",
                 "--db", sqlite_url, config=config_path)
    assert result.exit_code == 0, result.output
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            everyone = list(conn.scalars(sa.select(customers.c.id)))
            held = {cid for cid in everyone if in_global_control(cid, SHARE)}
            reached = conn.execute(
                sa.select(tasks.c.customer_id, tickets.c.playbook, tickets.c.contact_class,
                          tickets.c.rehearsal)
                .join(tickets, tickets.c.id == tasks.c.ticket_id)
                .where(tasks.c.customer_id.in_(sorted(held)))).all()
            members = conn.execute(
                sa.select(ticket_members.c.customer_id, ticket_members.c.grp,
                          ticket_members.c.reason, tickets.c.contact_class)
                .join(tickets, tickets.c.id == ticket_members.c.ticket_id)
                .where(ticket_members.c.customer_id.in_(sorted(held)))).all()
            config = load_config(config_path)
            span = program.period("2026-09-01", "2026-11-30", config)
            found = program.report(conn, config, {}, span,
                                   dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC))
    finally:
        engine.dispose()
    assert 25 <= len(held) <= 60  # 10% of 400
    # never a marketing task ...
    assert [row for row in reached if row.contact_class not in EXEMPT_CLASSES] == []
    # ... but the care playbooks still reach them, and their tickets say they are exempt
    assert {row.playbook for row in reached} >= {"birthday"}
    assert all(row.rehearsal["exempt"] and row.rehearsal["exempt"].startswith(
        row.contact_class) for row in reached)
    # a marketing sweep that matched one set them aside, never entered them
    marketing = [m for m in members if m.contact_class not in EXEMPT_CLASSES]
    assert marketing and {(m.grp, m.reason) for m in marketing} == {
        ("suppressed", "global_control")}
    assert found.treated.customers > 100 and found.global_control.customers > 5
    assert found.cost.channels is not None and found.cost.channels > 0
