"""`tend program`: the whole program against the global control, for the people who answer for
the retention budget (docs/EVALUATION.md, "The program report")."""

from __future__ import annotations

import json
import sys

import click

from adapters.cli.base import clock_of, config_from, engine_for, main, reports_errors


@main.command("program")
@click.option("--from", "start", metavar="DATE", required=False,
              help="First day of the period, YYYY-MM-DD (configured timezone).")
@click.option("--to", "end", metavar="DATE", required=False,
              help="The day after the period, YYYY-MM-DD: the period is [--from, --to).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
@reports_errors
def program_command(ctx: click.Context, start: str | None, end: str | None,
                    as_json: bool) -> None:
    """Everyone contacted by a marketing playbook's sweep in the period against the global
    control group (config.yaml global_control): conversions, churn, incremental conversions
    with their 95% interval, cost and cost per incremental conversion."""

    from adapters.evaluation import offer_kpis, program
    from engine.measurement.program import as_json as json_of
    from engine.playbooks.library import load_library

    config = config_from(ctx)
    span = program.period(start, end, config, "--from", "--to")
    prices = offer_kpis.costs(load_library(config).offers)
    with engine_for(ctx) as engine, engine.connect() as conn:
        found = program.report(conn, config, prices, span, clock_of(ctx)())
    if as_json:
        click.echo(json.dumps(json_of(found), ensure_ascii=False))
        return
    from rich.console import Console

    from adapters.cli.program_table import tables

    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 100)
    for part in tables(found):
        console.print(part)
