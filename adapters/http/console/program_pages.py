"""The Program page (整体效果): everyone the marketing playbooks treated in a period against
the global control group, from the service `GET /program/report` and `tend program` call
(adapters/evaluation/program.py), with its charts inline."""

from __future__ import annotations

import datetime as dt

from flask import render_template
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields

from adapters.evaluation import offer_kpis, program
from adapters.http.console.access import bp, page
from adapters.http.contract import query_args
from adapters.http.state import state

DEFAULT_DAYS = 90  # a quarter, ending with today
VERDICTS = {"significant": _l("significant"), "not significant": _l("not significant"),
            "too small to tell": _l("too small to tell")}


class ProgramPageQuery(Schema):
    from_day = fields.String(data_key="from")
    to_day = fields.String(data_key="to")


@bp.get("/program")
@page("read")
def program_page() -> str:
    st = state()
    now = st.now()
    args = query_args(ProgramPageQuery())
    first, end = args.get("from_day"), args.get("to_day")
    if not first and not end:  # the quarter up to today; one without the other is refused
        tomorrow = st.config.today(now) + dt.timedelta(1)
        first = (tomorrow - dt.timedelta(DEFAULT_DAYS)).isoformat()
        end = tomorrow.isoformat()
    span = program.period(first, end, st.config)
    with st.transaction() as conn:
        found = program.report(conn, st.config, offer_kpis.costs(st.library.offers), span, now)
    from adapters.http.console.program_charts import charts  # matplotlib: loaded when asked

    labels = {"treated": _("treated"), "global_control": _("global control"),
              "converted": _("converted (%)"), "rate_title": _("Conversion rate"),
              "uplift_title": _("Uplift with its %(level)s interval",
                                level=f"{found.uplift.level:.0%}"),
              "points": _("uplift, percentage points"), "customers": _("customers"),
              "playbooks_title": _("Customers per playbook")}
    return render_template("console/program.html", r=found, first=span.first, end=span.end,
                           last=span.end - dt.timedelta(1), charts=charts(found, labels),
                           points=points, signed_pct=signed_pct, amount=amount, money=money,
                           verdict_label=lambda v: str(VERDICTS.get(v, v)))


def points(value: float | None) -> str:
    """A difference of rates in percentage points: "+3.2 pts", "+3.2 个百分点"."""
    return "—" if value is None else f"{value * 100:+.1f} {_('pts')}"


def signed_pct(value: float | None) -> str:
    return "—" if value is None else ("+" if value > 0 else "") + format_percent(value, "#,##0.0%")


def amount(value: float | None) -> str:
    return "—" if value is None else format_decimal(value, "#,##0.0")


def money(value: float | None) -> str:
    return "—" if value is None else format_decimal(value, "#,##0.00")
