"""Task exports on both databases: CSV with a BOM for Excel in Chinese and XLSX, the task
lists' filters, phones masked unless the role may see them, a supervisor's own team only,
and streamed: the first bytes leave before the rows are all read."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from support.cli import run
from support.http_api import Api

from adapters.access.users import add_user
from adapters.db.schema import customers, tasks
from adapters.http.state import State
from adapters.tasks import export
from adapters.tasks.listing import task_filters
from engine.clock import Clock, FixedClock

NOW = dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC)
N = 3000
MANAGERS = ("m01", "m02", "m03")


@pytest.fixture
def clock() -> Clock:
    return FixedClock(NOW)


def _task(n: int) -> dict[str, Any]:
    declined = n % 3 == 0
    return {"ticket_id": 1 + n % 2, "entry_id": n, "customer_id": f"c{n:05d}", "step": "call",
            "channel": "account_manager", "route": f"manager:{MANAGERS[n % 3]}",
            "state": "declined" if declined else "pending",
            "idempotency_key": f"{n}:call", "due_at": NOW, "payload": {"template": "t"},
            "created_at": NOW, "updated_at": NOW, "result_at": NOW if declined else None,
            "reason": ("price" if n % 2 else "moved") if declined else None}


@pytest.fixture
def filled(api: Api) -> Api:
    st: State = api.app.extensions["tend"]
    with st.engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": f"c{n:05d}", "name": f"客户{n}", "phone": f"1380000{n:04d}",
             "joined_on": dt.date(2020, 1, 1), "updated_at": NOW} for n in range(1, N + 1)])
        conn.execute(tasks.insert(), [_task(n) for n in range(1, N + 1)])
        api.tokens["supervisor:north"] = add_user(conn, "sup_north", ["supervisor:north"], NOW)
    return api


def _csv(reply: Any) -> list[list[str]]:
    body = reply.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_admin_exports_every_task_as_csv_with_whole_phones(filled: Api) -> None:
    reply = filled.call("GET", "/tasks/export", "admin")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in reply.headers["Content-Disposition"]
    table = _csv(reply)
    assert table[0][:5] == ["任务", "工单", "客户编号", "客户姓名", "电话"]
    assert len(table) == N + 1
    first = dict(zip(export.COLUMNS, table[1], strict=True))
    assert (first["id"], first["customer_name"], first["phone"]) == ("1", "客户1", "13800000001")
    assert first["due_at"] == "2026-12-31 23:30:00"  # in the configured timezone


def test_filters_and_labels_follow_the_task_lists(filled: Api) -> None:
    reply = filled.call("GET", "/tasks/export?state=declined&reason=price&lang=en", "viewer")
    table = _csv(reply)
    assert table[0][0] == "Task"
    body = [dict(zip(export.COLUMNS, row, strict=True)) for row in table[1:]]
    expected = [n for n in range(1, N + 1) if n % 3 == 0 and n % 2]
    assert [int(r["id"]) for r in body] == expected
    assert {(r["reason"], r["reason_label"]) for r in body} == {("price", "Price")}
    assert all(re.fullmatch(r"138\*\*\*\*\d{4}", r["phone"]) for r in body)  # masked


def test_a_supervisor_exports_their_team_only(filled: Api) -> None:
    table = _csv(filled.call("GET", "/tasks/export", "supervisor:north"))
    routes = {row[export.COLUMNS.index("route")] for row in table[1:]}
    assert routes == {"manager:m01", "manager:m02"}
    assert filled.call("GET", "/tasks/export?manager=m03", "supervisor:north").status_code == 403
    assert filled.call("GET", "/tasks/export", "manager:m01").status_code == 403


@pytest.mark.parametrize("query, field", [("format=pdf", "format"), ("reason=rude", "reason"),
                                          ("state=asleep", "state"), ("ticket_id=x", "ticket_id")])
def test_bad_parameters_are_named(filled: Api, query: str, field: str) -> None:
    reply = filled.call("GET", f"/tasks/export?{query}", "admin")
    assert reply.status_code in (400, 422) and field in str(reply.json), reply.json


def test_xlsx_holds_every_row(filled: Api) -> None:
    reply = filled.call("GET", "/tasks/export?format=xlsx&state=declined", "admin")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == export.CONTENT_TYPES["xlsx"]
    book = zipfile.ZipFile(io.BytesIO(reply.get_data()))
    sheet = book.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert sheet.count("<row ") == N // 3 + 1


def test_the_response_streams_before_the_rows_are_all_read(filled: Api) -> None:
    reply = filled.client.get("/tasks/export", buffered=False, headers={
        "Authorization": f"Bearer {filled.tokens['admin']}"})
    assert reply.is_streamed
    chunks = iter(reply.response)
    assert next(chunks).startswith(b"\xef\xbb\xbf")
    reply.close()

    st: State = filled.app.extensions["tend"]
    read = 0
    spec = export.ExportSpec(task_filters(), "csv", "zh", st.config.timezone,
                             st.config.reasons)

    def counted(found: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        nonlocal read
        for row in found:
            read += 1
            yield row

    with st.engine.connect() as conn:
        stream = export.csv_chunks(counted(export.rows(conn, spec, batch=100)), "zh", batch=100)
        first = next(stream)
        assert read == 100 and first.count(b"\r\n") == 101  # header and one batch
        next(stream)
        assert read == 200  # a batch at a time, never the whole table
        rest = sum(chunk.count(b"\r\n") for chunk in stream)
    assert read == N and rest == N - 200
    with st.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(tasks)) == N


def test_the_cli_writes_the_same_export(filled: Api, db_url: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEND_DATABASE_URL", db_url)
    runner = CliRunner()
    out = tmp_path / "declined.csv"
    done = run(runner, "export", "tasks", "--state", "declined", "--reason", "moved",
               "--out", str(out))
    assert done.exit_code == 0, done.output
    table = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [int(r[0]) for r in table[1:]] == [n for n in range(1, N + 1)
                                              if n % 3 == 0 and not n % 2]
    assert table[1][export.COLUMNS.index("phone")].count("*") == 4  # masked by default
    book = tmp_path / "all.xlsx"
    assert run(runner, "export", "tasks", "--out", str(book)).exit_code == 0
    assert zipfile.is_zipfile(book)
    wrong = run(runner, "export", "tasks", "--reason", "rude")
    assert wrong.exit_code == 1 and "--reason" in wrong.output
    assert not list(tmp_path.glob("*.part"))
