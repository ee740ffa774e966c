"""`tend program`: the report as a table and as JSON, the same figures as the service; a bad
period is a message naming the option and exit 1, never a traceback."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from support.cli import run
from support.program_seed import seed

from adapters.db.engines import make_engine


@pytest.fixture
def seeded(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    engine = make_engine(sqlite_url)
    seed(engine)
    engine.dispose()
    monkeypatch.setenv("TEND_DATABASE_URL", sqlite_url)
    return sqlite_url


def test_the_table_shows_both_arms_the_uplift_in_points_and_the_cost(seeded: str) -> None:
    result = run(CliRunner(), "program", "--from", "2026-11-01", "--to", "2026-12-01")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Program vs global control, 2026-11-01 to 2026-12-01 (excluded)" in out
    assert "25.0%" in out and "33.3%" in out        # the arms' conversion rates
    assert "-8.3 pts [" in out                      # the uplift with its interval
    assert "102.55" in out and "unpriced offers (counted as free): mystery" in out
    assert "no revenue" in out


def test_json_is_the_service_s_report(seeded: str) -> None:
    result = run(CliRunner(), "program", "--from", "2026-11-01", "--to", "2026-12-01",
                 "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["treated"]["customers"] == 4 and found["global_control"]["conversions"] == 1
    assert found["to"] == "2026-12-01" and found["cost"]["unpriced_offers"] == ["mystery"]


@pytest.mark.parametrize(("args", "says"), [
    (["--to", "2026-12-01"], "--from: missing"),
    (["--from", "2026-11-01"], "--to: missing"),
    (["--from", "2026-11-01", "--to", "2026-02-30"], "--to: expected a date"),
    (["--from", "2026-12-01", "--to", "2026-11-01"], "--to: must be after --from"),
])
def test_a_bad_period_names_the_option(seeded: str, args: list[str], says: str) -> None:
    result = run(CliRunner(), "program", *args)
    assert result.exit_code == 1 and says in result.stderr and not result.stdout
