"""config.yaml as the process sees it: tiers, lifecycle stages, typed attributes and events,
channels, timezone, the notifier that tells approvers about tickets, and the policies of its
sections, in a frozen `Config`.

Loaded once per process (engine/config_loader.py reads and checks the file); everything that
depends on it (catalogs, computed fields, the SQL renderer, the library's folders) takes it as
an argument rather than reading a global.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from engine.folders import Folders
from engine.formats.values import FieldType
from engine.language.customer import Stage, Tier
from engine.language.fields import Catalog, customer_catalog, with_event
from engine.tasks.assignment import AssignmentRules
from engine.tasks.channel import Channel
from engine.tasks.policy import Policy
from engine.tasks.reasons import ResultReasons
from engine.tasks.supervision import Supervision

DEFAULT_DATABASE_URL = "sqlite:///var/tend.db"
DEFAULT_MISFIRE_GRACE = dt.timedelta(hours=1)
DEFAULT_REHEARSAL_MAX_AGE = dt.timedelta(hours=6)


@dataclass(frozen=True)
class Notifier:
    """How approvers hear about tickets; the fields a kind does not use stay at defaults."""

    kind: str = "log"
    base_url: str = "http://127.0.0.1:8000"
    host: str | None = None
    port: int = 25
    sender: str = "tend@localhost"
    to: str | None = None
    to_by_role: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    secret_env: str | None = None
    timeout: float = 5.0

    def ticket_url(self, ticket_id: int) -> str:
        return f"{self.base_url.rstrip('/')}/tickets/{ticket_id}"


@dataclass(frozen=True)
class Config:
    tiers: tuple[Tier, ...]
    lifecycle: tuple[Stage, ...]
    attributes: Mapping[str, FieldType]
    events: Mapping[str, Mapping[str, FieldType]]
    timezone: ZoneInfo
    trigger_max_age: dt.timedelta
    channels: Mapping[str, Channel]
    roles: tuple[str, ...]
    database_url: str
    path: str = "config.yaml"
    notifier: Notifier = field(default_factory=Notifier)
    task_lease: dt.timedelta = dt.timedelta(minutes=5)  # how long a pulled task is held
    # how late the scheduler still sweeps a fire it missed (down, killed mid-sweep, handover)
    misfire_grace: dt.timedelta = DEFAULT_MISFIRE_GRACE
    policy: Policy = field(default_factory=Policy)  # no `contact_policy` section: no limits
    teams: Mapping[str, frozenset[str]] = field(default_factory=dict)  # team → member names
    contact_channels: tuple[str, ...] = ()  # where customers reach us (offers, views)
    global_control: float = 0.0  # share of customers no marketing playbook contacts
    embed_origins: tuple[str, ...] = ()  # may frame /console/customers/<id>/compact
    folders: Folders = field(default_factory=Folders)  # the library's; not from config.yaml
    supervision: Supervision = field(default_factory=Supervision)  # teams' managers, SLAs
    reasons: ResultReasons = field(default_factory=ResultReasons)  # result reason codes
    rehearsal_max_age: dt.timedelta = DEFAULT_REHEARSAL_MAX_AGE  # approval.rehearsal_max_age
    assignment: AssignmentRules = field(default_factory=AssignmentRules)  # 划配 rules

    def owner_known(self, owner: str) -> bool:
        """A playbook's owner is a declared team or a member of one: users live in the
        database, so the file can only vouch for the names it lists."""
        return owner in self.teams or any(owner in m for m in self.teams.values())

    def owners(self, owner: str | None) -> frozenset[str]:
        """The people an owner stands for, none of whom may approve the playbook's tickets:
        the owner named, and the members when it is a team."""
        if owner is None:
            return frozenset()
        return frozenset({owner, *self.teams.get(owner, ())})

    @property
    def tier_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tiers)

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.lifecycle)

    def catalog(self, event_type: str | None = None) -> Catalog:
        """Fields a playbook may use: its event's data fields when it is event-triggered."""
        base = customer_catalog(self.attributes, self.tier_names, self.stage_names)
        if event_type is None:
            return base
        return with_event(base, self.events.get(event_type, {}))

    def today(self, at: dt.datetime) -> dt.date:
        """The calendar date of `at` in the configured timezone."""
        return at.astimezone(self.timezone).date()
