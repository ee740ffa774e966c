"""Each playbook version's pooled readout (engine/sequential.py), loaded from its tickets.

The strata are the version's **evaluated** tickets: closed with results, their goal window
ended. A running ticket is left out although its conversions so far are known: its
difference is a fraction of its effect (most conversions come later in the window), and the
Mantel–Haenszel weights count members, not elapsed days, so pooling it would pull the
estimate towards 0 and let "no difference" be said about that diluted figure (seeded
trials: with +5 pts planted, 34 of 50 versions read "no difference" on day 11 when running
tickets were pooled). Every evaluated ticket adds a stratum, so the readout moves daily for a
daily playbook and may be looked at every day (the interval is always valid).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.schema import tickets
from adapters.evaluation.readout_chart import Interval, chart
from engine.sequential import Readout, Stratum, readout
from engine.uplift import uplift


def strata(conn: Connection, playbook_id: str) -> dict[int, list[Stratum]]:
    """Per version, one stratum per evaluated ticket (in ticket order)."""
    return {version: [s for _, s in found] for version, found in _evaluated(conn, playbook_id)
            .items()}


def _evaluated(conn: Connection, playbook_id: str) -> dict[int, list[tuple[int, Stratum]]]:
    rows = conn.execute(sa.select(tickets.c.id, tickets.c.version, tickets.c.results)
                        .where(tickets.c.playbook == playbook_id, tickets.c.state == "closed")
                        .order_by(tickets.c.id))
    found: dict[int, list[tuple[int, Stratum]]] = {}
    for ticket_id, version, results in rows:
        stratum = stratum_of(results)
        if stratum is not None:
            found.setdefault(version, []).append((ticket_id, stratum))
    return found


def charted(conn: Connection, playbook_id: str) -> dict[int, dict[str, Any]]:
    """Per version with an evaluated ticket: its `readout` (readout_json) and `chart` (PNG
    bytes or None): each evaluated ticket's uplift and 95% interval (engine.uplift, from its
    counts) above the pooled readout's, for the console's playbook page."""
    out = {}
    for version, found in _evaluated(conn, playbook_id).items():
        shape = readout_json(readout([s for _, s in found]))
        intervals = []
        for ticket_id, s in found:
            u = uplift(s.treatment, s.treatment_conversions, s.control, s.control_conversions)
            if u.absolute is not None and u.low is not None and u.high is not None:
                intervals.append(Interval(f"#{ticket_id}", u.absolute, u.low, u.high))
        out[version] = {"readout": shape, "chart": chart(intervals, shape)}
    return out


def stratum_of(results: Mapping[str, Any] | None) -> Stratum | None:
    """A closed ticket's stored goal counts; None without a goal."""
    goal = (results or {}).get("goal")
    if not goal:
        return None
    t, c = goal["treatment"], goal["control"]
    return Stratum(t["members"], t["conversions"], c["members"], c["conversions"])


def readouts(conn: Connection, playbook_id: str) -> dict[int, Readout]:
    """Each version's readout now (versions without an evaluated ticket are absent)."""
    return {version: readout(found) for version, found in strata(conn, playbook_id).items()}


def readout_json(found: Readout | None) -> dict[str, Any]:
    """The API's shape: the readout's fields (fractions) and the same in percentage points
    under names that say so; `collecting` with nothing to pool when there is no readout."""
    shape = dataclasses.asdict(found if found is not None else readout([]))
    for key in ("estimate", "low", "high", "bound", "margin"):
        value = shape[key]
        shape[f"{key}_pts"] = None if value is None else round(value * 100, 6)
    return shape
