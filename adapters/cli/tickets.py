"""`tend sweep`, `users`: operating tickets from the shell (`report` is in evaluate.py)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from adapters.cli.base import (
    clock_of,
    config_from,
    engine_for,
    main,
    reports_errors,
)

if TYPE_CHECKING:
    from engine.config import Config


@main.command("sweep")
@click.option("--at", "at_text", metavar="T", help="YYYY-MM-DD or ISO timestamp (default: now).")
@click.option("--playbook", "forced", metavar="P",
              help="Plan playbook P at --at whether or not its window was swept (a manual "
                   "ticket), and no other.")
@click.pass_context
@reports_errors
def sweep_command(ctx: click.Context, at_text: str | None, forced: str | None) -> None:
    """Move tickets along to --at, then sweep the scheduled playbooks whose schedule fired in
    a window not yet swept, and plan the daily ticket of each event playbook that gathers its
    matches, for the days before --at.

    A playbook's window is its latest fire at or before --at; a window already swept (by the
    scheduler or an earlier `tend sweep`) is not planned again, so repeating a sweep, or
    sweeping later inside the same window, opens nothing. --playbook P plans P at --at
    regardless, as a manual ticket. Executing tickets whose goal window has ended by --at are
    evaluated and closed first, so a later --at is how an operator (or a test) drives time.
    """
    from adapters.tickets import daily as event_matches
    from adapters.tickets import service as tickets
    from adapters.tickets.due import fire_time
    from engine.errors import NotFound
    from engine.formats.values import given_instant
    from engine.playbooks.library import load_library
    from engine.tickets.ticket import SYSTEM

    config = config_from(ctx)
    library = load_library(config)
    at = given_instant(at_text, config.timezone, "--at", clock_of(ctx)())
    if forced is not None and forced not in library.playbooks:
        raise NotFound(f"--playbook: unknown playbook {forced!r} (expected one of: "
                       f"{', '.join(sorted(library.playbooks))})")
    with engine_for(ctx) as engine, engine.begin() as conn:
        closed = tickets.advance(conn, config, library, at)
        if forced is not None:
            ticket = tickets.plan(conn, config, library, library.playbooks[forced], at,
                                  "manual", SYSTEM)
            opened = [ticket] if ticket is not None else []
        else:
            opened = tickets.sweep_all(conn, config, library, at)
            opened += event_matches.plan_days(conn, config, library, at)
    for ticket_id in closed:
        click.echo(f"ticket {ticket_id}: evaluated and closed")
    for t in opened:
        audience = t["audience"]
        click.echo(f"ticket {t['id']}: {t['playbook']} v{t['version']} planned, treatment "
                   f"{audience['treatment']:,}, control {audience['control']:,}, suppressed "
                   f"{sum(audience['suppressed'].values()):,}")
    if forced is not None and not opened:
        stamp = at.astimezone(config.timezone).isoformat(timespec="seconds")
        click.echo(f"already planned at {stamp}: {forced}")
    done = {t["playbook"] for t in opened}
    swept = [f"{p.id} (window {_local(fire_time(p, config, at), config)})"
             for p in sorted(library.playbooks.values(), key=lambda p: p.id)
             if p.trigger.schedule and p.id not in done and forced is None]
    if swept:
        click.echo(f"already swept: {', '.join(swept)}")


def _local(instant: dt.datetime | None, config: Config) -> str:
    if instant is None:
        return "none yet"
    return instant.astimezone(config.timezone).isoformat(timespec="minutes")


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
    from adapters.access.users import add_user
    from engine.tickets.users import check_roles

    checked = check_roles(roles, config_from(ctx))
    with engine_for(ctx) as engine, engine.begin() as conn:
        token = add_user(conn, name, checked, clock_of(ctx)())
    click.echo(f"added {name} ({', '.join(sorted(checked))}); token:")
    click.echo(token)


@users_group.command("token")
@click.argument("name")
@click.pass_context
@reports_errors
def users_token(ctx: click.Context, name: str) -> None:
    """Issue another token for NAME (the last line printed; earlier tokens stay valid)."""
    from adapters.access.users import issue_token

    with engine_for(ctx) as engine, engine.begin() as conn:
        token = issue_token(conn, name, clock_of(ctx)())
    click.echo(f"new token for {name}:")
    click.echo(token)


@users_group.command("passwd")
@click.argument("name")
@click.pass_context
@reports_errors
def users_passwd(ctx: click.Context, name: str) -> None:
    """Set NAME's password for the web console (asked twice at a terminal, else one line of
    stdin). Only a salted scrypt hash is stored; tokens keep working."""
    import sys

    from adapters.access.users import set_password

    if sys.stdin.isatty():
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    with engine_for(ctx) as engine, engine.begin() as conn:
        set_password(conn, name, password)
    click.echo(f"password set for {name}")
