"""The contact policy: how often, when, and for which playbook a customer may be contacted.

Decisions are pure functions over facts the caller loads (the customer's contacts, how much a
channel sent today), so the same rules judge a task when it is planned (execution, standing
entries, the rehearsal) and again when it is about to be sent (the claim).

A decision is `send`, `hold` until an instant (quiet hours, capacity: the task waits, it is
never dropped) or `suppress` (opted out, arbitration, a frequency cap: the task is kept with
its reason, never sent). Windows are rolling and half-open: a contact at t counts in the
window (T − per, T], so a contact exactly `per` ago no longer counts.

Every contact has a class, its playbook's (`class:`, default sales). Marketing (sales and
retention) competes in arbitration and fills the caps; care (a birthday greeting, VIP
routine care) and service (alarms the customer needs) must never be crowded out by it, so
they neither lose nor win arbitration against marketing and neither count toward nor are
stopped by its caps. A cap names the classes it counts (`classes:`, default marketing), so
care and service have caps of their own; opt-outs stop every class.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from engine.tasks.contact import Declines

SEND, HOLD, SUPPRESS = "send", "hold", "suppress"
OPTED_OUT, QUIET_HOURS, CAPACITY = "opted_out", "quiet_hours", "capacity"
ARBITRATION, FREQUENCY_CAP = "arbitration", "frequency_cap"
WRONG_NUMBER = "wrong_number"  # the phone was reported wrong (engine.tasks.reasons `bad_phone`)
SERVICE, CARE, RETENTION, SALES = "service", "care", "retention", "sales"
CLASSES = (SERVICE, CARE, RETENTION, SALES)
MARKETING = frozenset({RETENTION, SALES})
_CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$"


@dataclass(frozen=True)
class QuietHours:
    """Local times [start, end) when a channel sends nothing; start > end wraps midnight."""

    start: dt.time
    end: dt.time

    def contains(self, local: dt.time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def end_after(self, local: dt.datetime) -> dt.datetime:
        """The first local instant at or after `local` outside quiet hours."""
        if not self.contains(local.time()):
            return local
        end = dt.datetime.combine(local.date(), self.end, local.tzinfo)
        return end if end > local else end + dt.timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Cap:
    """At most `max` contacts in any window of length `per` (of one channel, or all)."""

    max: int
    per: dt.timedelta
    channel: str | None = None
    classes: frozenset[str] = MARKETING  # the contact classes it counts and stops

    def counts(self, channel: str, kind: str) -> bool:
        return self.channel in (None, channel) and kind in self.classes

    def __str__(self) -> str:
        which = "" if self.classes == MARKETING else f" ({', '.join(sorted(self.classes))})"
        return (f"{self.channel or 'all channels'}{which}: at most {self.max} per "
                f"{span_text(self.per)}")


def family(kind: str) -> str:
    """Who competes with whom in arbitration: marketing with marketing, care with care,
    service with service."""
    return "marketing" if kind in MARKETING else kind


def exemption(kind: str) -> str | None:
    """What a designer is told a class is spared (explain, the rehearsal); None for
    marketing."""
    if kind in MARKETING:
        return None
    return f"{kind}: never arbitrated against marketing, outside marketing caps"


@dataclass(frozen=True)
class ChannelRules:
    quiet_hours: QuietHours | None = None
    capacity: int | None = None  # tasks first sent per local day


@dataclass(frozen=True)
class Policy:
    """config.yaml `contact_policy`; the empty policy (no section) allows everything."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    caps: tuple[Cap, ...] = ()
    channels: Mapping[str, ChannelRules] = field(default_factory=dict)
    arbitration: dt.timedelta | None = None  # playbooks this close together compete
    declines: Declines | None = None  # an offer declined this often stops (engine.tasks.contact)
    phone_channels: frozenset[str] = frozenset()  # channels that use the customer's phone

    @property
    def lookback(self) -> dt.timedelta:
        """How far around a task the decisions look at other contacts."""
        spans = [cap.per for cap in self.caps]
        return max([*spans, self.arbitration or dt.timedelta(0)], default=dt.timedelta(0))

    def rules(self, channel: str) -> ChannelRules:
        return self.channels.get(channel, ChannelRules())


@dataclass(frozen=True)
class Contact:
    """A task that counts against the policy: sent at `at`, or planned (pending) for `at`."""

    at: dt.datetime
    channel: str
    playbook: str
    priority: int
    task_id: int | None = None
    sent: bool = True
    kind: str = SALES  # the playbook's contact class


@dataclass(frozen=True)
class Intent:
    """A task the policy is asked about: which playbook wants which channel when."""

    at: dt.datetime
    channel: str
    playbook: str
    priority: int
    opt_out: tuple[str, ...] = ()
    kind: str = SALES
    bad_phone: bool = False  # the customer's current phone was reported wrong


@dataclass(frozen=True)
class Decision:
    verdict: str
    reason: str | None = None
    until: dt.datetime | None = None
    note: str = ""

    def as_detail(self) -> dict[str, Any]:
        """What a held or suppressed task keeps in `detail`, for explain and operators."""
        out: dict[str, Any] = {"policy": self.verdict, "reason": self.reason, "note": self.note}
        if self.until is not None:
            out["until"] = self.until.isoformat()
        return out


SENT = Decision(SEND)


def outranks(a: Contact | Intent, b: Contact | Intent) -> bool:
    """Arbitration order: higher priority wins; on a tie the smaller playbook id (DESIGN §4)."""
    return a.priority > b.priority or (a.priority == b.priority and a.playbook < b.playbook)


