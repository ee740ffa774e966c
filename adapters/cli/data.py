"""`tend db`, `tend import`, `tend demo-data`: getting customers and events in."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from adapters.cli.base import (
    clock_of,
    config_from,
    database_errors,
    database_url_of,
    echo_problem,
    engine_for,
    main,
    progress_bar,
    reports_errors,
)
from engine.clock import Clock
from engine.config import Config


@main.group("db")
def db_group() -> None:
    """The database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.pass_context
@reports_errors
def db_upgrade(ctx: click.Context) -> None:
    """Create the schema or migrate it to the newest version."""
    from adapters.db.migrate import upgrade

    with database_errors():
        upgrade(database_url_of(ctx))
    click.echo("database schema is up to date")


@main.group("import")
def import_group() -> None:
    """Load customers (CSV) or events (JSON lines) from a file.

    Bad rows are reported as FILE:LINE:COLUMN (events: FILE:LINE) on stderr while the good
    ones load; the exit code is then 1. With --strict nothing is written if any row is bad.
    """


@import_group.command("customers")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Write nothing if any row is bad.")
@click.pass_context
@reports_errors
def import_customers_command(ctx: click.Context, file: Path, strict: bool) -> None:
    """Upsert customers by id from a CSV file (columns: docs/ARCHITECTURE.md, DESIGN 3).

    A column absent from the file leaves stored values unchanged; an empty cell clears one.
    When an id appears twice in the file, the last row wins. Exit code 1 if any row was bad.
    """
    from adapters.intake.customer_import import import_customers

    config = config_from(ctx)
    with engine_for(ctx) as engine, progress_bar(file) as progress:
        result = import_customers(engine, config, file,
                                  report=echo_problem, strict=strict, progress=progress,
                                  now=clock_of(ctx)())
    for line in result.summary():
        click.echo(line)
    if result.bad:
        sys.exit(1)


@import_group.command("events")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Write nothing if any line is bad.")
@click.option("--no-trigger", is_flag=True,
              help="Only store the events (a backfill): trigger no playbook.")
@click.pass_context
@reports_errors
def import_events_command(ctx: click.Context, file: Path, strict: bool,
                          no_trigger: bool) -> None:
    """Store events from a JSON-lines file; an id already stored is ignored.

    Events for customers not (yet) imported are stored and listed in the summary.
    Exit code 1 if any line was bad.
    """
    import collections

    from adapters.intake.event_import import import_events

    config = config_from(ctx)
    outcomes: collections.Counter[str] = collections.Counter()
    with engine_for(ctx) as engine:
        trigger = None if no_trigger else _event_trigger(config, engine, outcomes, clock_of(ctx))
        result = import_events(engine, config, file, report=echo_problem, strict=strict,
                               on_stored=trigger, now=clock_of(ctx)())
    for line in result.summary():
        click.echo(line)
    if outcomes:
        click.echo("triggered: " + ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())))
    if result.bad:
        sys.exit(1)


def _event_trigger(config: Config, engine: Any, outcomes: Any,
                   clock: Clock) -> Callable[[list[Any]], None]:
    """Trigger each stored batch as POST /events does, counting tasks and reasons."""

    from adapters.db.engines import begin_writes
    from adapters.tickets.standing import on_events, process_matcher
    from engine.playbooks.library import load_library
    from engine.playbooks.triggers import Triggers

    library = load_library(config)
    triggers = Triggers(library.playbooks.values(), config, process_matcher())

    def trigger(new: list[Any]) -> None:
        with engine.begin() as conn:
            begin_writes(conn)
            for item in on_events(conn, config, library, triggers, new, clock()):
                outcomes["tasks"] += len(item["tasks"])
                outcomes[f"x {item['reason']}" if item["reason"] else "matches"] += 1

    return trigger


@main.command("demo-data")
@click.option("--customers", "customer_count", type=click.IntRange(min=0), required=True,
              help="How many customers to write.")
@click.option("--events", "event_count", type=click.IntRange(min=0), default=None,
              help="How many events to write (default: a tenth of the customers).")
@click.option("--seed", type=int, default=1, show_default=True,
              help="The same seed gives the same files.")
@click.option("--at", "at_text", default=None, metavar="YYYY-MM-DD",
              help="The day the data describes; events fall in the week before it "
                   "(default: today in the configured timezone).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for customers.csv and events.jsonl.")
@click.option("--history", type=click.IntRange(0, 24), default=0, show_default=True,
              help="Also write the customers as they stood at the start of each of this many "
                   "earlier months (history/customers-<date>.csv), for `tend snapshot`.")
@click.pass_context
@reports_errors
def demo_data(ctx: click.Context, customer_count: int, event_count: int | None, seed: int,
              at_text: str | None, out: Path, history: int) -> None:
    """Write synthetic telecom customers and events, ready for `tend import`."""

    from adapters.intake.demo_files import demo_spec, write_demo
    from engine.formats.values import parse_date

    config = config_from(ctx)
    try:
        at = parse_date(at_text) if at_text else config.today(clock_of(ctx)())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from None
    events = customer_count // 10 if event_count is None else event_count
    files = write_demo(demo_spec(config, customer_count, events, seed, at), out, history)
    click.echo(f"wrote {files.customer_count} customers to {files.customers} and "
               f"{files.event_count} events to {files.events}")
    for path in files.history:
        click.echo(f"wrote history {path}")


@main.command("assign")
@click.option("--dry-run", is_flag=True, help="Show who would get which manager; write nothing.")
@click.pass_context
@reports_errors
def assign_command(ctx: click.Context, dry_run: bool) -> None:
    """Give customers without a manager one, by config.yaml's `assignment:` rules (划配).

    Prints a table: customer, manager, rule. Imports and the scheduler's daily run do the
    same; each assignment written is recorded (customer, manager, rule, by whom, when).
    """
    from rich.console import Console
    from rich.table import Table

    from adapters.intake.assignment import assign

    config = config_from(ctx)
    if not config.assignment.rules:
        click.echo(f"{config.path}: assignment: has no rules; nobody is assigned")
        return
    with engine_for(ctx) as engine, database_errors(), engine.begin() as conn:
        made = assign(conn, config, clock_of(ctx)(), "cli", dry_run=dry_run)
    table = Table(title="would assign" if dry_run else "assigned")
    for column in ("customer", "manager", "rule"):
        table.add_column(column)
    for one in made:
        table.add_row(one.customer, one.manager, one.rule)
    if made:
        Console(width=100).print(table)
    verb = "would be assigned" if dry_run else "assigned"
    click.echo(f"{len(made)} customer(s) {verb} a manager"
               + (" (dry run: nothing written)" if dry_run else ""))
