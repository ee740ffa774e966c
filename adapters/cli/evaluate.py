"""`tend report`, `tend kpis`, `tend history`: how tickets and playbooks did, for the
people who answer for them."""

from __future__ import annotations

import json
from pathlib import Path

import click

from adapters.cli.base import clock_of, config_from, engine_for, main, reports_errors
from adapters.cli.words import lang_option, report_words


@main.command("report")
@click.argument("ticket_id", type=int, metavar="TICKET")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write ticket-<id>.html and its PNG charts into DIR.")
@lang_option("the report: the text printed, the --out page and its charts")
@click.pass_context
@reports_errors
def report_command(ctx: click.Context, ticket_id: int, out: Path | None,
                   lang: str | None) -> None:
    """A ticket's rehearsal, approvals, audit trail and results (interim results while it
    runs; weekly cohorts for a standing ticket)."""

    from adapters.tickets import report
    from adapters.tickets.report_text import render
    from engine.playbooks.library import load_library

    config = config_from(ctx)
    library = load_library(config)
    with engine_for(ctx) as engine, engine.connect() as conn:
        ticket = report.gather(conn, config, library, ticket_id, clock_of(ctx)())
    words = report_words(config, lang)
    click.echo(render(ticket, words))
    if out is not None:
        try:
            written = report.write(ticket, out, words)
        except OSError as exc:
            raise click.ClickException(f"--out: cannot write to {out}: {exc.strerror}") from None
        for path in written:
            click.echo(words.gettext("wrote %(path)s", path=path))


@main.command("kpis")
@click.option("--by", "by", type=click.Choice(["playbook", "channel", "manager", "tier", "offer"]),
              default="playbook", show_default=True, help="One row per value of this.")
@click.option("--from", "start", metavar="DATE", help="First day of entry (by offer: of "
              "contact), YYYY-MM-DD (default: 30 days before --to).")
@click.option("--to", "end", metavar="DATE", help="Last day of entry and of outcomes (by "
              "offer: of contact), YYYY-MM-DD (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
@reports_errors
def kpis_command(ctx: click.Context, by: str, start: str | None, end: str | None,
                 as_json: bool) -> None:
    """Retention KPIs of the entries in a period, by playbook, channel, manager or tier;
    or, by offer, the results of the contacts in a period per offer and channel
    (definitions: docs/EVALUATION.md)."""

    from adapters.evaluation import kpis, offer_kpis
    from engine.playbooks.library import load_library

    config = config_from(ctx)
    period = kpis.period(start, end, config, clock_of(ctx)(), "--from", "--to")
    # Offers are priced in the library, so only --by offer needs it loaded.
    prices = offer_kpis.costs(load_library(config).offers) if by == "offer" else {}
    with engine_for(ctx) as engine, engine.connect() as conn:
        found = (offer_kpis.kpis(conn, period, prices) if by == "offer"
                 else kpis.kpis(conn, config, by, period))
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
    else:
        click.echo(offer_kpis.render(found) if by == "offer" else kpis.render(found))


@main.command("history")
@click.argument("playbook_id", metavar="PLAYBOOK")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (as the API's).")
@click.pass_context
@reports_errors
def history_command(ctx: click.Context, playbook_id: str, as_json: bool) -> None:
    """A playbook's versions with their tickets and each version's pooled readout: the
    evaluated tickets pooled by ticket, with an interval that stays valid however often it is
    read, and its verdict (docs/EVALUATION.md)."""

    from adapters.evaluation import history, offer_kpis, readouts
    from engine.playbooks.library import load_library

    config = config_from(ctx)
    library = load_library(config)
    with engine_for(ctx) as engine, engine.connect() as conn:
        found = history.history(conn, playbook_id,
                                readouts.Reading(config, library, clock_of(ctx)()),
                                playbook_id in library.playbooks,
                                offer_kpis.costs(library.offers))
    click.echo(json.dumps(found, ensure_ascii=False) if as_json else history.render(found))
