"""Customer and event imports on SQLite and PostgreSQL: what is stored, what is reported."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.db.engines import load_customer, make_engine, stream_customers
from adapters.db.schema import events
from adapters.intake.customer_import import CustomerImport, import_customers
from adapters.intake.event_import import import_events
from engine.config import Config
from engine.errors import Problem, ValidationError
from engine.event import Event, StoredEvent, check_event

NOW = dt.datetime(2026, 5, 8, 4, tzinfo=dt.UTC)  # when the test's files arrive
@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(engine: Engine, config: Config, path: Path, **options: Any,
         ) -> tuple[CustomerImport, list[str]]:
    problems: list[Problem] = []
    result = import_customers(engine, config, path, report=problems.append, **options, now=NOW)
    return result, [str(dataclasses.replace(p, file=Path(p.file).name)) for p in problems]


def customer(engine: Engine, config: Config, cid: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        return load_customer(conn, config, cid)


def test_postgresql_knows_the_table_size_right_after_an_import(
        pg_url: str, config: Config, tmp_path: Path) -> None:
    """Without statistics PostgreSQL picks scans for the id lookups that follow an import."""
    rows = "".join(f"c{i},2024-01-05\n" for i in range(40))
    engine = make_engine(pg_url)
    try:
        load(engine, config, write(tmp_path, "a.csv", "id,joined_on\n" + rows))
        with engine.connect() as conn:
            known = conn.scalar(sa.text(
                "SELECT reltuples FROM pg_class WHERE relname = 'customers'"))
    finally:
        engine.dispose()
    assert known == 40


def test_upsert_leaves_absent_columns_and_clears_empty_cells(
        engine: Engine, config: Config, tmp_path: Path) -> None:
    first = write(tmp_path, "a.csv",
                  "id,joined_on,name,arpu,tags,opt_out,region,devices\n"
                  "c1,2024-01-05,Ann,120.5,vip;roaming;vip,sms,north,2\n"
                  "c2,2023-02-01,Bo,80,,all,south,1\n")
    result, problems = load(engine, config, first)
    assert (result.read, result.inserted, result.updated, result.bad) == (2, 2, 0, 0)
    assert problems == []
    second = write(tmp_path, "b.csv", "id,joined_on,arpu,region\n"
                                      "c1,2024-01-05,,\n"
                                      "c3,2025-06-30,5,east\n")
    result, problems = load(engine, config, second)
    assert (result.read, result.inserted, result.updated) == (2, 1, 1)
    c1 = customer(engine, config, "c1")
    assert c1 is not None
    assert c1["name"] == "Ann"                      # absent column: unchanged
    assert c1["arpu"] is None                       # empty cell: cleared
    assert c1["tags"] == ("roaming", "vip")         # sorted, de-duplicated
    assert c1["opt_out"] == ("sms",)
    assert c1["attrs"] == {"devices": 2.0}          # region cleared, devices untouched
    c3 = customer(engine, config, "c3")
    assert c3 is not None
    assert c3["attrs"] == {"region": "east"}
    assert c3["name"] is None and c3["tags"] == ()
    assert c3["joined_on"] == dt.date(2025, 6, 30)


def test_typed_attributes_and_undeclared_columns(
        engine: Engine, config: Config, tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv",
                 "id,joined_on,devices,broadband,last_upgrade_on,favourite_colour,shoe\n"
                 "c1,2024-01-05,3,yes,2025-12-01,blue,42\n"
                 "c2,2024-01-05,,false,,red,41\n")
    result, problems = load(engine, config, path)
    assert problems == []
    assert result.ignored_columns == ("favourite_colour", "shoe")
    assert "ignored undeclared columns (not stored): favourite_colour, shoe" in \
        "\n".join(result.summary())
    c1 = customer(engine, config, "c1")
    assert c1 is not None
    assert c1["attrs"] == {"devices": 3.0, "broadband": True,
                           "last_upgrade_on": dt.date(2025, 12, 1)}
    c2 = customer(engine, config, "c2")
    assert c2 is not None
    assert c2["attrs"] == {"broadband": False}


def test_bad_rows_are_reported_by_line_and_column_while_good_rows_load(
        engine: Engine, config: Config, tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv",
                 "id,name,joined_on,arpu,opt_out,devices\n"
                 'c1,"two\nlines",2024-01-01,10,,1\n'     # lines 2-3, good
                 "c2,Bo,2024-01-01,abc,,1\n"               # line 4: arpu
                 "\n"                                       # line 5: blank, skipped
                 "c3,Cy,2024-02-30,10,fax,x\n"             # line 6: three bad cells
                 ",Di,2024-01-01,10,,1\n"                  # line 7: no id
                 "c5,Ed,2024-01-01,10,all\n"               # line 8: a cell short
                 "c6,Fa,2024-01-01,inf,,1\n"               # line 9: not finite
                 "c7,Gu,,1,,1\n"                           # line 10: joined_on required
                 "c8,Ha,2024-01-01,1e2,email;sms,1\n")     # line 11: good
    result, problems = load(engine, config, path)
    assert problems == [
        "bad.csv:4:4: column 'arpu': expected a number, got 'abc'",
        "bad.csv:6:3: column 'joined_on': expected a date YYYY-MM-DD, got '2024-02-30'",
        "bad.csv:6:5: column 'opt_out': unknown channel 'fax', expected sms, outbound_call, "
        "email, push, store, account_manager, all",
        "bad.csv:6:6: column 'devices': expected a number, got 'x'",
        "bad.csv:7:1: column 'id': required, got an empty cell",
        "bad.csv:8:6: expected 6 cells, got 5",
        "bad.csv:9:4: column 'arpu': expected a finite number, got 'inf'",
        "bad.csv:10:3: column 'joined_on': required, got an empty cell",
    ]
    assert (result.read, result.bad, result.inserted) == (8, 6, 2)
    with engine.connect() as conn:
        stored = {c["id"]: c for c in stream_customers(conn, config, batch_size=1)}
    assert sorted(stored) == ["c1", "c8"]
    assert stored["c1"]["name"] == "two\nlines"
    assert stored["c8"]["opt_out"] == ("email", "sms") and stored["c8"]["arpu"] == 100.0


def test_nul_characters_are_bad_cells_on_both_databases(
        engine: Engine, config: Config, tmp_path: Path) -> None:
    """PostgreSQL cannot store NUL in text: each such cell is named, as the API does, rather
    than the whole import failing inside the database."""
    path = write(tmp_path, "nul.csv",
                 "id,name,joined_on,tags,region\n"
                 "c1,Ann,2024-01-01,a;b,north\n"
                 "c2,B\x00o,2024-01-01,,north\n"
                 "c\x003,Cy,2024-01-01,,north\n"
                 "c4,Di,2024-01-01,x\x00;y,so\x00uth\n")
    result, problems = load(engine, config, path)
    assert problems == [
        "nul.csv:3:2: column 'name': expected text without NUL characters",
        "nul.csv:4:1: column 'id': expected text without NUL characters",
        "nul.csv:5:4: column 'tags': expected text without NUL characters",
        "nul.csv:5:5: column 'region': expected text without NUL characters",
    ]
    assert (result.read, result.bad, result.inserted) == (4, 3, 1)
    assert customer(engine, config, "c1") is not None


def test_strict_writes_nothing_when_a_row_is_bad(
        engine: Engine, config: Config, tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "id,joined_on\nc1,2024-01-01\nc2,yesterday\n")
    result, problems = load(engine, config, path, strict=True)
    assert problems == ["s.csv:3:2: column 'joined_on': expected a date YYYY-MM-DD, "
                        "got 'yesterday'"]
    assert not result.written and result.inserted == 0
    assert customer(engine, config, "c1") is None


@pytest.mark.parametrize(("text", "message"), [
    ("id,name\nc1,Ann\n", "h.csv: missing required column 'joined_on'"),
    ("id,joined_on,arpu,arpu\n", "h.csv:1:4: duplicate column 'arpu'"),
    ("", "h.csv: empty file: expected a header line"),
])
def test_header_mistakes_stop_the_import(engine: Engine, config: Config, tmp_path: Path,
                                         text: str, message: str) -> None:
    path = write(tmp_path, "h.csv", text)
    with pytest.raises(ValidationError) as caught:
        load(engine, config, path)
    assert caught.value.message.startswith(message.replace("h.csv", str(path)))


def test_unreadable_and_non_utf8_files_write_nothing(
        engine: Engine, config: Config, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read: No such file"):
        load(engine, config, tmp_path / "missing.csv")
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"id,joined_on\nc1,2024-01-01\n" + b"c2,2024-01-01\n" * 5000
                     + b"c\xe9,2024-01-01\n")
    with pytest.raises(ValidationError, match="cannot read"):
        load(engine, config, path)
    assert customer(engine, config, "c1") is None


def test_last_row_of_a_repeated_id_wins(engine: Engine, config: Config, tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "id,joined_on,plan\nc1,2024-01-01,a\nc1,2024-01-01,b\n")
    result, _ = load(engine, config, path)
    assert (result.inserted, result.updated) == (1, 1)
    assert (customer(engine, config, "c1") or {})["plan"] == "b"


def test_parsing_in_a_child_process_gives_the_same_result(
        engine: Engine, config: Config, tmp_path: Path) -> None:
    rows = "".join(f"c{i},2024-01-{i % 28 + 1:02d},{i}.5,vip,north\n" for i in range(9000))
    path = write(tmp_path, "big.csv", "id,joined_on,arpu,tags,region\n" + rows
                 + "bad,2024-01-01,x,,\n")
    result, problems = load(engine, config, path, background=True)
    assert problems == ["big.csv:9002:3: column 'arpu': expected a number, got 'x'"]
    assert (result.read, result.inserted, result.bad) == (9001, 9000, 1)
    last = customer(engine, config, "c8999")
    assert last is not None
    assert (last["arpu"], last["tags"], last["attrs"]) == (8999.5, ("vip",), {"region": "north"})


def event_lines(*items: Any) -> str:
    return "".join((item if isinstance(item, str) else json.dumps(item)) + "\n"
                   for item in items)


def test_events_repeated_ids_ignored_and_unknown_customers_stored(
        engine: Engine, config: Config, tmp_path: Path) -> None:
    load(engine, config, write(tmp_path, "c.csv", "id,joined_on\nc1,2024-01-01\n"))
    path = write(tmp_path, "e.jsonl", event_lines(
        {"id": "e1", "customer_id": "c1", "type": "zero_usage", "at": "2026-05-01T09:30:00",
         "data": {"days": 14}},
        {"id": "e1", "customer_id": "c1", "type": "zero_usage", "at": "2026-05-02"},
        {"customer_id": "ghost", "type": "plan_cancelled", "at": "2026-05-03T10:00:00+00:00",
         "data": {"reason": "price"}},
        {"customer_id": "c1", "type": "plan_reactivated", "at": "2026-05-04"}))
    seen: list[StoredEvent] = []
    problems: list[Problem] = []
    result = import_events(engine, config, path, report=problems.append, on_stored=seen.extend,
                           now=NOW)
    assert problems == []
    assert (result.read, result.stored, result.repeated) == (4, 3, 1)
    assert (result.unknown_customer_events, result.unknown_customers) == (1, {"ghost"})
    assert [s.event.type for s in seen] == ["zero_usage", "plan_cancelled", "plan_reactivated"]
    assert [s.known_customer for s in seen] == [True, False, True]
    first = seen[0].event
    assert first.at == dt.datetime(2026, 5, 1, 1, 30, tzinfo=dt.UTC)  # Asia/Shanghai, UTC+8
    assert first.data == {"days": 14.0}
    again = import_events(engine, config, path, report=problems.append, on_stored=seen.extend,
                          now=NOW)
    assert (again.stored, again.repeated) == (2, 2)  # id-less events are new every time
    with engine.connect() as conn:
        rows = conn.execute(sa.select(events.c.id, events.c.data, events.c.known_customer)
                            .order_by(events.c.seq)).all()
    assert rows[0] == ("e1", {"days": 14.0}, True)
    assert rows[1] == (None, {"reason": "price"}, False)


def test_bad_event_lines_are_reported_and_strict_writes_nothing(
        engine: Engine, config: Config, tmp_path: Path) -> None:
    path = write(tmp_path, "bad.jsonl", event_lines(
        {"customer_id": "c1", "type": "arrears", "at": "2026-05-01", "data": {"amount": 12}},
        {"customer_id": "c1", "type": "arrears", "at": "soon", "data": {"amount": "12"}},
        "",
        "{not json",
        {"customer_id": "c1", "type": "refund", "at": "2026-05-01", "colour": 1},
        {"type": "arrears", "at": "2026-05-01", "data": {"fee": 1}}))
    problems: list[Problem] = []
    result = import_events(engine, config, path, report=problems.append, strict=True, now=NOW)
    assert [f"{p.line}: {p.message}" for p in problems] == [
        "2: field 'at': expected YYYY-MM-DD or an ISO timestamp, got 'soon'",
        "2: field 'data.amount': expected a number, got '12'",
        "4: invalid JSON: Expecting property name enclosed in double quotes at character 2",
        "5: field 'colour': unknown field, expected one of id, customer_id, type, at, data",
        "5: field 'type': unknown event type 'refund', expected one of arrears, "
        "call_forwarding, competitor_call, contract_ending, contract_renewed, low_balance, "
        "number_kept, plan_cancelled, plan_reactivated, plan_upgraded, pre_disconnect, "
        "task_result, zero_usage",
        "6: field 'customer_id': required",
        "6: field 'data.fee': not declared for event type 'arrears' (declared: amount)",
    ]
    assert (result.read, result.bad, result.stored, result.written) == (5, 4, 0, False)
    problems.clear()
    result = import_events(engine, config, path, report=problems.append, now=NOW)
    assert (result.read, result.bad, result.stored) == (5, 4, 1)
    assert len(problems) == 7


def test_check_event_types_the_data(config: Config) -> None:
    event = check_event({"id": None, "customer_id": "c1", "type": "contract_renewed",
                         "at": "2026-01-01T00:00:00Z", "data": {"months": 24}}, config)
    assert event == Event(None, "c1", "contract_renewed",
                          dt.datetime(2026, 1, 1, tzinfo=dt.UTC), {"months": 24.0})
    assert check_event(["not", "an", "object"], config) == [("event", "expected a JSON object")]
    assert check_event({"customer_id": "c1", "type": "zero_usage", "at": "2026-01-01",
                        "data": {"days": True}}, config) == \
        [("data.days", "expected a number, got True")]


def test_demo_data_imports_without_a_bad_row(engine: Engine, config: Config,
                                             tmp_path: Path) -> None:
    from adapters.intake.demo_files import demo_spec, write_demo

    files = write_demo(demo_spec(config, 3000, 400, 5, dt.date(2026, 5, 20)), tmp_path)
    result, problems = load(engine, config, files.customers)
    assert problems == [] and result.inserted == 3000
    stored = import_events(engine, config, files.events, report=lambda p: None, now=NOW)
    assert (stored.bad, stored.stored, stored.unknown_customer_events) == (0, 400, 0)


@pytest.mark.parametrize("strict", [False, True])
def test_bulk_load_keeps_the_indexes(engine: Engine, config: Config, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch, strict: bool) -> None:
    """A load at least as large as the table rebuilds SQLite's indexes after it (or, rolled
    back, keeps them); the threshold is lowered so a small file takes that path."""
    monkeypatch.setattr("adapters.intake.customer_store.REBUILD_MIN_ROWS", 0)

    def indexes() -> list[tuple[str, list[str]]]:
        found = sa.inspect(engine).get_indexes("customers")
        return sorted((i["name"] or "", list(i["column_names"])) for i in found)

    before = indexes()
    rows = "".join(f"c{i},2024-01-{i % 28 + 1:02d},2025-{i % 12 + 1:02d}-01\n" for i in range(300))
    path = write(tmp_path, "bulk.csv", "id,joined_on,churned_on\n" + rows + "c9,never,\n")
    result, _ = load(engine, config, path, strict=strict)
    assert indexes() == before
    assert result.inserted == (0 if strict else 300)
    if not strict:
        with engine.connect() as conn:
            found = conn.scalar(sa.select(sa.func.count()).select_from(sa.table("customers"))
                                .where(sa.text("churned_on >= '2025-12-01'")))
        assert found == 25
