"""A ticket's report for a director: the uplift with its interval, the funnel, and conversions
over time for treatment vs control, as one HTML page with PNG charts.

The HTTP response embeds the charts as data: URIs (one self-contained page); `tend report
--out DIR` writes report.html next to the PNG files it links. Charts are drawn by matplotlib
on the Agg backend (no display, no GUI toolkit) through Figure objects, never pyplot, whose
global figure registry is not safe under a threaded server.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import logging
import os
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Connection

from adapters.evaluation import offer_kpis
from adapters.evaluation.results import results as evaluate
from adapters.evaluation.variants import judged
from adapters.tickets import service as tickets
from adapters.tickets.store import planned_playbook, ticket_row
from engine.config import Config
from engine.kpi import FUNNEL
from engine.library import Library
from engine.units import in_units, interval_pts, pts, relative

os.environ.setdefault("MPLBACKEND", "Agg")
# The first import builds matplotlib's font cache and says so at WARNING; a report has
# nothing to learn from it.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
import matplotlib  # noqa: E402

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

TEMPLATES = Path(__file__).parent / "report_templates"
TREATMENT, CONTROL, NEUTRAL = "#1f6f8b", "#c9a227", "#8a8f98"
_env = Environment(loader=FileSystemLoader(TEMPLATES),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def _local(text: str | None, zone: str) -> str:
    """An instant as a director reads it: minutes, in the configured timezone."""
    if not text:
        return ""
    return dt.datetime.fromisoformat(text).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


_env.filters.update(local=_local, pts=pts, relative=relative)


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


def charts(ticket: Mapping[str, Any],
           only: Collection[str] | None = None) -> dict[str, bytes]:
    """PNG charts by name; only those the results have data for (and, given `only`, only
    those named: the console's ticket page draws the uplift and the timeline inline)."""
    found = ticket.get("results") or {}
    drawn: dict[str, bytes] = {}
    plans: list[tuple[str, Callable[[Figure, Any], None], Any]] = []
    if found.get("goal"):
        plans.append(("uplift", _uplift_chart, found["goal"]))
    if found.get("timeline"):
        plans.append(("timeline", _timeline_chart, found["timeline"]))
    if found.get("cohorts"):
        plans.append(("cohorts", _cohort_chart, found["cohorts"]))
    if found.get("funnel"):
        plans.append(("funnel", _funnel_chart, found["funnel"]))
    for name, draw, data in plans:
        if only is not None and name not in only:
            continue
        fig = Figure(figsize=(7.2, 3.4), dpi=110)  # not pyplot: no global state across threads
        draw(fig, data)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        drawn[name] = buffer.getvalue()
    return drawn


def html(ticket: Mapping[str, Any], sources: Mapping[str, str], back: str | None = None) -> str:
    """The page; `sources` maps chart names to what an <img src> should hold; `back`, a link
    to the page the reader came from (the console's ticket page)."""
    return _env.get_template("ticket.html").render(t=ticket, r=ticket.get("results") or {},
                                                   charts=sources, stages=FUNNEL[1:],
                                                   back=back)


def data_uris(ticket: Mapping[str, Any], only: Collection[str] | None = None) -> dict[str, str]:
    """The charts as data: URIs, for a page that embeds them."""
    return {name: "data:image/png;base64," + base64.b64encode(png).decode()
            for name, png in charts(ticket, only).items()}


def page(ticket: Mapping[str, Any], back: str | None = None) -> str:
    """One self-contained page: charts embedded as data: URIs."""
    return html(ticket, data_uris(ticket), back)


def write(ticket: Mapping[str, Any], out: Path) -> list[Path]:
    """report.html and its PNG charts in `out` (created); returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    sources = {}
    for name, png in charts(ticket).items():
        path = out / f"ticket-{ticket['id']}-{name}.png"
        path.write_bytes(png)
        written.append(path)
        sources[name] = path.name
    target = out / f"ticket-{ticket['id']}.html"
    target.write_text(html(ticket, sources), encoding="utf-8")
    return [target, *written]


def _style(ax: Any) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", alpha=0.25)


def _uplift_chart(fig: Figure, goal: Mapping[str, Any]) -> None:
    rates, diff = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    u = goal["uplift"]
    values = [(u["treatment_rate"] or 0) * 100, (u["control_rate"] or 0) * 100]
    bars = rates.bar(["treatment", "control"], values, color=[TREATMENT, CONTROL], width=0.6)
    rates.bar_label(bars, labels=[f"{v:.1f}%" for v in values], padding=2)
    rates.set_ylabel("converted (%)")
    rates.set_title("Conversion rate", fontsize=10)
    rates.set_ylim(0, max([*values, 1]) * 1.25)
    _style(rates)
    diff.axvline(0, color=NEUTRAL, linewidth=1)
    if u["absolute"] is not None:
        low, mid, high = (u["low"] * 100, u["absolute"] * 100, u["high"] * 100)
        colour = TREATMENT if u["verdict"] == "significant" else NEUTRAL
        diff.errorbar([mid], [0], xerr=[[mid - low], [high - mid]], fmt="o", color=colour,
                      capsize=8, markersize=9, linewidth=2.5)
        diff.annotate(f"{pts(u['absolute'])}  {interval_pts(u['low'], u['high'])}", (mid, 0),
                      xytext=(0, 14), textcoords="offset points", ha="center")
        span = max(abs(low), abs(high), 1) * 1.3
        diff.set_xlim(-span, span)
    diff.set_yticks([])
    diff.set_ylim(-1, 1)
    diff.set_xlabel("uplift, percentage points")
    diff.set_title(f"Uplift with {u['level']:.0%} interval: {u['verdict']}", fontsize=10)
    for side in ("top", "right", "left"):
        diff.spines[side].set_visible(False)


def _timeline_chart(fig: Figure, timeline: list[Mapping[str, Any]]) -> None:
    ax = fig.subplots()
    days = [p["day"] for p in timeline]
    for grp, colour in (("treatment", TREATMENT), ("control", CONTROL)):
        ys = [(p[f"{grp}_rate"] or 0) * 100 for p in timeline]
        ax.step(days, ys, where="post", color=colour, linewidth=2, label=grp)
    ax.set_xlabel("days since entry")
    ax.set_ylabel("converted so far (%)")
    ax.set_title("Conversions over time", fontsize=10)
    ax.set_xlim(0, max(days) or 1)
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, loc="upper left")
    _style(ax)


def _cohort_chart(fig: Figure, cohorts: list[Mapping[str, Any]]) -> None:
    ax = fig.subplots()
    ax.axhline(0, color=NEUTRAL, linewidth=1)
    for i, c in enumerate(cohorts):
        u = c["uplift"]
        if u["absolute"] is None:
            continue
        mid = u["absolute"] * 100
        colour = TREATMENT if u["verdict"] == "significant" else NEUTRAL
        ax.errorbar([i], [mid], yerr=[[mid - u["low"] * 100], [u["high"] * 100 - mid]],
                    fmt="o", color=colour, capsize=5, alpha=1 if c["complete"] else 0.45)
    ax.set_xticks(range(len(cohorts)), [c["week"] for c in cohorts], rotation=30, ha="right")
    ax.set_xlim(-0.5, len(cohorts) - 0.5)
    ax.set_ylabel("uplift, percentage points")
    ax.set_title("Uplift by weekly cohort (faded: window still open)", fontsize=10)
    _style(ax)


def _funnel_chart(fig: Figure, funnel: list[Mapping[str, Any]]) -> None:
    ax = fig.subplots()
    stages = FUNNEL[1:]
    width = 0.8 / max(1, len(funnel))
    palette = [TREATMENT, CONTROL, "#6a4c93", "#2a9d8f", "#e76f51", NEUTRAL]
    for i, f in enumerate(funnel):
        xs = [s + i * width for s in range(len(stages))]
        ax.bar(xs, [f[s] for s in stages], width=width, color=palette[i % len(palette)],
               label=f"{f['step']} ({f['channel']})")
    ax.set_xticks([s + width * (len(funnel) - 1) / 2 for s in range(len(stages))], stages)
    ax.set_ylabel("tasks")
    ax.set_title("Funnel per step", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    _style(ax)
