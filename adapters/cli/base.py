"""`tend`: the command group and what every command shares (config, database, error reporting).

Each command parses its arguments and calls one function elsewhere; the commands live in the
sibling modules by audience (data, designer, tickets, service).

User mistakes surface as `TendError`s and are printed as messages with exit code 1, never as
tracebacks; click itself reports bad arguments with exit code 2.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from engine.clock import Clock, clock_from_environment
from engine.config import Config
from engine.config_loader import installed_config
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


def clock_of(ctx: click.Context) -> Clock:
    """The invocation's one clock: the one handed in (`obj["clock"]`, as tests pin it), else
    TEND_CLOCK_START's or the system's. Commands read "now" from it and nowhere else."""
    obj = ctx.ensure_object(dict)
    if "clock" not in obj:
        obj["clock"] = clock_from_environment(os.environ)
    clock: Clock = obj["clock"]
    return clock


def config_from(ctx: click.Context) -> Config:
    """The config, loaded once per invocation (--config, else TEND_CONFIG) with the library
    folders resolved with it: those handed in (`obj["folders"]`, as tests give them), else
    TEND_RULES' and TEND_WORKFLOWS'. Commands take both from here and nowhere else."""
    obj = ctx.ensure_object(dict)
    if "config" not in obj:
        obj["config"] = installed_config(os.environ, obj.get("config_path"), obj.get("folders"))
    config: Config = obj["config"]
    return config


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="config.yaml to use (default: $TEND_CONFIG or ./config.yaml)")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None) -> None:
    """Tend: declarative retention playbooks, compiled to rules, run as approved tickets."""
    ctx.ensure_object(dict)["config_path"] = config_path



def database_url_of(ctx: click.Context) -> str:
    """TEND_DATABASE_URL, else config.yaml's database_url (read only when needed)."""
    from adapters.db.engines import database_url

    return database_url("") or config_from(ctx).database_url


@contextmanager
def database_errors() -> Iterator[None]:
    """A database that is unreachable or not migrated is a message, not a traceback; the hint
    about migrations only when the database answered."""
    import sqlite3

    import psycopg
    from sqlalchemy.exc import DBAPIError

    from adapters.db.outage import detail, unreachable

    try:
        yield
    except (DBAPIError, sqlite3.Error, psycopg.Error) as exc:
        if unreachable(exc):
            raise TendError(f"database unreachable: {detail(exc)}") from None
        raise TendError(f"database error: {detail(exc)}\n(is the schema current? "
                        "`tend db upgrade` creates or migrates it)") from None


@contextmanager
def engine_for(ctx: click.Context) -> Iterator[Any]:
    """The database engine for one command, closed when it ends (no connection outlives it)."""
    from adapters.db.engines import make_engine

    engine = make_engine(database_url_of(ctx))
    try:
        with database_errors():
            yield engine
    finally:
        engine.dispose()


def echo_problem(problem: Any) -> None:
    """file:line:column, or file:line for problems of a whole line (event lines)."""
    if problem.line and not problem.column:
        click.echo(f"{problem.file}:{problem.line}: {problem.message}", err=True)
    else:
        click.echo(str(problem), err=True)


@contextmanager
def progress_bar(file: Path) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar over the file's bytes, only for a person watching a terminal."""
    if not sys.stdout.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress("{task.description}", BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task(f"importing {file.name}", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
