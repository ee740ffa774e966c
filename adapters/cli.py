"""`tend`: the command line. Each command parses its arguments and calls one function elsewhere.

User mistakes surface as `TendError`s and are printed as messages with exit code 1, never as
tracebacks; click itself reports bad arguments with exit code 2.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from engine.config import Config, load_config
from engine.errors import TendError

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(func: F) -> F:
    """Turn a TendError into its message on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TendError as exc:
            click.echo(exc.message, err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def config_from(ctx: click.Context) -> Config:
    """The config, loaded once per invocation (TEND_CONFIG or --config)."""
    obj = ctx.ensure_object(dict)
    if "config" not in obj:
        obj["config"] = load_config(obj.get("config_path"))
    config: Config = obj["config"]
    return config


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="config.yaml to use (default: $TEND_CONFIG or ./config.yaml)")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None) -> None:
    """Tend: declarative retention playbooks, compiled to rules, run as approved tickets."""
    ctx.ensure_object(dict)["config_path"] = config_path


# --- data commands: db, import, demo-data ---


def _database_url(ctx: click.Context) -> str:
    """TEND_DATABASE_URL, else config.yaml's database_url (read only when needed)."""
    from adapters.db import database_url

    return database_url("") or config_from(ctx).database_url


@contextmanager
def _database_errors() -> Iterator[None]:
    """A database that is unreachable or not migrated is a message, not a traceback."""
    import sqlite3

    import psycopg
    from sqlalchemy.exc import DBAPIError

    try:
        yield
    except (DBAPIError, sqlite3.Error, psycopg.Error) as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise TendError(f"database error: {detail}\n(is the schema current? "
                        "`tend db upgrade` creates or migrates it)") from None


@contextmanager
def _engine(ctx: click.Context) -> Iterator[Any]:
    """The database engine for one command, closed when it ends (no connection outlives it)."""
    from adapters.db import make_engine

    engine = make_engine(_database_url(ctx))
    try:
        with _database_errors():
            yield engine
    finally:
        engine.dispose()


def _echo_problem(problem: Any) -> None:
    """file:line:column, or file:line for problems of a whole line (event lines)."""
    if problem.line and not problem.column:
        click.echo(f"{problem.file}:{problem.line}: {problem.message}", err=True)
    else:
        click.echo(str(problem), err=True)


