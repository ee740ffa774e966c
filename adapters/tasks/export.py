"""Task exports people sort and filter in a spreadsheet: CSV (UTF-8 with a BOM, so Excel in
Chinese opens it as UTF-8) and XLSX, with the same filters as the task lists.

Streamed with flat memory however many tasks match: rows are read from a cursor in batches
(PostgreSQL: a server-side cursor, `stream_results` + `yield_per`) and CSV goes out a chunk
at a time, so the first bytes leave before the last row is read. XLSX is a zip that can
only be finished at the end: XlsxWriter's `constant_memory` mode writes each row to a
temporary file as it comes, and the finished file is then sent in chunks. Phones are masked
(engine.privacy) unless the caller may see them. Reads only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapters.db.schema import customers, tasks
from engine.privacy import mask_phone
from engine.tasks.reasons import ResultReasons

FORMATS = ("csv", "xlsx")
LANGUAGES = ("zh", "en")
BOM = "\ufeff"
BATCH = 2_000  # rows fetched from the cursor at once, and CSV rows per chunk sent
READ_CHUNK = 64 * 1024
COLUMNS = ("id", "ticket_id", "customer_id", "customer_name", "phone", "step", "channel",
           "route", "state", "reason", "reason_label", "due_at", "result_at", "updated_at")
HEADERS = {
    "en": ("Task", "Ticket", "Customer", "Name", "Phone", "Step", "Channel", "Assigned to",
           "State", "Reason code", "Reason", "Due", "Result at", "Updated"),
    "zh": ("任务", "工单", "客户编号", "客户姓名", "电话", "步骤", "渠道", "分配给", "状态",
           "原因代码", "原因", "到期时间", "结果时间", "更新时间"),
}
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class ExportSpec:
    """What to export and how: the WHERE terms (adapters.tasks.listing.task_filters), the
    format, the headers' and reasons' language, the zone times are shown in, and whether
    phones are shown whole."""

    where: Sequence[sa.ColumnElement[bool]]
    format: str
    language: str
    zone: ZoneInfo
    reasons: ResultReasons
    show_phones: bool = False


def _local(at: dt.datetime | None, zone: ZoneInfo) -> str:
    return "" if at is None else at.astimezone(zone).isoformat(sep=" ")[:19]


def rows(conn: Connection, spec: ExportSpec,
         batch: int = BATCH) -> Generator[tuple[Any, ...], None, None]:
    """The matching tasks in id order, one tuple per task in COLUMNS order, read a batch at
    a time from a streaming cursor."""
    query = (sa.select(tasks.c.id, tasks.c.ticket_id, tasks.c.customer_id, customers.c.name,
                       customers.c.phone, tasks.c.step, tasks.c.channel, tasks.c.route,
                       tasks.c.state, tasks.c.reason, tasks.c.due_at, tasks.c.result_at,
                       tasks.c.updated_at)
             .outerjoin(customers, customers.c.id == tasks.c.customer_id)
             .where(*spec.where).order_by(tasks.c.id))
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
    phone: Callable[[str | None], str | None] = (
        (lambda p: p) if spec.show_phones else mask_phone)
    zone, labels = spec.zone, {code: spec.reasons.label(code, spec.language)
                               for code in spec.reasons.codes}
    try:
        for part in result.partitions():
            for (task_id, ticket_id, customer_id, name, number, step, channel, route, state,
                 reason, due_at, result_at, updated_at) in part:
                yield (task_id, ticket_id, customer_id, name or "", phone(number) or "", step,
                       channel, route, state, reason or "", labels.get(reason or "", ""),
                       _local(due_at, zone), _local(result_at, zone), _local(updated_at, zone))
    finally:
        result.close()  # a client that went away: the server-side cursor closes now


def csv_chunks(found: Iterable[tuple[Any, ...]], language: str,
               batch: int = BATCH) -> Iterator[bytes]:
    """CSV bytes: the BOM and header first, then every `batch` rows as they are read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(HEADERS[language])
    pending = 0
    for row in found:
        writer.writerow(row)
        pending += 1
        if pending >= batch:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def write_xlsx(found: Iterable[tuple[Any, ...]], language: str, path: Path) -> int:
    """An .xlsx at `path`, written row by row in XlsxWriter's constant_memory mode; returns
    how many tasks it holds."""
    import xlsxwriter  # only exports need it

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                               "tmpdir": str(path.parent)})
    try:
        sheet = workbook.add_worksheet("tasks")
        bold = workbook.add_format({"bold": True})
        sheet.write_row(0, 0, HEADERS[language], bold)
        sheet.freeze_panes(1, 0)
        count = 0
        for count, row in enumerate(found, start=1):
            sheet.write_row(count, 0, row)
        sheet.autofilter(0, 0, count, len(COLUMNS) - 1)
    finally:
        workbook.close()
    return count


def stream(engine: Engine, spec: ExportSpec) -> Iterator[bytes]:
    """The export as byte chunks, reading on its own connection while it is consumed (an
    HTTP response body, a CLI writing a file); the connection closes when it ends."""
    with engine.connect() as conn, closing(rows(conn, spec)) as found:
        if spec.format == "csv":
            yield from csv_chunks(found, spec.language)
            return
        with tempfile.TemporaryDirectory(prefix="tend-export-") as folder:
            path = Path(folder) / "tasks.xlsx"
            write_xlsx(found, spec.language, path)
            with path.open("rb") as file:
                while chunk := file.read(READ_CHUNK):
                    yield chunk


def file_name(spec: ExportSpec, now: dt.datetime) -> str:
    return f"tasks-{now.astimezone(spec.zone):%Y%m%d-%H%M}.{spec.format}"
