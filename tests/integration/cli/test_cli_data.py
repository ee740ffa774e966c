"""`tend db upgrade`, `tend import`, `tend demo-data` as a user runs them: exit codes and
messages, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from support.cli import run

ROOT = Path(__file__).resolve().parents[3]
CONFIG = str(ROOT / "config.yaml")


@pytest.fixture
def tend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TEND_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def test_import_before_db_upgrade_says_what_to_do(tend: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("id,joined_on\nc1,2024-01-01\n")
    result = run(tend, "import", "customers", "c.csv")
    assert result.exit_code == 1
    assert "no such table: customers" in result.stderr
    assert "tend db upgrade" in result.stderr


def test_demo_data_round_trip(tend: CliRunner, tmp_path: Path) -> None:
    assert run(tend, "db", "upgrade").exit_code == 0
    made = run(tend, "demo-data", "--customers", "200", "--events", "30", "--seed", "4",
               "--at", "2026-05-20", "--out", "demo")
    assert made.exit_code == 0
    assert "wrote 200 customers" in made.stdout and "30 events" in made.stdout
    customers = run(tend, "import", "customers", "demo/customers.csv")
    assert customers.exit_code == 0, customers.stderr
    assert "200 rows read, 200 inserted, 0 updated, 0 bad" in customers.stdout
    events = run(tend, "import", "events", "demo/events.jsonl", "--no-trigger")
    assert events.exit_code == 0, events.stderr
    assert "30 events read, 30 stored" in events.stdout
    assert "triggered:" not in events.stdout  # a backfill triggers nothing


def test_imported_events_trigger_playbooks_unless_backfilled(tend: CliRunner,
                                                             tmp_path: Path) -> None:
    """docs/DATA.md: `tend import events` matches new events as POST /events does."""
    assert run(tend, "db", "upgrade").exit_code == 0
    run(tend, "demo-data", "--customers", "200", "--events", "30", "--seed", "4",
        "--at", "2026-05-20", "--out", "demo")
    run(tend, "import", "customers", "demo/customers.csv")
    events = run(tend, "import", "events", "demo/events.jsonl")
    assert events.exit_code == 0, events.stderr
    assert "triggered: 0 tasks, 9 x older than trigger_max_age" in events.stdout  # May's
    again = run(tend, "import", "events", "demo/events.jsonl")  # stored: never twice
    assert "triggered:" not in again.stdout


def test_bad_rows_exit_1_after_loading_the_good_ones(tend: CliRunner, tmp_path: Path) -> None:
    run(tend, "db", "upgrade")
    (tmp_path / "bad.csv").write_text("id,joined_on,arpu\nc1,2024-01-01,1\nc2,2024-01-01,x\n")
    result = run(tend, "import", "customers", "bad.csv")
    assert result.exit_code == 1
    assert result.stderr == "bad.csv:3:3: column 'arpu': expected a number, got 'x'\n"
    assert "2 rows read, 1 inserted, 0 updated, 1 bad" in result.stdout
    strict = run(tend, "import", "customers", "bad.csv", "--strict")
    assert strict.exit_code == 1 and "nothing written" in strict.stdout
    (tmp_path / "e.jsonl").write_text('{"customer_id": "c1", "type": "arrears", "at": 5}\n')
    events = run(tend, "import", "events", "e.jsonl")
    assert events.exit_code == 1
    assert events.stderr == "e.jsonl:1: field 'at': expected a non-empty string, got 5\n"


def test_file_level_mistakes_are_messages(tend: CliRunner, tmp_path: Path) -> None:
    run(tend, "db", "upgrade")
    missing = run(tend, "import", "customers", "nowhere.csv")
    assert missing.exit_code == 1
    assert missing.stderr == "nowhere.csv: cannot read: No such file or directory\n"
    (tmp_path / "h.csv").write_text("id,name\n")
    header = run(tend, "import", "customers", "h.csv")
    assert (header.exit_code, header.stderr) == (1, "h.csv: missing required column "
                                                    "'joined_on'\n")
    bad_at = run(tend, "demo-data", "--customers", "1", "--at", "May 1st", "--out", "d")
    assert bad_at.exit_code == 2 and "--at" in bad_at.stderr


def test_an_event_line_nested_3000_deep_is_a_message_and_the_rest_load(
        tend: CliRunner, tmp_path: Path) -> None:
    run(tend, "db", "upgrade")
    good = '{"customer_id": "c1", "type": "arrears", "at": "2026-05-01"}\n'
    (tmp_path / "deep.jsonl").write_text(good + "[" * 3000 + "]" * 3000 + "\n" + good)
    result = run(tend, "import", "events", "deep.jsonl", "--no-trigger")
    assert result.exit_code == 1
    assert result.stderr == "deep.jsonl:2: JSON nested deeper than 64 levels\n"
    assert "3 events read, 2 stored" in result.stdout
