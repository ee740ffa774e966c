"""`tend export tasks`: the task list as a CSV or XLSX file, as `GET /tasks/export` gives it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from adapters.cli.base import config_from, engine_for, main, reports_errors
from engine.tasks import task as tk


@main.group("export")
def export_group() -> None:
    """Write records out for spreadsheets."""


@export_group.command("tasks")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default=None,
              help="Default: from --out's suffix, else csv.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="File to write (default: CSV on stdout; XLSX needs a file).")
@click.option("--state", type=click.Choice(tk.STATES), default=None)
@click.option("--channel", default=None)
@click.option("--manager", default=None, help="Tasks routed to this manager id.")
@click.option("--ticket", "ticket_id", type=click.IntRange(min=1), default=None)
@click.option("--reason", default=None, help="A reason code of config.yaml result_reasons.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh",
              help="Language of the headers and reason labels.")
@click.option("--phones", is_flag=True, help="Whole phone numbers (default: masked).")
@click.pass_context
@reports_errors
def export_tasks(ctx: click.Context, fmt: str | None, out: Path | None, state: str | None,
                 channel: str | None, manager: str | None, ticket_id: int | None,
                 reason: str | None, lang: str, phones: bool) -> None:
    """Tasks matching the filters, oldest first: CSV in UTF-8 with a BOM (Excel opens it in
    Chinese) or XLSX, streamed a batch of rows at a time."""
    from adapters.tasks import export
    from adapters.tasks.listing import task_filters
    from engine.errors import ValidationError

    config = config_from(ctx)
    fmt = fmt or ("xlsx" if out is not None and out.suffix.lower() == ".xlsx" else "csv")
    if fmt == "xlsx" and out is None:
        raise ValidationError("XLSX is a file: give --out FILE.xlsx", field="--out")
    if reason is not None and reason not in config.reasons.codes:
        raise ValidationError(f"no reason code {reason!r} (expected one of: "
                              f"{', '.join(config.reasons.codes)})", field="--reason")
    where = task_filters(state=state, channels=None if channel is None else {channel},
                         route=None if manager is None else f"{tk.PERSON_ROUTE}{manager}",
                         ticket_id=ticket_id, reason=reason)
    spec = export.ExportSpec(where, fmt, lang, config.timezone, config.reasons,
                             show_phones=phones)
    with engine_for(ctx) as engine:
        if out is None:
            for chunk in export.stream(engine, spec):
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            return
        partial = out.with_name(out.name + ".part")
        try:
            with partial.open("wb") as file:
                for chunk in export.stream(engine, spec):
                    file.write(chunk)
            partial.replace(out)  # a failed export leaves no half-written file behind
        finally:
            partial.unlink(missing_ok=True)
    click.echo(f"wrote {out}", err=True)
