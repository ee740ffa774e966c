"""A ticket's report for a director: the uplift with its interval, the funnel, and conversions
over time for treatment vs control, as one HTML page with PNG charts, in the reader's language
(`Words`: English, or Chinese from the console's catalog).

The HTTP response embeds the charts as data: URIs (one self-contained page); `tend report
--out DIR` writes report.html next to the PNG files it links. The charts are
adapters/tickets/report_charts.py's.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Connection

from adapters.evaluation import offer_kpis
from adapters.evaluation.results import results as evaluate
from adapters.evaluation.variants import judged
from adapters.tickets import report_words
from adapters.tickets import service as tickets
from adapters.tickets.report_words import ENGLISH, Words
from adapters.tickets.store import planned_playbook, ticket_row
from engine.config import Config
from engine.measurement.kpi import FUNNEL
from engine.measurement.units import in_units, relative
from engine.playbooks.library import Library

TEMPLATES = Path(__file__).parent / "report_templates"


@functools.cache
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(local=_local, relative=relative)
    return env


def _local(text: str | None, zone: str) -> str:
    """An instant as a director reads it: minutes, in the configured timezone."""
    if not text:
        return ""
    return dt.datetime.fromisoformat(text).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def gather(conn: Connection, config: Config, library: Library, ticket_id: int,
           now: dt.datetime) -> dict[str, Any]:
    """The ticket with its results: stored at closing, else computed up to `now` (marked
    interim) once it has started; a standing ticket always gets its weekly cohorts. `offers`:
    the contacts naming the ticket, per offer and channel (docs/EVALUATION.md)."""
    ticket = tickets.show(conn, ticket_id)
    row = ticket_row(conn, ticket_id)
    playbook = planned_playbook(conn, config, library, row)
    standing = row.window_key.startswith("standing:")
    found = ticket["results"]
    if row.started_at is not None and (found is None or standing):
        found = {**evaluate(conn, config, playbook, ticket_id, now, standing), "interim": True}
    elif found is not None and "evaluated_at" not in found:  # stored before uplift intervals
        found = evaluate(conn, config, playbook, ticket_id, row.closed_at or now)
    ticket["results"] = _with_units(found)
    # What the people who talked to its customers recorded about its offers, as they stand
    # now: contacts are not part of the stored results, and later ones still belong here.
    ticket["offers"] = offer_kpis.of_ticket(conn, ticket_id, offer_kpis.costs(library.offers))
    ticket["title"] = playbook.title
    ticket["titles"] = dict(playbook.titles)
    ticket["standing"] = standing
    ticket["timezone"] = config.timezone.key
    return ticket


def _with_units(found: dict[str, Any] | None) -> dict[str, Any] | None:
    """Results stored before uplifts named their units get the `*_pts` fields too, and
    variants stored before their comparisons were corrected as a family are judged again
    from their counts (adapters/evaluation/variants.py)."""
    if not found:
        return found
    goal = found.get("goal")
    if goal and goal.get("uplift"):
        found = {**found, "goal": {**goal, "uplift": in_units(goal["uplift"])}}
    if found.get("cohorts"):
        found = {**found, "cohorts": [{**c, "uplift": in_units(c["uplift"])}
                                      for c in found["cohorts"]]}
    if found.get("variants"):
        found = {**found, "variants": judged(found["variants"])}
    return found


def charts(ticket: Mapping[str, Any], words: Words = ENGLISH,
           only: Collection[str] | None = None) -> dict[str, bytes]:
    """PNG charts by name (report_charts.charts), matplotlib loaded when one is drawn."""
    from adapters.tickets import report_charts

    return report_charts.charts(ticket.get("results") or {}, words, only)


def html(ticket: Mapping[str, Any], sources: Mapping[str, str], back: str | None = None,
         words: Words = ENGLISH) -> str:
    """The page; `sources` maps chart names to what an <img src> should hold; `back`, a link
    to the page the reader came from (the console's ticket page)."""
    return _env().get_template("ticket.html").render(
        t=ticket, r=ticket.get("results") or {}, charts=sources, stages=FUNNEL[1:], back=back,
        w=words, _=words.markup, ngettext=words.ngettext, lang=words.language,
        states=report_words.STATES, verdicts=report_words.VERDICTS,
        funnel_stages=report_words.FUNNEL_STAGES, actions=report_words.ACTIONS)


def data_uris(ticket: Mapping[str, Any], only: Collection[str] | None = None,
              words: Words = ENGLISH) -> dict[str, str]:
    """The charts as data: URIs, for a page that embeds them."""
    return {name: "data:image/png;base64," + base64.b64encode(png).decode()
            for name, png in charts(ticket, words, only).items()}


def page(ticket: Mapping[str, Any], back: str | None = None, words: Words = ENGLISH) -> str:
    """One self-contained page: charts embedded as data: URIs."""
    return html(ticket, data_uris(ticket, words=words), back, words)


def write(ticket: Mapping[str, Any], out: Path, words: Words = ENGLISH) -> list[Path]:
    """report.html and its PNG charts in `out` (created); returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    sources = {}
    for name, png in charts(ticket, words).items():
        path = out / f"ticket-{ticket['id']}-{name}.png"
        path.write_bytes(png)
        written.append(path)
        sources[name] = path.name
    target = out / f"ticket-{ticket['id']}.html"
    target.write_text(html(ticket, sources, words=words), encoding="utf-8")
    return [target, *written]
