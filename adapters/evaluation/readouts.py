"""Each playbook version's pooled readout (engine/measurement/sequential.py), loaded from its
tickets.

The strata are what the version has **evaluated**: each closed ticket with results (its goal
window ended), and each **complete weekly cohort of a standing ticket** (event- and
contact-triggered tickets never close; a cohort is the entries of one ISO week, as the
ticket's report cuts them, complete once the goal window of its last entry has ended), its
treatment against its own control. A running ticket, and a standing ticket's open cohort,
are left out although their conversions so far are known: their difference is a fraction of
the effect (most conversions come later in the window), and the Mantel–Haenszel weights
count members, not elapsed days, so pooling them would pull the estimate towards 0 and let
"no difference" be said about that diluted figure (seeded trials: with +5 pts planted, 34 of
50 versions read "no difference" on day 11 when running tickets were pooled). Every
evaluated ticket and every week that completes adds a stratum, so the readout moves daily for
a daily playbook, weekly for an event-triggered one, and may be looked at every day (the
interval is always valid).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.schema import playbook_versions, tickets
from adapters.evaluation.readout_chart import Interval, chart
from adapters.evaluation.results import cohorts
from engine.config import Config
from engine.errors import ValidationError
from engine.measurement.sequential import Readout, Stratum, readout
from engine.measurement.uplift import uplift
from engine.playbooks.library import Library
from engine.playbooks.playbook import Goal
from engine.playbooks.playbook_loader import parse_playbook

STANDING = "standing:"  # the window_key of a standing ticket: standing:v<N>


@dataclass(frozen=True)
class Reading:
    """What reading standing tickets' cohorts needs: their playbook version's goal (parsed
    from the stored text against the library's workflows), the week's timezone, and now."""

    config: Config
    library: Library
    now: dt.datetime


class Labelled(NamedTuple):
    label: str  # "#12", or "#7 2026-W47" for a standing ticket's cohort
    stratum: Stratum
    cohort: bool


def _evaluated(conn: Connection, playbook_id: str, reading: Reading
               ) -> dict[int, list[Labelled]]:
    """Per version, one stratum per evaluated ticket and per complete cohort of its standing
    tickets (in ticket, then week order)."""
    rows = conn.execute(sa.select(tickets.c.id, tickets.c.version, tickets.c.state,
                                  tickets.c.results, tickets.c.window_key,
                                  tickets.c.started_at)
                        .where(tickets.c.playbook == playbook_id,
                               sa.or_(tickets.c.state == "closed",
                                      tickets.c.window_key.startswith(STANDING)))
                        .order_by(tickets.c.id))
    found: dict[int, list[Labelled]] = {}
    goals: dict[int, Goal | None] = {}
    for row in rows:
        if row.state == "closed":
            stratum = stratum_of(row.results)
            if stratum is not None:
                found.setdefault(row.version, []).append(Labelled(f"#{row.id}", stratum, False))
            continue
        if row.started_at is None:
            continue
        if row.version not in goals:
            goals[row.version] = _goal(conn, reading, playbook_id, row.version)
        goal = goals[row.version]
        if goal is None:
            continue
        for c in cohorts(conn, reading.config, goal, row.id, reading.now):
            if c["complete"]:
                found.setdefault(row.version, []).append(Labelled(
                    f"#{row.id} {c['week']}", Stratum(
                        c["treatment"]["members"], c["treatment"]["conversions"],
                        c["control"]["members"], c["control"]["conversions"]), True))
    return found


def _goal(conn: Connection, reading: Reading, playbook_id: str, version: int
          ) -> Goal | None:
    """The goal of the version a standing ticket runs on (None without one, or when its
    stored text no longer parses against today's config: it cannot be judged then)."""
    text = conn.scalar(sa.select(playbook_versions.c.text).where(
        playbook_versions.c.playbook == playbook_id, playbook_versions.c.version == version))
    if text is None:
        return None
    loaded = reading.library.playbooks.get(playbook_id)
    if loaded is not None and loaded.version == version and loaded.text == text:
        return loaded.goal
    try:
        return parse_playbook(text, f"{playbook_id}@v{version}", reading.config,
                              reading.library.workflows).goal
    except ValidationError:
        return None


def charted(conn: Connection, playbook_id: str, reading: Reading
            ) -> dict[int, dict[str, Any]]:
    """Per version with an evaluated ticket or cohort: its `readout` (readout_json) and
    `chart` (PNG bytes or None): each stratum's uplift and 95% interval (engine.measurement.uplift,
    from its counts) above the pooled readout's, for the console's playbook page."""
    out = {}
    for version, found in _evaluated(conn, playbook_id, reading).items():
        shape = readout_json(readout([s.stratum for s in found]), _cohorts(found))
        intervals = []
        for label, s, _ in found:
            u = uplift(s.treatment, s.treatment_conversions, s.control, s.control_conversions)
            if u.absolute is not None and u.low is not None and u.high is not None:
                intervals.append(Interval(label, u.absolute, u.low, u.high))
        out[version] = {"readout": shape, "chart": chart(intervals, shape)}
    return out


def stratum_of(results: Mapping[str, Any] | None) -> Stratum | None:
    """A closed ticket's stored goal counts; None without a goal."""
    goal = (results or {}).get("goal")
    if not goal:
        return None
    t, c = goal["treatment"], goal["control"]
    return Stratum(t["members"], t["conversions"], c["members"], c["conversions"])


class Pooled(NamedTuple):
    readout: Readout
    cohorts: int  # of its strata, the standing tickets' complete weekly cohorts


def readouts(conn: Connection, playbook_id: str, reading: Reading) -> dict[int, Pooled]:
    """Each version's readout now (versions without an evaluated ticket or cohort are
    absent)."""
    return {version: Pooled(readout([s.stratum for s in found]), _cohorts(found))
            for version, found in _evaluated(conn, playbook_id, reading).items()}


def _cohorts(found: list[Labelled]) -> int:
    """The cohorts among the strata the readout pools (those with both groups)."""
    return sum(s.cohort and s.stratum.treatment > 0 and s.stratum.control > 0 for s in found)


def readout_json(found: Readout | None, cohorts: int = 0) -> dict[str, Any]:
    """The API's shape: the readout's fields (fractions) and the same in percentage points
    under names that say so; `collecting` with nothing to pool when there is no readout.
    `strata` counts tickets and cohorts; `cohorts` the standing tickets' weekly cohorts among
    them (`tickets` the closed tickets)."""
    shape = dataclasses.asdict(found if found is not None else readout([]))
    shape["cohorts"] = cohorts
    shape["tickets"] = shape["strata"] - cohorts
    for key in ("estimate", "low", "high", "bound", "margin"):
        value = shape[key]
        shape[f"{key}_pts"] = None if value is None else round(value * 100, 6)
    return shape
