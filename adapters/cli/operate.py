"""`tend backup` and `tend restore`: for operators (adapters/db/backup.py does the work)."""

from __future__ import annotations

from pathlib import Path

import click

from adapters.cli.base import database_url_of, main, reports_errors


@main.command("backup")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@click.pass_context
@reports_errors
def backup_command(ctx: click.Context, file: Path, force: bool) -> None:
    """Write a consistent copy of the whole database to FILE, while the service runs
    (SQLite: online backup API; PostgreSQL: pg_dump -Fc). FILE is made owner-only."""
    from adapters.db.backup import backup

    click.echo(backup(database_url_of(ctx), file, force))


@main.command("restore")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
@click.pass_context
@reports_errors
def restore_command(ctx: click.Context, file: Path, yes: bool) -> None:
    """Replace the database with the backup in FILE (made by `tend backup`). Stop serve, worker
    and scheduler first; then `tend db upgrade` if the backup is from an older release."""
    from adapters.db.backup import restore

    url = database_url_of(ctx)
    if not yes:
        click.confirm(f"Replace everything in the database with {file}?", abort=True)
    click.echo(restore(url, file))
