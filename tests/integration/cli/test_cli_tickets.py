"""`tend sweep`, `tend users add` and `tend report` as an operator runs them."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.cli import run
from support.folders import rules_in

from adapters.access.users import user_for_token
from adapters.db.engines import make_engine

ROOT = Path(__file__).resolve().parents[3]
CUSTOMERS = """\
id,joined_on,arpu,churned_on
gold_recent,2019-01-01,200,2026-10-01
diamond_recent,2019-01-01,350,2026-10-01
"""


@pytest.fixture
def tend(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TEND_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    runner = CliRunner()
    assert run(runner, "import", "customers", "customers.csv").exit_code == 0
    return runner


def test_sweep_once_per_instant_then_report(tend: CliRunner) -> None:
    first = run(tend, "sweep", "--at", "2026-11-20T09:00:00")
    assert first.exit_code == 0, first.stderr
    winback = [line for line in first.stdout.splitlines() if ": winback v3 planned" in line]
    assert len(winback) == 1 and "treatment" in winback[0]
    again = run(tend, "sweep", "--at", "2026-11-20T09:00:00")
    assert again.exit_code == 0
    assert "winback (window 2026-11-20T09:00+08:00)" in again.stdout
    assert "winback" in again.stdout and "planned" not in again.stdout
    ticket = winback[0].split(":")[0].split()[1]
    report = run(tend, "report", ticket)
    assert report.exit_code == 0, report.stderr
    assert f"ticket {ticket}: winback v3 — planned" in report.stdout
    assert "waiting for level 1" in report.stdout and "plan: - → planned" in report.stdout
    assert "power       detects " in report.stdout and "base rate 5.0% (default)" in report.stdout
    missing = run(tend, "report", "999")
    assert missing.exit_code == 1 and "no ticket 999" in missing.stderr


def test_a_sweep_plans_only_windows_not_yet_swept_and_playbook_forces_one(
        tend: CliRunner) -> None:
    """The monthly (day 1) playbook was planned by one sweep mid-month and superseded by the
    next sweep five minutes later: a window is planned once, keyed by its fire."""
    first = run(tend, "sweep", "--at", "2026-12-16T10:00")
    assert first.exit_code == 0, first.stderr
    assert ": high_value_upsell v2 planned" in first.stdout
    later = run(tend, "sweep", "--at", "2026-12-16T10:05")
    assert later.exit_code == 0, later.stderr
    assert "planned" not in later.stdout
    assert "high_value_upsell (window 2026-12-01T09:00+08:00)" in later.stdout
    forced = run(tend, "sweep", "--at", "2026-12-16T10:05", "--playbook", "high_value_upsell")
    assert forced.exit_code == 0, forced.stderr
    assert [line.split(": ", 1)[1].split(",")[0] for line in forced.stdout.splitlines()
            if line.startswith("ticket ")] == ["high_value_upsell v2 planned"]
    report = run(tend, "report", forced.stdout.split(":")[0].split()[1])
    assert "by system (manual)" in report.stdout, report.stdout
    again = run(tend, "sweep", "--at", "2026-12-16T10:05", "--playbook", "high_value_upsell")
    assert "already planned at 2026-12-16T10:05:00+08:00: high_value_upsell" in again.stdout
    unknown = run(tend, "sweep", "--playbook", "nope")
    assert unknown.exit_code == 1 and "unknown playbook 'nope'" in unknown.stderr
    next_month = run(tend, "sweep", "--at", "2027-01-01T09:00")
    assert ": high_value_upsell v2 planned" in next_month.stdout


def test_users_add_prints_the_token_last(tend: CliRunner, db_url: str) -> None:
    added = run(tend, "users", "add", "bob", "--role", "campaign_lead", "--role", "viewer")
    assert added.exit_code == 0, added.stderr
    token = added.stdout.splitlines()[-1]
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            user = user_for_token(conn, token, dt.datetime.now(dt.UTC))
    finally:
        engine.dispose()
    assert user is not None and user.roles == {"campaign_lead", "viewer"}
    wrong = run(tend, "users", "add", "eve", "--role", "boss")
    assert wrong.exit_code == 1 and "unknown role(s) 'boss'" in wrong.stderr
    again = run(tend, "users", "add", "bob", "--role", "viewer")
    assert again.exit_code == 1 and "exists already" in again.stderr


@pytest.mark.parametrize("at", ["0001-12-31", "9999-01-01", "9999-12-31T23:00:00-05:00"])
def test_an_instant_at_the_edge_of_the_calendar_is_refused(tend: CliRunner, at: str) -> None:
    """Sweeps look a week back and a year ahead (birthdays): such an `--at` used to crash."""
    for args in (("sweep",), ("preview", "birthday"), ("explain", "gold_recent")):
        result = run(tend, *args, "--at", at)
        assert result.exit_code == 1 and "--at" in result.stderr, (args, result.stderr)


def test_a_cooldown_longer_than_the_calendar_sweeps(tend: CliRunner, tmp_path: Path) -> None:
    """`cooldown: 900000d` validates, so `at - cooldown` must not overflow when sweeping."""
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copytree(ROOT / "rules" / "offers", rules / "offers")  # winback names an offer
    text = (ROOT / "rules" / "winback.yaml").read_text()
    (rules / "winback.yaml").write_text(text.replace("cooldown: 90d", "cooldown: 900000d"))
    result = run(tend, "sweep", "--at", "2026-11-20T09:00:00", folders=rules_in(rules))
    assert result.exit_code == 0, result.stderr
    assert ": winback v3 planned" in result.stdout
