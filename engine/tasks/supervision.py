"""Supervision (督办): which managers a supervisor answers for, when a manager's task is
overdue, and the week a manager's rates are counted over.

A team's account managers are listed in config.yaml beside its members
(`teams: {north: {managers: [m01, m02]}}`); a user with the role `supervisor:north` supervises
them: sees their queues and reassigns (转派) their waiting tasks. A manager id belongs to at
most one team, so "whose supervisor" has one answer. The `supervision:` section says how long
a task may wait on each channel before it is overdue (`sla`, from its due time) and how many
overdue tasks make a manager's queue a warning (`overdue_warning`), and which channels are
stores' queues a supervisor may hand tasks to (`stores`). Pure: the adapters count,
this module decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import fields, validate

from engine.errors import Problem
from engine.formats.schemas import Duration, Integer, Strict
from engine.formats.source import Source

DEFAULT_SLA = dt.timedelta(days=1)  # a channel the section does not name
DEFAULT_WARNING = 10


class SupervisionSchema(Strict):
    sla = fields.Dict(keys=fields.String(), values=Duration("mhdw"), load_default=dict)
    default_sla = Duration("mhdw", load_default=DEFAULT_SLA)
    overdue_warning = Integer(load_default=DEFAULT_WARNING,
                              validate=validate.Range(min=1, error="expected 1 or more"))
    stores = fields.List(fields.String(), load_default=list)  # channels tasks may go to


@dataclass(frozen=True)
class Supervision:
    """The teams' managers, the channels' SLAs and the warning threshold, as loaded."""

    managers: Mapping[str, frozenset[str]] = field(default_factory=dict)  # team → manager ids
    sla: Mapping[str, dt.timedelta] = field(default_factory=dict)
    default_sla: dt.timedelta = DEFAULT_SLA
    overdue_warning: int = DEFAULT_WARNING
    stores: tuple[str, ...] = ()  # store channels a supervisor may hand tasks to

    def sla_of(self, channel: str) -> dt.timedelta:
        return self.sla.get(channel, self.default_sla)

    def overdue_since(self, channel: str, now: dt.datetime) -> dt.datetime:
        """A task of `channel` due before this instant and still waiting is overdue."""
        return now - self.sla_of(channel)

    def team_of(self, manager: str) -> str | None:
        return next((team for team, ids in self.managers.items() if manager in ids), None)

    def supervised(self, teams: frozenset[str]) -> frozenset[str]:
        """The manager ids the supervisors of `teams` answer for."""
        return frozenset(m for team in teams for m in self.managers.get(team, ()))

    def warns(self, overdue: int) -> bool:
        return overdue >= self.overdue_warning

    def teams_for(self, roles: frozenset[str]) -> frozenset[str]:
        """The teams whose managers a holder of `roles` supervises: each `supervisor:<team>`,
        every team for admin (the API and the console ask this)."""
        if "admin" in roles:
            return frozenset(self.managers)
        return frozenset(r.split(":", 1)[1] for r in roles
                         if r.startswith("supervisor:")) & frozenset(self.managers)

    def routes_for(self, roles: frozenset[str]) -> frozenset[str]:
        """The task routes (`manager:<id>`) of the managers a holder of `roles` supervises."""
        return frozenset(f"manager:{m}" for m in self.supervised(self.teams_for(roles)))


def build_supervision(data: Mapping[str, Any], teams: Mapping[str, Any]) -> Supervision:
    return Supervision(
        managers={name: frozenset(t.get("managers", ())) for name, t in teams.items()},
        sla=dict(data.get("sla", {})), default_sla=data.get("default_sla", DEFAULT_SLA),
        overdue_warning=data.get("overdue_warning", DEFAULT_WARNING),
        stores=tuple(data.get("stores", ())))


def supervision_problems(source: Source, data: Mapping[str, Any], teams: Mapping[str, Any],
                         channels: Mapping[str, Any]) -> list[Problem]:
    """SLAs and stores name channels this file binds; a manager id is in one team only."""
    known = ", ".join(channels) or "none declared"
    problems = [source.at(["supervision", "sla", name],
                          f"unknown channel {name!r} (expected one of: {known})")
                for name in data.get("sla", {}) if name not in channels]
    problems += [source.at(["supervision", "stores", i],
                           f"unknown channel {name!r} (expected one of: {known})")
                 for i, name in enumerate(data.get("stores", ())) if name not in channels]
    seen: dict[str, str] = {}
    for team, spec in teams.items():
        for i, manager in enumerate(spec.get("managers", ())):
            if manager in seen and seen[manager] != team:
                problems.append(source.at(["teams", team, "managers", i],
                                          f"manager {manager!r} is in team {seen[manager]!r} "
                                          "already: a manager has one supervising team"))
            seen.setdefault(manager, team)
    return problems


def week_of(now: dt.datetime, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The week holding `now`, Monday 00:00 to the next Monday 00:00 in the configured zone
    (the rates "this week" a supervisor reads are counted over it)."""
    local = now.astimezone(zone)
    monday = local.date() - dt.timedelta(days=local.weekday())
    start = dt.datetime.combine(monday, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def rounded_rate(part: int, whole: int) -> float | None:
    """A share to four places, for a supervisor's board; None when nothing was counted (no
    result is not a 0% rate). Not engine.measurement.kpi.rate: tasks sit below measurement."""
    return round(part / whole, 4) if whole else None
