"""`tend snapshot`, `score churn`, `simulate`: the churn model and the simulated loop."""

from __future__ import annotations

import datetime as dt

import click

from adapters.cli.base import (
    config_from,
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
    from adapters import snapshots
    from adapters.designer import parse_at

    config = config_from(ctx)
    at = parse_at(at_text, config)
    with engine_for(ctx) as engine, engine.begin() as conn:
        taken = snapshots.take(conn, config, at, dt.datetime.now(dt.UTC))
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
    from adapters.churn_model import score_churn
    from adapters.designer import parse_at

    config = config_from(ctx)
    at = parse_at(at_text, config)
    with engine_for(ctx) as engine, engine.begin() as conn:
        run = score_churn(conn, config, at, horizon)
    m = run.metrics
    click.echo(f"trained on snapshots {', '.join(f'{d:%Y-%m}' for d in run.trained_on)}; "
               f"held out {m.month:%Y-%m} ({m.customers:,} customers, "
               f"{m.churn_rate:.1%} churned within {horizon} months)")
    click.echo(f"AUC {m.auc:.3f} (naive Bayes floor {m.floor_auc:.3f}); "
               f"top decile lift {m.top_decile_lift:.2f}x")
    click.echo(f"churn_score written for {run.scored:,} customers")