@contextmanager
def _progress_bar(file: Path) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar over the file's bytes, only for a person watching a terminal."""
    if not sys.stdout.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress("{task.description}", BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task(f"importing {file.name}", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@main.group("db")
def db_group() -> None:
    """The database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.pass_context
@reports_errors
def db_upgrade(ctx: click.Context) -> None:
    """Create the schema or migrate it to the newest version."""
    from adapters.migrate import upgrade

    with _database_errors():
        upgrade(_database_url(ctx))
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
    from adapters.importer import import_customers

    config = config_from(ctx)
    with _engine(ctx) as engine, _progress_bar(file) as progress:
        result = import_customers(engine, config, file,
                                  report=_echo_problem, strict=strict, progress=progress)
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

    from adapters.event_import import import_events

    config = config_from(ctx)
    outcomes: collections.Counter[str] = collections.Counter()
    with _engine(ctx) as engine:
        trigger = None if no_trigger else _event_trigger(config, engine, outcomes)
        result = import_events(engine, config, file, report=_echo_problem, strict=strict,
                               on_stored=trigger)
    for line in result.summary():
        click.echo(line)
    if outcomes:
        click.echo("triggered: " + ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())))
    if result.bad:
        sys.exit(1)


def _event_trigger(config: Config, engine: Any,
                   outcomes: Any) -> Callable[[list[Any]], None]:
    """Trigger each stored batch as POST /events does, counting tasks and reasons."""
    import datetime as dt

    from adapters.db import begin_writes
    from adapters.standing import on_events, process_matcher
    from engine.library import load_library
    from engine.triggers import Triggers

    library = load_library(None, None, config)
    triggers = Triggers(library.playbooks.values(), config, process_matcher())

    def trigger(new: list[Any]) -> None:
        with engine.begin() as conn:
            begin_writes(conn)
            for item in on_events(conn, config, library, triggers, new, dt.datetime.now(dt.UTC)):
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
@click.pass_context
@reports_errors
def demo_data(ctx: click.Context, customer_count: int, event_count: int | None, seed: int,
              at_text: str | None, out: Path) -> None:
    """Write synthetic telecom customers and events, ready for `tend import`."""
    import datetime as dt

    from adapters.demo_files import demo_spec, write_demo
    from engine.values import parse_date

    config = config_from(ctx)
    try:
        at = parse_date(at_text) if at_text else config.today(dt.datetime.now(dt.UTC))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from None
    events = customer_count // 10 if event_count is None else event_count
    files = write_demo(demo_spec(config, customer_count, events, seed, at), out)
    click.echo(f"wrote {files.customer_count} customers to {files.customers} and "
               f"{files.event_count} events to {files.events}")



# --- designer commands: validate, schema, test ---


def _designer_paths(paths: tuple[Path, ...], *, cases_only: bool) -> list[Path]:
    """The named paths, or the library folders (TEND_RULES, TEND_WORKFLOWS, rules' tests/)."""
    from engine.library import rules_dir, tests_dir, workflows_dir

    if paths:
        return list(paths)
    if cases_only:
        return [tests_dir()]
    return [rules_dir(), workflows_dir(), *([tests_dir()] if tests_dir().is_dir() else [])]


def _checked(ctx: click.Context, paths: list[Path]) -> Any:
    """check_paths, printing every problem to stderr and exiting 1 if there is any."""
    from engine.library import check_paths

    checked = check_paths(paths, config_from(ctx))
    if checked.problems:
        for problem in checked.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(checked.problems)} problem(s)", err=True)
        sys.exit(1)
    return checked


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
@reports_errors
def validate(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Check playbooks, workflows and test cases (files or folders; default: the library)."""
    checked = _checked(ctx, _designer_paths(paths, cases_only=False))
    for line in checked.summaries:
        click.echo(line)
    click.echo(f"{len(checked.summaries)} file(s) OK")


@main.command()
@click.pass_context
@reports_errors
def schema(ctx: click.Context) -> None:
    """Print the JSON Schema of playbooks, for editors (e.g. VS Code's YAML extension)."""
    import json

    from engine.library import installed_library
    from engine.playbook_schema import playbook_schema

    config = config_from(ctx)
    document = playbook_schema(config, installed_library(config).workflows)
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
@reports_errors
def run_tests(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Run designer test cases (default: the tests/ folder beside the playbooks)."""
    from engine.caserun import run_case

    checked = _checked(ctx, _designer_paths(paths, cases_only=True))
    outcomes = [run_case(case, config_from(ctx)) for case in checked.cases]
    for outcome in outcomes:
        for line in outcome.lines():
            click.echo(line)
    failed = sum(1 for outcome in outcomes if not outcome.passed)
    click.echo(f"cases: {len(outcomes) - failed} passed, {failed} failed")
    if failed:
        sys.exit(1)


# --- preview and explain ---


@contextmanager
def _designer_context(ctx: click.Context) -> Iterator[tuple[Config, Any, Any]]:
    """Config, installed library and a database connection for preview and explain."""
    from engine.library import load_library

    config = config_from(ctx)
    library = load_library(None, None, config)
    with _engine(ctx) as engine, engine.connect() as conn:
        yield config, library, conn


def _chosen(ref: str | None, library: Any, config: Config) -> list[Any]:
    from engine.library import find_playbook

    if ref:
        return [find_playbook(ref, library, config)]
    return sorted(library.playbooks.values(), key=lambda p: p.id)


@main.command("preview")
@click.argument("playbook", required=False)
@click.option("--all", "every", is_flag=True, help="Preview every playbook of the library.")
@click.option("--at", "at_text", metavar="T", help="YYYY-MM-DD or ISO timestamp (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print the selection as JSON.")
@click.pass_context
@reports_errors
def preview_command(ctx: click.Context, playbook: str | None, every: bool, at_text: str | None,
                    as_json: bool) -> None:
    """Who PLAYBOOK (an id, or the path of a draft .yaml) selects at --at."""
    from adapters import designer

    if every == bool(playbook):
        raise click.UsageError("give a PLAYBOOK or --all")
    with _designer_context(ctx) as (config, library, conn):
        at = designer.parse_at(at_text, config)
        click.echo(designer.preview(conn, _chosen(playbook, library, config), config, at,
                                    as_json))


@main.command("explain")
@click.argument("customer")
@click.option("--playbook", "playbook", help="Only this playbook (an id or a draft path).")
@click.option("--at", "at_text", metavar="T", help="YYYY-MM-DD or ISO timestamp (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@click.pass_context
@reports_errors
def explain_command(ctx: click.Context, customer: str, playbook: str | None,
                    at_text: str | None, as_json: bool) -> None:
    """For CUSTOMER, which conditions of each playbook held and which failed, with values."""
    from adapters import designer

    with _designer_context(ctx) as (config, library, conn):
        at = designer.parse_at(at_text, config)
        click.echo(designer.explain(conn, customer, _chosen(playbook, library, config), config,
                                    at, as_json))


# --- tickets: sweep, users, report ---


@main.command("sweep")
@click.option("--at", "at_text", metavar="T", help="YYYY-MM-DD or ISO timestamp (default: now).")
@click.pass_context
@reports_errors
def sweep_command(ctx: click.Context, at_text: str | None) -> None:
    """Move tickets along to --at, then sweep every scheduled playbook at --at.

    Executing tickets whose goal window has ended by --at are evaluated and closed first, so
    a later --at is how an operator (or a test) drives time. Each sweep opens one planned
    ticket per playbook and instant.
    """
    from adapters import tickets
    from adapters.designer import parse_at
    from engine.library import load_library

    config = config_from(ctx)
    library = load_library(None, None, config)
    at = parse_at(at_text, config)
    with _engine(ctx) as engine, engine.begin() as conn:
        closed = tickets.advance(conn, config, library, at)
        opened = tickets.sweep_all(conn, config, library, at)
    for ticket_id in closed:
        click.echo(f"ticket {ticket_id}: evaluated and closed")
    for t in opened:
        audience = t["audience"]
        click.echo(f"ticket {t['id']}: {t['playbook']} v{t['version']} planned, treatment "
                   f"{audience['treatment']:,}, control {audience['control']:,}, suppressed "
                   f"{sum(audience['suppressed'].values()):,}")
    done = {t["playbook"] for t in opened}
    swept = sorted(p.id for p in library.playbooks.values()
                   if p.trigger.schedule and p.id not in done)
    if swept:
        stamp = at.astimezone(config.timezone).isoformat(timespec="seconds")
        click.echo(f"already swept at {stamp}: {', '.join(swept)}")


@main.group("users")
def users_group() -> None:
    """People who use the HTTP API, with their roles and tokens."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True,
              help="designer, admin, viewer, adapter[:CHANNEL], manager[:ID], or an approver "
                   "role of config.yaml; repeat for several.")
@click.pass_context
@reports_errors
def users_add(ctx: click.Context, name: str, roles: tuple[str, ...]) -> None:
    """Add a user; the new token is the last line printed (it is not stored, keep it)."""
    from adapters.users import add_user
    from engine.users import check_roles

    checked = check_roles(roles, config_from(ctx))
    with _engine(ctx) as engine, engine.begin() as conn:
        token = add_user(conn, name, checked)
    click.echo(f"added {name} ({', '.join(sorted(checked))}); token:")
    click.echo(token)


@users_group.command("token")
@click.argument("name")
@click.pass_context
@reports_errors
def users_token(ctx: click.Context, name: str) -> None:
    """Issue another token for NAME (the last line printed; earlier tokens stay valid)."""
    from adapters.users import issue_token

    with _engine(ctx) as engine, engine.begin() as conn:
        token = issue_token(conn, name)
    click.echo(f"new token for {name}:")
    click.echo(token)


@main.command("report")
@click.argument("ticket_id", type=int, metavar="TICKET")
@click.pass_context
@reports_errors
def report_command(ctx: click.Context, ticket_id: int) -> None:
    """A ticket's rehearsal, approvals, audit trail and results."""
    from adapters import tickets
    from adapters.ticket_report import render

    with _engine(ctx) as engine, engine.connect() as conn:
        click.echo(render(tickets.show(conn, ticket_id)))


# --- service: serve ---


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="gunicorn worker processes.")
@click.pass_context
@reports_errors
def serve_command(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Run the HTTP API (gunicorn): JSON endpoints, /openapi.json, /docs, /healthz, /metrics."""
    from adapters.http.app import create_app
    from adapters.http.server import serve

    config = config_from(ctx)
    serve(lambda: create_app({"TEND_CONFIG": config}), host, port, workers)


# --- scheduler ---


@main.command("scheduler")
@click.option("--every", type=click.FloatRange(min=0.1), default=5.0, show_default=True,
              help="Seconds between lease renewals, library reloads and ticket advances.")
@click.option("--ttl", type=click.FloatRange(min=1.0), default=30.0, show_default=True,
              help="Seconds a lease lasts: a dead scheduler is replaced after this.")
@click.pass_context
@reports_errors
def scheduler_command(ctx: click.Context, every: float, ttl: float) -> None:
    """Run the cron sweeps of the scheduled playbooks (one active scheduler per database)."""
    import datetime as dt
    import logging
    import os
    import signal
    import socket
    import threading

    from adapters.scheduler import Scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    holder = f"{socket.gethostname()}:{os.getpid()}"
    with _engine(ctx) as engine:
        Scheduler(engine, config_from(ctx), holder, dt.timedelta(seconds=ttl)).run(stop, every)


# --- worker ---


@main.command("worker")
@click.option("--once", is_flag=True, help="One round: push the due tasks, print counts, exit.")
@click.option("--batch", type=click.IntRange(min=1), default=100, show_default=True,
              help="Tasks claimed per round.")
@click.option("--every", type=click.FloatRange(min=0.1), default=2.0, show_default=True,
              help="Seconds between rounds when there was less than a batch to do.")
@click.pass_context
@reports_errors
def worker_command(ctx: click.Context, once: bool, batch: int, every: float) -> None:
    """Push due tasks of log and webhook channels (many workers may share a database)."""
    import datetime as dt
    import json
    import logging
    import signal
    import threading

    from adapters.channels import pushers
    from adapters.worker import run, run_once

    config = config_from(ctx)
    channels = pushers(config.channels)
    with _engine(ctx) as engine:
        if once:
            counts = run_once(engine, channels, batch, config.task_lease, dt.datetime.now(dt.UTC))
            click.echo(json.dumps(counts, sort_keys=True))
            return
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        run(engine, channels, batch, config.task_lease, every, stop)
