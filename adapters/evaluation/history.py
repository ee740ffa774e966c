"""A playbook's library history: every stored version with the tickets it ran and how they did,
so a designer sees whether version 3 beats version 2.

Per ticket the figures are its stored results (closed tickets) or, before it closes, the
audience it was planned with. Per version the closed tickets are pooled twice: `pooled` sums
their counts and judges them as one comparison (engine.measurement.uplift; kept for existing
clients, it assumes the tickets' audiences are alike), and `readout` stratifies by ticket (and by
week for standing tickets) with an interval valid at every look (engine.measurement.sequential,
adapters.evaluation.readouts), which is the one to read every day.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import iso
from adapters.db.schema import playbook_versions, tickets
from adapters.evaluation import offer_kpis, readouts
from engine.errors import NotFound
from engine.measurement.offer_kpi import offer_results
from engine.measurement.sequential import NO_DIFFERENCE
from engine.measurement.units import in_units, interval_pts, pts
from engine.measurement.uplift import uplift


def history(conn: Connection, playbook_id: str, reading: readouts.Reading,
            known: bool = False, prices: Mapping[str, float | None] | None = None
            ) -> dict[str, Any]:
    """`reading`: config, library and now, to read standing tickets' weekly cohorts into the
    readout; `known`: the playbook is in the library (so no versions yet is not a 404);
    `prices`: each offer's cost of one handled, for the versions' `offers` (results per offer
    of the contacts naming their tickets, docs/EVALUATION.md)."""
    versions = conn.execute(sa.select(playbook_versions.c.version, playbook_versions.c.hash,
                                      playbook_versions.c.loaded_at,
                                      playbook_versions.c.reason)
                            .where(playbook_versions.c.playbook == playbook_id)
                            .order_by(playbook_versions.c.version)).all()
    if not versions and not known:
        raise NotFound(f"unknown playbook {playbook_id!r}")
    rows = conn.execute(sa.select(tickets).where(tickets.c.playbook == playbook_id)
                        .order_by(tickets.c.id)).all()
    by_version: dict[int, list[dict[str, Any]]] = {v.version: [] for v in versions}
    contacts = offer_kpis.of_tickets(conn, (row.id for row in rows))
    offered: dict[int, list[Any]] = {}
    for row in rows:
        by_version.setdefault(row.version, []).append(_ticket(row))
        offered.setdefault(row.version, []).extend(contacts.get(row.id, ()))
    read = readouts.readouts(conn, playbook_id, reading)
    items = []
    for version in sorted(by_version):
        stored = next((v for v in versions if v.version == version), None)
        runs = by_version[version]
        items.append({"version": version, "hash": stored.hash if stored else None,
                      "loaded_at": iso(stored.loaded_at) if stored else None,
                      "reason": stored.reason if stored else None,
                      "tickets": runs, "pooled": _pooled(runs),
                      "readout": _readout(read.get(version)),
                      "offers": offer_results(offered.get(version, ()), prices or {})})
    return {"playbook": playbook_id, "versions": items}


def _readout(found: readouts.Pooled | None) -> dict[str, Any]:
    if found is None:
        return readouts.readout_json(None)
    return readouts.readout_json(found.readout, found.cohorts)


def _ticket(row: Any) -> dict[str, Any]:
    goal = (row.results or {}).get("goal")
    audience = row.rehearsal or {}
    shape: dict[str, Any] = {
        "id": row.id, "state": row.state, "trigger": row.trigger,
        "planned_at": iso(row.planned_at), "started_at": iso(row.started_at),
        "closed_at": iso(row.closed_at),
        "treatment": audience.get("treatment", 0), "control": audience.get("control", 0),
        "treatment_conversions": None, "control_conversions": None,
        "uplift": None, "low": None, "high": None, "p_value": None, "verdict": None,
        "uplift_pts": None, "low_pts": None, "high_pts": None}
    if goal:  # judged again from the counts: results stored before uplift had an interval
        t, c = goal["treatment"], goal["control"]
        u = uplift(t["members"], t["conversions"], c["members"], c["conversions"])
        shape.update(treatment=u.treatment, control=u.control,
                     treatment_conversions=u.treatment_conversions,
                     control_conversions=u.control_conversions, uplift=u.absolute,
                     low=u.low, high=u.high, p_value=u.p_value, verdict=u.verdict)
        units = in_units(dataclasses.asdict(u))
        shape.update(uplift_pts=units["absolute_pts"], low_pts=units["low_pts"],
                     high_pts=units["high_pts"])
    return shape


def _pooled(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    judged = [t for t in runs if t["state"] == "closed" and t["verdict"] is not None]
    if not judged:
        return None
    counts = [sum(t[key] for t in judged) for key in
              ("treatment", "treatment_conversions", "control", "control_conversions")]
    return {"tickets": len(judged), **in_units(dataclasses.asdict(uplift(*counts)))}


def control_rate(conn: Connection, playbook_id: str) -> float | None:
    """The playbook's measured base rate: its closed tickets' control conversions over their
    control members, any version (the goal is the playbook's; a new version rarely moves
    the control group's behaviour). None before a closed ticket has a control member, or
    while the rate is 0 or 1, where no power can be computed."""
    rows = conn.execute(sa.select(tickets.c.results).where(
        tickets.c.playbook == playbook_id, tickets.c.state == "closed")).scalars()
    members = conversions = 0
    for results in rows:
        control = ((results or {}).get("goal") or {}).get("control") or {}
        members += control.get("members", 0)
        conversions += control.get("conversions", 0)
    if not members or not 0 < conversions < members:
        return None
    return conversions / members


def verdict_text(found: Mapping[str, Any]) -> str:
    """A readout's verdict in words, its bound in points: "no difference larger than
    2.4 pts"."""
    if found["verdict"] == NO_DIFFERENCE:
        return f"no difference larger than {pts(found['bound']).lstrip('+')}"
    return str(found["verdict"])


def render(found: Mapping[str, Any]) -> str:
    """`tend history`: per version its tickets, then the pooled readout."""
    lines = [f"playbook {found['playbook']}"]
    for v in found["versions"]:
        lines.append(f"  v{v['version']}  {len(v['tickets'])} tickets")
        for t in v["tickets"]:
            judged = (f"{t['treatment_conversions']:,}/{t['treatment']:,} vs "
                      f"{t['control_conversions']:,}/{t['control']:,}  {pts(t['uplift'])} "
                      f"{interval_pts(t['low'], t['high'])}  {t['verdict']}"
                      if t["verdict"] is not None else
                      f"planned {t['treatment']:,} treatment, {t['control']:,} control")
            lines.append(f"    #{t['id']:<6} {t['state']:<10} {judged}")
        r = v["readout"]
        figure = ("" if r["estimate"] is None else
                  f"  {pts(r['estimate'])} {interval_pts(r['low'], r['high'])}")
        pooled = f"{r['tickets']} evaluated tickets"
        if r["cohorts"]:
            pooled += f" and {r['cohorts']} weekly cohorts of standing tickets"
        lines.append(f"    readout ({pooled}, pooled by ticket, "
                     f"{r['level']:.0%} valid at every look): {verdict_text(r)}{figure}")
    if not found["versions"]:
        lines.append("  no ticket has been planned on it yet")
    return "\n".join(lines)
