"""Designer test cases: the shipped ones pass, failures say where and why, and the designer
commands exit with the right code and never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from support.cli import run

from engine.config import Config
from engine.playbooks.caserun import groups_of, run_case
from engine.playbooks.library import check_paths

ROOT = Path(__file__).resolve().parents[3]
TESTS = ROOT / "rules" / "tests"
BAD = ROOT / "tests" / "fixtures" / "bad"

FAILING = """\
playbook: winback
cases:
  - name: a wrong expectation
    at: 2026-11-20
    customers:
      - {id: in, joined_on: 2020-01-01, arpu: 200, churned_on: 2026-10-01}
      - {id: silver, joined_on: 2020-01-01, arpu: 100, churned_on: 2026-10-01}
      - {id: tagged, joined_on: 2020-01-01, arpu: 200, churned_on: 2026-10-01,
         tags: [do_not_winback]}
    expect:
      selected: [silver, tagged]
      skipped: [silver, tagged]
      steps: {call: [in]}
"""


def tend(*args: str) -> Result:
    return run(CliRunner(), *args)


def test_every_shipped_playbook_has_passing_cases(config: Config) -> None:
    checked = check_paths([TESTS], config)
    assert checked.problems == ()
    outcomes = [run_case(case, config) for case in checked.cases]
    assert [o.lines() for o in outcomes if not o.passed] == []
    tested = {case.playbook.id for case in checked.cases}
    assert tested == set(checked.library.playbooks)


def test_a_failing_case_names_the_expectation_and_the_reasons(config: Config,
                                                              tmp_path: Path) -> None:
    path = tmp_path / "failing.yaml"
    path.write_text(FAILING)
    (case,) = check_paths([path], config).cases
    outcome = run_case(case, config)
    assert not outcome.passed
    assert outcome.lines() == [
        f"FAIL {path}:3 a wrong expectation",
        f"  {path}:11:7: selected: expected [silver, tagged], got [in]",
        "    silver missing: skipped: audience false: tier in [gold, diamond] (value: silver)",
        "    tagged missing: excluded by tags contains do_not_winback",
        "    in unexpected: selected (treatment)",
        f"  {path}:13:15: steps.call: expected [in], got []",
        "    in missing: step 'call' skips them: tier eq diamond (value: gold)",
    ]


def test_event_cases_take_only_customers_with_an_event(config: Config,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "alert.yaml"
    path.write_text("""\
playbook: competitor_call_alert
cases:
  - name: events decide the candidates
    at: 2026-11-20T09:00:00+08:00
    customers:
      - {id: a, joined_on: 2020-01-01, arpu: 200}
      - {id: b, joined_on: 2020-01-01, arpu: 200}
    events:
      - {customer_id: a, data: {minutes: 1}}
      - {customer_id: a, data: {minutes: 5}, at: 2026-11-20T08:30:00+08:00}
    expect: {selected: [a]}
""")
    (case,) = check_paths([path], config).cases
    groups, why = groups_of(case, config)
    assert groups["selected"] == {"a"} and groups["skipped"] == {"b"}
    assert why["b"] == "skipped: no competitor_call event"


def test_validate_prints_a_summary_per_file() -> None:
    result = tend("validate")
    assert result.exit_code == 0, result.output
    assert "rules/winback.yaml: OK, playbook winback version 3" in result.stdout
    assert "workflows/high_value.yaml: OK, workflow high_value" in result.stdout
    assert "rules/offers/prepay_168.yaml: OK, offer prepay_168 version 1" in result.stdout
    assert result.stdout.splitlines()[-1] == "41 file(s) OK"


@pytest.mark.parametrize("name", ["yaml_syntax.yaml", "unknown_names.yaml", "cases_events.yaml",
                                  "not_a_mapping.yaml", "missing.yaml"])
def test_validate_reports_problems_without_a_traceback(name: str) -> None:
    result = tend("validate", str(BAD / name))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.startswith(f"{BAD / name}:")
    assert result.stderr.splitlines()[-1].endswith("problem(s)")


def test_validate_warns_of_retries_the_caps_never_let_through(tmp_path: Path) -> None:
    """The cap config.yaml shipped before: 2 calls a week, while the playbooks retry calls
    two or three times. The shipped library is clean against today's config.yaml."""
    shipped = (ROOT / "config.yaml").read_text(encoding="utf-8")
    tight = tmp_path / "config.yaml"
    tight.write_text(re.sub(r"\{channel: outbound_call, max: \d+, per: 7d\}",
                            "{channel: outbound_call, max: 2, per: 7d}", shipped))
    result = tend("--config", str(tight), "validate")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "41 file(s) OK, 7 warning(s)"
    winback = ROOT / "rules" / "winback.yaml"
    line = winback.read_text().splitlines().index(
        "    retry: {on: [no_answer], times: 2, after: 1d}") + 1
    assert (f"rules/winback.yaml:{line}:5: warning: step 'call' makes up to 3 outbound_call "
            f"contacts within 1w (1 send + 2 retries 1d apart), but the cap 'outbound_call: "
            f"at most 2 per 1w'") in result.stderr
    assert "the last 1 can never be sent (suppressed by frequency_cap)" in result.stderr
    clean = tend("validate")
    assert "warning" not in clean.output and clean.exit_code == 0


def test_validate_with_a_bad_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("tiers: []\n")
    result = tend("--config", str(config), "validate")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{config}:1:1: tiers:" in result.stderr


def test_tend_test_passes_on_the_shipped_cases() -> None:
    result = tend("test")
    assert result.exit_code == 0, result.output
    assert "PASS " in result.stdout and "FAIL " not in result.stdout
    assert result.stdout.splitlines()[-1].endswith(" passed, 0 failed")


def test_tend_test_fails_with_the_place_of_the_expectation(tmp_path: Path) -> None:
    path = tmp_path / "failing.yaml"
    path.write_text(FAILING)
    result = tend("test", str(path))
    assert result.exit_code == 1
    assert f"{path}:11:7: selected: expected" in result.stdout
    assert result.stdout.splitlines()[-1] == "cases: 0 passed, 1 failed"


def test_tend_test_refuses_invalid_cases() -> None:
    result = tend("test", str(BAD / "cases_customers.yaml"))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "unknown customer field 'shoe_size'" in result.stderr
