"""`tend preview` and `tend explain` against a real database, as a designer runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.cli import run

ROOT = Path(__file__).resolve().parents[3]
AT = "2026-11-20"
CUSTOMERS = """\
id,joined_on,arpu,churned_on,tags,opt_out,contract_end,birthday
gold_recent,2019-01-01,200,2026-10-01,,,,
gold_91_days,2019-01-01,200,2026-08-21,,,,
gold_90_days,2019-01-01,200,2026-08-22,,,,
diamond_today,2019-01-01,350,2026-11-20,,,,
silver_recent,2019-01-01,100,2026-10-01,,,,
no_winback,2019-01-01,200,2026-10-01,do_not_winback,,,
opted_out,2019-01-01,200,2026-10-01,,all,,
renewing,2019-01-01,90,,,,2026-12-31,
birthday_today,2019-01-01,90,,,,,1990-11-20
"""
EVENTS = [
    {"id": "e1", "customer_id": "renewing", "type": "zero_usage", "at": "2026-11-19T10:00:00",
     "data": {"days": 9}},
    {"id": "e2", "customer_id": "birthday_today", "type": "zero_usage",
     "at": "2026-11-12T10:00:00", "data": {"days": 9}},
    {"id": "e3", "customer_id": "gold_recent", "type": "zero_usage", "at": "2026-11-19T10:00:00",
     "data": {"days": 2}},
]


@pytest.fixture
def tend(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TEND_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    (tmp_path / "events.jsonl").write_text("\n".join(json.dumps(e) for e in EVENTS) + "\n")
    runner = CliRunner()
    assert run(runner, "import", "customers", "customers.csv").exit_code == 0
    assert run(runner, "import", "events", "events.jsonl").exit_code == 0
    return runner


def preview(runner: CliRunner, playbook: str) -> dict[str, object]:
    result = run(runner, "preview", playbook, "--at", AT, "--json")
    assert result.exit_code == 0, result.stderr
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_winback_boundaries_exclusion_and_opt_out(tend: CliRunner) -> None:
    got = preview(tend, "winback")
    assert got["playbook"] == "winback" and got["at"] == "2026-11-20T00:00:00+08:00"
    assert got["matched"] == ["diamond_today", "gold_90_days", "gold_recent", "opted_out"]
    assert got["suppressed"] == {"opted_out": ["opted_out"]}
    groups = sorted([*got["treatment"], *got["control"]])  # type: ignore[misc]
    assert groups == ["diamond_today", "gold_90_days", "gold_recent"]
    assert got["steps"] == {"call": sum(1 for c in got["treatment"]  # type: ignore[attr-defined]
                                        if c == "diamond_today"),
                            "sms": len(got["treatment"])}  # type: ignore[arg-type]


def test_preview_counts_the_treatment_each_named_offer_is_eligible_for(
        tend: CliRunner) -> None:
    got = preview(tend, "winback")
    treated = len(got["treatment"])  # type: ignore[arg-type]
    assert got["offers"] == {"call": {"winback_credit": treated},
                             "sms": {"winback_credit": treated}}
    renewal = run(tend, "preview", "renewal", "--at", AT)
    assert renewal.exit_code == 0, renewal.stderr
    call = next(line for line in renewal.stdout.splitlines() if line.strip().startswith("call"))
    assert "(eligible: renew_discount " in call
    assert "offers" not in preview(tend, "birthday")  # names none


def test_event_playbook_replays_only_the_last_seven_days(tend: CliRunner) -> None:
    got = preview(tend, "zero_usage_alert")
    assert got["matched"] == ["renewing"]


def test_text_preview_shows_counts_per_step(tend: CliRunner) -> None:
    result = run(tend, "preview", "birthday", "--at", AT)
    assert result.exit_code == 0, result.stderr
    assert "matched             1" in result.stdout
    assert "greeting" in result.stdout and "birthday_today" in result.stdout
    assert "power       detects nothing at 80% power, base rate 5.0% (default)" in result.stdout
    assert "warning     treatment 1 and control 0 can never tell an effect apart" in result.stdout


def test_draft_file_is_previewed_without_installing(tend: CliRunner, tmp_path: Path) -> None:
    draft = (ROOT / "rules" / "winback.yaml").read_text().replace(
        "playbook: winback", "playbook: winback_silver").replace(
        "tier: {in: [gold, diamond]}", "tier: {in: [silver]}")
    (tmp_path / "draft.yaml").write_text(draft)
    got = preview(tend, "draft.yaml")
    assert got["playbook"] == "winback_silver" and got["matched"] == ["silver_recent"]
    listed = run(tend, "preview", "winback_silver", "--at", AT)
    assert listed.exit_code == 1 and "unknown playbook 'winback_silver'" in listed.stderr


def test_broken_draft_names_its_line(tend: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(
        (ROOT / "rules" / "winback.yaml").read_text().replace("within_last: 90d", "within: 90d"))
    result = run(tend, "preview", "broken.yaml", "--at", AT)
    assert result.exit_code == 1
    assert result.stderr.startswith("broken.yaml:")
    assert "unknown operator 'within'" in result.stderr


def test_explain_shows_failed_conditions_with_values(tend: CliRunner) -> None:
    result = run(tend, "explain", "gold_91_days", "--playbook", "winback", "--at", AT)
    assert result.exit_code == 0, result.stderr
    assert "winback v3" in result.stdout and "not matched" in result.stdout
    assert "✗ churned_on within_last 90d   (actual: 2026-08-21)" in result.stdout
    assert "✓ tier in [gold, diamond]   (actual: gold)" in result.stdout


def test_explain_json_of_an_event_playbook_uses_the_latest_event(tend: CliRunner) -> None:
    result = run(tend, "explain", "renewing", "--playbook", "zero_usage_alert", "--at", AT,
                 "--json")
    assert result.exit_code == 0, result.stderr
    verdict = json.loads(result.stdout)["playbooks"][0]
    assert verdict["matched"] is True
    assert verdict["audience"]["parts"][0] == {
        "condition": "event.data.days gte 7", "held": True, "actual": 9, "ok": True,
        "text": {"en": "days at least 7", "zh": "天数不低于 7"}}


@pytest.mark.parametrize(("args", "message"), [
    (("explain", "nobody", "--at", AT), "no customer 'nobody'"),
    (("preview", "winback", "--at", "2026-13-01"), "--at: expected YYYY-MM-DD"),
    (("preview", "nope", "--at", AT), "unknown playbook 'nope'"),
])
def test_mistakes_are_messages_with_exit_1(tend: CliRunner, args: tuple[str, ...],
                                           message: str) -> None:
    result = run(tend, *args)
    assert result.exit_code == 1 and message in result.stderr


def test_preview_needs_a_playbook_or_all(tend: CliRunner) -> None:
    result = run(tend, "preview")
    assert result.exit_code == 2 and "give a PLAYBOOK or --all" in result.stderr


def test_a_contact_playbook_previews_who_would_enter_if_they_contacted_us(
        tend: CliRunner) -> None:
    Path("inbound.csv").write_text("id,joined_on,arpu,churn_score\n"
                                   "caller,2019-01-01,120,0.8\ncalm,2019-01-01,120,0.1\n")
    assert run(tend, "import", "customers", "inbound.csv").exit_code == 0
    got = preview(tend, "retention_inbound")
    assert got["matched"] == ["caller"] and got["suppressed"] == {}
    text = run(tend, "preview", "retention_inbound", "--at", AT)
    assert "trigger     contact on hotline, store, online (who would enter if they " \
           "contacted us now)" in text.stdout
    explained = run(tend, "explain", "caller", "--playbook", "retention_inbound", "--at", AT,
                    "--json")
    assert explained.exit_code == 0, explained.stderr
    [verdict] = json.loads(explained.stdout)["playbooks"]
    assert verdict["trigger"] == "contact hotline, store, online"
    assert verdict["matched"] is True and verdict["group"] in ("treatment", "control")
    refused = run(tend, "sweep", "--at", AT, "--playbook", "retention_inbound")
    assert refused.exit_code != 0 and "triggered by contacts on hotline" in refused.stderr
