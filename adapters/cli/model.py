"""`tend snapshot`, `score churn`, `simulate`: the churn model and the simulated loop."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from adapters.cli.base import (
    clock_of,
    config_from,
    database_errors,
    engine_for,
    main,
    reports_errors,
)


@main.command("snapshot")
@click.option("--at", "at_text", metavar="T",
              help="The day the snapshot describes (YYYY-MM-DD or ISO timestamp; default: now); "
                   "its month names the snapshot.")
@click.pass_context
@reports_errors
def snapshot_command(ctx: click.Context, at_text: str | None) -> None:
    """Keep this month's customer values for the churn model (once per month).

    The values are those of the customers table now; a month that has its snapshot keeps it.
    """
    from adapters.evaluation import snapshots
    from engine.errors import ValidationError
    from engine.formats.values import given_instant

    config = config_from(ctx)
    now = clock_of(ctx)()
    at = given_instant(at_text, config.timezone, "--at", now)
    if config.today(at) > config.today(now):
        raise ValidationError(f"{at_text} has not come yet; a snapshot keeps what is "
                              "known on its day, and that month would then be taken for good",
                              field="--at")
    with engine_for(ctx) as engine, engine.begin() as conn:
        taken = snapshots.take(conn, config, at, now)
    if taken.written:
        click.echo(f"snapshot {taken.month:%Y-%m} (as of {taken.as_of}): "
                   f"{taken.customers:,} customers")
    else:
        click.echo(f"snapshot {taken.month:%Y-%m} was taken already (as of {taken.as_of}, "
                   f"{taken.customers:,} customers): nothing written")


@main.group("score")
def score_group() -> None:
    """Models that write scores onto customers."""


@score_group.command("churn")
@click.option("--at", "at_text", metavar="T",
              help="Today for the model: which labels are known, whose values are scored "
                   "(default: now).")
@click.option("--horizon", type=int, default=2, show_default=True,
              help="Months after a snapshot in which a churn counts.")
@click.pass_context
@reports_errors
def score_churn_command(ctx: click.Context, at_text: str | None, horizon: int) -> None:
    """Train the churn model on the monthly snapshots and write churn_score (0..1).

    The latest month whose horizon has ended is held out to judge the model trained on the
    months before it; the scores come from a model refitted on all of them.
    """
    from adapters.evaluation.churn_model import score_churn
    from engine.formats.values import given_instant

    config = config_from(ctx)
    at = given_instant(at_text, config.timezone, "--at", clock_of(ctx)())
    with engine_for(ctx) as engine, engine.begin() as conn:
        run = score_churn(conn, config, at, horizon)
    m = run.metrics
    click.echo(f"trained on snapshots {', '.join(f'{d:%Y-%m}' for d in run.trained_on)}; "
               f"held out {m.month:%Y-%m} ({m.customers:,} customers, "
               f"{m.churn_rate:.1%} churned within {horizon} months)")
    click.echo(f"AUC {m.auc:.3f} (naive Bayes floor {m.floor_auc:.3f}); "
               f"top decile lift {m.top_decile_lift:.2f}x")
    click.echo("strongest signals: " + ", ".join(f"{name} ({weight:+.2f})"
                                                 for name, weight in run.signals))
    click.echo(f"churn_score written for {run.scored:,} customers")


@main.command("simulate")
@click.option("--customers", "customer_count", type=click.IntRange(min=1), default=5000,
              show_default=True, help="Synthetic customers (engine/demo.py).")
@click.option("--days", type=click.IntRange(min=1, max=3660), default=90, show_default=True,
              help="Days to simulate; tickets are evaluated when their goal window ends.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="The same seed gives the same run.")
@click.option("--start", "start_text", metavar="YYYY-MM-DD",
              help="The first simulated day (default: today).")
@click.option("--effect", "effects", multiple=True, metavar="PLAYBOOK=X",
              help="The true effect of a playbook: the chance that reaching a customer "
                   "persuades them (repeatable; defaults in engine/measurement/simulation.py; "
                   "'*=X': every playbook's, a program-wide effect).")
@click.option("--auto-approve", is_flag=True,
              help="Approve every planned ticket, recorded in its audit as auto-approved; "
                   "without it you are asked at the terminal.")
@click.option("--db", "db_url", metavar="URL",
              help="An empty database to run on (default: a throwaway SQLite file).")
@click.pass_context
@reports_errors
def simulate_command(ctx: click.Context, customer_count: int, days: int, seed: int,
                     start_text: str | None, effects: tuple[str, ...], auto_approve: bool,
                     db_url: str | None) -> None:
    """Run the whole loop on synthetic customers who answer contacts with a known effect.

    Day by day: sweeps plan tickets on the playbooks' schedules, tickets are approved, tasks
    are answered by a simulated channel, customers reach goals (on their own, or persuaded),
    and tickets are evaluated. Each evaluated ticket shows its true effect next to the
    measured uplift.
    """
    import tempfile

    from sqlalchemy.exc import ArgumentError

    from adapters.db.engines import make_engine
    from adapters.db.migrate import upgrade
    from adapters.simulation.service import render, simulate
    from engine.formats.values import parse_date
    from engine.measurement.simulation import Behaviour, with_effects
    from engine.playbooks.library import load_library

    config = config_from(ctx)
    if not auto_approve and not sys.stdin.isatty():
        raise click.UsageError("planned tickets need an approver: run at a terminal to "
                               "approve each one, or pass --auto-approve")
    try:
        start = parse_date(start_text) if start_text else config.today(clock_of(ctx)())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--start") from None
    behaviour = with_effects(Behaviour(), effects)
    library = load_library(config)
    url = db_url or f"sqlite:///{tempfile.mkdtemp(prefix='tend-simulate-')}/tend.db"
    try:
        engine = make_engine(url)
    except ArgumentError:
        raise click.BadParameter(f"not a database URL: {url!r}", param_hint="--db") from None
    click.echo(f"database: {url}" + ("" if db_url else " (throwaway)"))
    try:
        with database_errors(), _days_bar(days, auto_approve) as progress:
            upgrade(url)
            run = simulate(engine, config, library, behaviour, customers_n=customer_count,
                           days=days, seed=seed, start=start, approver=_prompt,
                           auto=auto_approve, progress=progress)
    finally:
        engine.dispose()
    for line in render(run, config):
        click.echo(line)
    click.echo(f"look closer: TEND_DATABASE_URL={url} tend report TICKET")


@contextmanager
def _days_bar(days: int, auto: bool) -> Iterator[Callable[[int], None]]:
    """Simulated days done, for a person watching a terminal (not between prompts)."""
    if not auto or not sys.stdout.isatty():
        yield lambda day: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("simulating days", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  transient=True) as bar:
        task = bar.add_task("days", total=days)
        yield lambda day: bar.update(task, completed=day)


def _prompt(ticket: dict[str, object]) -> bool:
    audience = ticket["audience"]
    assert isinstance(audience, dict)
    return click.confirm(f"approve ticket {ticket['id']} ({ticket['playbook']}, treatment "
                         f"{audience['treatment']:,}, control {audience['control']:,})?",
                         default=True)
