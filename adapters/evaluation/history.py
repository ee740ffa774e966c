"""A playbook's library history: every stored version with the tickets it ran and how they did,
so a designer sees whether version 3 beats version 2.

Per ticket the figures are its stored results (closed tickets) or, before it closes, the
audience it was planned with. Per version the closed tickets are pooled: their treatment and
control counts are summed and judged as one comparison (engine.uplift). Pooling assumes the
tickets' audiences are alike; a version whose tickets differ a lot (seasons, offers) is
better read ticket by ticket.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import iso
from adapters.db.schema import playbook_versions, tickets
from adapters.evaluation import offer_kpis
from engine.errors import NotFound
from engine.offer_kpi import offer_results
from engine.uplift import uplift


def history(conn: Connection, playbook_id: str, known: bool = False,
            prices: Mapping[str, float | None] | None = None) -> dict[str, Any]:
    """`known`: the playbook is in the library (so no versions yet is not a 404); `prices`:
    each offer's cost of one handled, for the versions' `offers` (results per offer of the
    contacts naming their tickets, docs/EVALUATION.md)."""
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
    items = []
    for version in sorted(by_version):
        stored = next((v for v in versions if v.version == version), None)
        runs = by_version[version]
        items.append({"version": version, "hash": stored.hash if stored else None,
                      "loaded_at": iso(stored.loaded_at) if stored else None,
                      "reason": stored.reason if stored else None,
                      "tickets": runs, "pooled": _pooled(runs),
                      "offers": offer_results(offered.get(version, ()), prices or {})})
    return {"playbook": playbook_id, "versions": items}


def _ticket(row: Any) -> dict[str, Any]:
    goal = (row.results or {}).get("goal")
    audience = row.rehearsal or {}
    shape: dict[str, Any] = {
        "id": row.id, "state": row.state, "trigger": row.trigger,
        "planned_at": iso(row.planned_at), "started_at": iso(row.started_at),
        "closed_at": iso(row.closed_at),
        "treatment": audience.get("treatment", 0), "control": audience.get("control", 0),
        "treatment_conversions": None, "control_conversions": None,
        "uplift": None, "low": None, "high": None, "p_value": None, "verdict": None}
    if goal:  # judged again from the counts: results stored before uplift had an interval
        t, c = goal["treatment"], goal["control"]
        u = uplift(t["members"], t["conversions"], c["members"], c["conversions"])
        shape.update(treatment=u.treatment, control=u.control,
                     treatment_conversions=u.treatment_conversions,
                     control_conversions=u.control_conversions, uplift=u.absolute,
                     low=u.low, high=u.high, p_value=u.p_value, verdict=u.verdict)
    return shape


def _pooled(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    judged = [t for t in runs if t["state"] == "closed" and t["verdict"] is not None]
    if not judged:
        return None
    counts = [sum(t[key] for t in judged) for key in
              ("treatment", "treatment_conversions", "control", "control_conversions")]
    return {"tickets": len(judged), **dataclasses.asdict(uplift(*counts))}


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