def timing(policy: Policy, channel: str, at: dt.datetime, sent_today: int | None) -> Decision:
    """Quiet hours, then the channel's capacity for the local day of `at` (`sent_today`:
    tasks of the channel first sent that day, None to skip the capacity check)."""
    rules = policy.rules(channel)
    local = at.astimezone(policy.timezone)
    if rules.quiet_hours is not None and rules.quiet_hours.contains(local.time()):
        until = rules.quiet_hours.end_after(local).astimezone(dt.UTC)
        return Decision(HOLD, QUIET_HOURS, until, f"{channel} is quiet {rules.quiet_hours}")
    if rules.capacity is not None and sent_today is not None and sent_today >= rules.capacity:
        tomorrow = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0),
                                       policy.timezone)
        if rules.quiet_hours is not None:
            tomorrow = rules.quiet_hours.end_after(tomorrow)
        return Decision(HOLD, CAPACITY, tomorrow.astimezone(dt.UTC),
                        f"{channel} sent its {rules.capacity} for {local.date()}")
    return SENT


def rival(policy: Policy, intent: Intent, contacts: Sequence[Contact]) -> Contact | None:
    """The higher-ranked playbook's contact within the arbitration window, if any."""
    if policy.arbitration is None:
        return None
    for contact in contacts:
        if (contact.playbook != intent.playbook and family(contact.kind) == family(intent.kind)
                and abs(contact.at - intent.at) < policy.arbitration
                and outranks(contact, intent)):
            return contact
    return None


def losers(policy: Policy, intent: Intent, contacts: Sequence[Contact]) -> list[Contact]:
    """Planned, unsent contacts of lower-ranked playbooks that `intent` wins against."""
    if policy.arbitration is None:
        return []
    return [c for c in contacts if not c.sent and c.playbook != intent.playbook
            and family(c.kind) == family(intent.kind)
            and abs(c.at - intent.at) < policy.arbitration and outranks(intent, c)]


def over_cap(cap: Cap, at: dt.datetime, times: Sequence[dt.datetime]) -> bool:
    """True when one more contact at `at` makes some window (T − per, T] that contains `at`
    hold more than `cap.max` contacts. Such windows end at `at` or at a later contact."""
    near = [t for t in times if abs(t - at) < cap.per]
    for end in [at, *(t for t in near if t > at)]:
        if 1 + sum(1 for t in near if end - cap.per < t <= end) > cap.max:
            return True
    return False


def barred(policy: Policy, intent: Intent) -> Decision | None:
    """What stops a contact whatever the timing: an opt-out, a phone reported wrong on a
    channel that uses it (until the customer's phone changes)."""
    if "all" in intent.opt_out or intent.channel in intent.opt_out:
        which = "everything" if "all" in intent.opt_out else intent.channel
        return Decision(SUPPRESS, OPTED_OUT, note=f"opted out of {which}")
    if intent.bad_phone and intent.channel in policy.phone_channels:
        return Decision(SUPPRESS, WRONG_NUMBER,
                        note=f"the phone was reported wrong; {intent.channel} uses it until "
                             "the customer's phone changes")
    return None


def judge(policy: Policy, intent: Intent, contacts: Sequence[Contact]) -> Decision:
    """Opt-out and a wrong phone, arbitration, then every frequency cap, for a contact at
    `intent.at`."""
    stop = barred(policy, intent)
    if stop is not None:
        return stop
    winner = rival(policy, intent, contacts)
    if winner is not None:
        return Decision(SUPPRESS, ARBITRATION,
                        note=f"{winner.playbook} (priority {winner.priority}) contacts the "
                             f"customer at {winner.at.isoformat()}")
    for cap in policy.caps:
        times = [c.at for c in contacts if cap.counts(c.channel, c.kind)]
        if cap.counts(intent.channel, intent.kind) and over_cap(cap, intent.at, times):
            return Decision(SUPPRESS, FREQUENCY_CAP, note=str(cap))
    return SENT


def at_send(policy: Policy, intent: Intent, contacts: Sequence[Contact],
            sent_today: int | None) -> Decision:
    """A due task about to go out now (`intent.at`): an opt-out or a wrong phone suppresses
    at once, quiet hours and capacity hold it, then arbitration and caps judge it against
    what was sent."""
    stop = barred(policy, intent)
    if stop is not None:
        return stop
    held = timing(policy, intent.channel, intent.at, sent_today)
    return held if held.verdict == HOLD else judge(policy, intent, contacts)


def at_plan(policy: Policy, intent: Intent,
            contacts: Sequence[Contact]) -> tuple[Decision, list[Contact]]:
    """A task being created, and the planned contacts of lower-ranked playbooks it beats.

    Quiet hours move it (a hold with `until`) and it is judged at the time it will go out;
    the contacts it beats in arbitration no longer count against its caps (they are to be
    suppressed, unless it is suppressed itself). Capacity is left to the claim, which sees
    each day's sending.
    """
    held = timing(policy, intent.channel, intent.at, None)
    at = held.until if held.verdict == HOLD and held.until is not None else intent.at
    moved = dataclasses.replace(intent, at=at)
    beaten = losers(policy, moved, contacts)
    verdict = judge(policy, moved, [c for c in contacts if c not in beaten])
    if verdict.verdict == SUPPRESS:
        return verdict, []
    return held, beaten


def span_text(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
