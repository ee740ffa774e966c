"""Synthetic telecom customers and events for demos and benchmarks, deterministic from a seed.

Pure: rows come out as CSV-ready string lists and event dicts, and the caller writes them
(adapters/intake/demo_files.py). The mix follows the seed texts' picture of a telecom base: a few
high-value tiers, a slice of brand-new subscribers, churned and declining customers with the
signals retention teams watch (churn score, falling usage, arrears), contracts running out.

Each customer's events are produced next to the customer row, from the same state, so a
churned customer gets cancellations and reactivations, a declining one zero-usage and
competitor calls, and the two files stay consistent while both are streamed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from random import Random
from typing import Any

from engine.formats.values import FieldType

BASE_COLUMNS = ("id", "name", "phone", "email", "birthday", "joined_on", "plan", "arpu",
                "balance", "usage_change_pct", "churn_score", "contract_end", "last_active_on",
                "churned_on", "manager", "tags", "opt_out")
FIRST = ("Wei", "Fang", "Na", "Min", "Jing", "Lei", "Yang", "Jun", "Tao", "Ming", "Chao", "Xiu",
         "Hui", "Lan", "Bo", "Qiang", "Yan", "Ping", "Hong", "Gang")
LAST = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu",
        "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo")
REGIONS = ("beijing", "shanghai", "guangdong", "zhejiang", "jiangsu", "sichuan", "hubei",
           "shandong", "fujian", "henan")
PLANS = {"diamond": ("unlimited_max", "business_pro"), "gold": ("unlimited_plus", "family_200"),
         "silver": ("family_100", "data_60"), "standard": ("basic_30", "prepaid_19", "data_20")}
# Monthly fees in yuan (attribute `plan_fee`): the 96-yuan plan is what rules/offers/prepay_168
# is for. Taken from the plan, not drawn, so declaring it leaves every other value as it was.
PLAN_FEES = {"unlimited_max": 398, "business_pro": 298, "unlimited_plus": 198, "family_200": 168,
             "family_100": 128, "data_60": 96, "basic_30": 58, "prepaid_19": 19, "data_20": 39}
CANCEL_REASONS = ("price", "coverage", "moving", "competitor_offer", "service")
CONTACT_CHANNELS = ("sms", "outbound_call", "email", "push")
YEAR = 365


@dataclass(frozen=True)
class DemoSpec:
    """What to generate; attributes, event types and channels come from config.yaml."""

    customers: int
    events: int
    seed: int
    at: dt.date
    attributes: Mapping[str, FieldType]
    event_types: Mapping[str, Mapping[str, FieldType]]
    channels: Sequence[str]


def customer_header(spec: DemoSpec) -> list[str]:
    return [*BASE_COLUMNS, *spec.attributes]


def customer_id(index: int) -> str:
    return f"c{index:07d}"


def generate(spec: DemoSpec) -> Iterator[tuple[list[str], list[dict[str, Any]]]]:
    """Each customer's CSV row with the events that belong to them, in customer order.

    Customers come from one stream and events from another, so the customers file is the
    same for a seed whatever number of events is asked for.
    """
    rng = Random(spec.seed)
    event_rng = Random(spec.seed + 1)
    owners = sorted(event_rng.randrange(spec.customers) for _ in range(spec.events)) \
        if spec.customers else []
    today = spec.at.toordinal()
    channels = [c for c in CONTACT_CHANNELS if c in spec.channels] or list(spec.channels)
    next_owner = 0
    for index in range(spec.customers):
        state = _state(rng, today)
        row = _row(rng, index, state, today, spec, channels)
        events = []
        while next_owner < len(owners) and owners[next_owner] == index:
            event = _event(event_rng, f"e{spec.seed}-{next_owner}", row[0], state, spec)
            if event is not None:
                events.append(event)
            next_owner += 1
        yield row, events


@dataclass(frozen=True)
class _State:
    tier: str
    arpu: float | None
    joined: int           # ordinals
    churned: int | None
    decline: bool


def _state(rng: Random, today: int) -> _State:
    u = rng.random()
    if u < 0.03:
        tier, arpu = "diamond", rng.uniform(300, 900)
    elif u < 0.13:
        tier, arpu = "gold", rng.uniform(150, 300)
    elif u < 0.38:
        tier, arpu = "silver", rng.uniform(80, 150)
    else:
        tier, arpu = "standard", rng.uniform(8, 80)
    recent = rng.random() < 0.04
    joined = today - (rng.randrange(0, 31) if recent else rng.randrange(31, 8 * YEAR))
    churned = None
    if not recent and rng.random() < 0.08:
        recent_churn = rng.random() < 0.4
        churned = today - min(rng.randrange(0, 91) if recent_churn else rng.randrange(91, YEAR),
                              today - joined)
    decline = churned is None and not recent and rng.random() < 0.16
    return _State(tier, None if rng.random() < 0.02 else round(arpu, 2), joined, churned,
                  decline)


def _row(rng: Random, index: int, s: _State, today: int, spec: DemoSpec,
         channels: Sequence[str]) -> list[str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    age = rng.randrange(18, 86)
    birthday = "" if rng.random() < 0.05 else _birthday(rng, spec.at.year - age)
    if s.churned is not None:
        usage, score = rng.uniform(-100, -50), rng.uniform(0.7, 1.0)
        last_active = s.churned - rng.randrange(0, 30)
    elif s.decline:
        usage = rng.uniform(-85, -30) if rng.random() < 0.7 else rng.uniform(-29, 0)
        score = rng.uniform(0.6, 0.97) if usage > -30 else rng.uniform(0.3, 0.95)
        last_active = today - rng.randrange(0, 60)
    else:
        usage, score = max(-29.0, min(80.0, rng.gauss(2, 12))), rng.betavariate(2, 8) * 0.59
        last_active = today - rng.randrange(0, 14)
    contract_end = ""
    if rng.random() < 0.6:
        ahead = rng.randrange(0, 61) if rng.random() < 0.15 else rng.randrange(-YEAR, 2 * YEAR)
        contract_end = _date(today + ahead)
    manager = ""
    if s.arpu is not None and s.tier in ("gold", "diamond") and rng.random() < 0.9:
        manager = f"m{rng.randrange(1, 51):03d}"
    phone = f"+86 1{rng.randrange(3, 10)}{rng.randrange(10**8, 10**9)}"
    plan = rng.choice(PLANS[s.tier])  # drawn in the same order as ever: seeds keep their data
    row = [customer_id(index), f"{first} {last}", phone,
           f"{first}.{last}{index}@example.com".lower(), birthday, _date(s.joined), plan,
           "" if s.arpu is None else f"{s.arpu:.2f}", f"{rng.uniform(-60, 500):.2f}",
           f"{usage:.1f}", f"{score:.3f}", contract_end, _date(last_active),
           "" if s.churned is None else _date(s.churned), manager,
           _tags(rng, s, age), _opt_out(rng, channels)]
    row.extend(str(PLAN_FEES[plan]) if name == "plan_fee" and ftype is FieldType.NUMBER
               else _attr(rng, name, ftype, today) for name, ftype in spec.attributes.items())
    return row


def _date(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


def _birthday(rng: Random, year: int) -> str:
    start = dt.date(year, 1, 1).toordinal()
    return _date(start + rng.randrange(dt.date(year, 12, 31).toordinal() - start + 1))


def _tags(rng: Random, s: _State, age: int) -> str:
    tags = []
    if s.tier == "diamond" or (s.tier == "gold" and rng.random() < 0.3):
        tags.append("vip")
    for tag, chance in (("family_plan", 0.15), ("roaming", 0.08), ("esim", 0.05)):
        if rng.random() < chance:
            tags.append(tag)
    if age < 25 and rng.random() < 0.4:
        tags.append("student")
    if age >= 60 and rng.random() < 0.6:
        tags.append("senior")
    if rng.random() < (0.12 if s.decline else 0.03):
        tags.append("complaint_open")
    if rng.random() < (0.15 if s.churned is not None else 0.01):
        tags.append("do_not_winback")
    return ";".join(tags)


def _opt_out(rng: Random, channels: Sequence[str]) -> str:
    u = rng.random()
    if u < 0.01:
        return "all"
    if u < 0.04 and channels:
        return ";".join(rng.sample(channels, rng.randrange(1, min(3, len(channels)) + 1)))
    return ""


def _attr(rng: Random, name: str, ftype: FieldType, today: int) -> str:
    if name == "region":
        return rng.choice(REGIONS)
    if name == "devices":
        return str(rng.choice((1, 1, 1, 2, 2, 3, 4, 5)))
    if name == "broadband":
        return "true" if rng.random() < 0.4 else "false"
    if rng.random() < 0.3:
        return ""
    if ftype is FieldType.DATE:
        return _date(today - rng.randrange(0, 3 * YEAR))
    if ftype is FieldType.NUMBER:
        return str(rng.randrange(0, 100))
    if ftype is FieldType.BOOL:
        return rng.choice(("true", "false"))
    return f"{name}_{rng.randrange(1, 6)}"


# Which event types fit a customer's state, most likely first.
# The alarm pack's signals (docs/PLAYBOOKS.md, "The telecom alarm pack") come mostly from
# declining lines: forwarding, suspension with the number kept, disconnection orders.
_FITTING = {
    "churned": ("plan_cancelled", "plan_reactivated", "competitor_call", "number_kept"),
    "decline": ("zero_usage", "competitor_call", "arrears", "call_forwarding", "low_balance",
                "number_kept", "pre_disconnect", "plan_cancelled"),
    "active": ("plan_upgraded", "contract_renewed", "arrears", "low_balance", "zero_usage"),
}


def _event(rng: Random, event_id: str, cid: str, s: _State,
           spec: DemoSpec) -> dict[str, Any] | None:
    kind = "churned" if s.churned is not None else "decline" if s.decline else "active"
    fitting = [t for t in _FITTING[kind] if t in spec.event_types]
    if not fitting:
        return None
    weights = [2 ** (len(fitting) - i) for i in range(len(fitting))]
    etype = rng.choices(fitting, weights)[0]
    moment = dt.datetime.combine(spec.at, dt.time()) - dt.timedelta(
        seconds=rng.randrange(1, 7 * 24 * 3600))
    data = {key: _data(rng, key, ftype, spec.at)
            for key, ftype in spec.event_types[etype].items()}
    return {"id": event_id, "customer_id": cid, "type": etype,
            "at": moment.isoformat(timespec="seconds"), "data": data}


# Realistic values for the data fields config.yaml ships, used when the declared type agrees.
_KNOWN_DATA: dict[str, tuple[FieldType, Callable[[Random], Any]]] = {
    "days": (FieldType.NUMBER, lambda rng: rng.randrange(7, 46)),
    "number": (FieldType.STRING, lambda rng: f"+86 10{rng.randrange(10000, 99999)}"),
    "minutes": (FieldType.NUMBER, lambda rng: rng.randrange(1, 31)),
    "amount": (FieldType.NUMBER, lambda rng: round(rng.uniform(20, 600), 2)),
    "reason": (FieldType.STRING, lambda rng: rng.choice(CANCEL_REASONS)),
    "plan": (FieldType.STRING, lambda rng: rng.choice(PLANS["gold"] + PLANS["silver"])),
    "months": (FieldType.NUMBER, lambda rng: rng.choice((3, 6, 12, 24))),
    "balance": (FieldType.NUMBER, lambda rng: round(rng.uniform(0, 20), 2)),
    "other_operator": (FieldType.BOOL, lambda rng: rng.random() < 0.7),
}


def _data(rng: Random, key: str, ftype: FieldType, at: dt.date) -> Any:
    known = _KNOWN_DATA.get(key)
    if known is not None and known[0] is ftype:
        return known[1](rng)
    if ftype is FieldType.NUMBER:
        return rng.randrange(0, 100)
    if ftype is FieldType.DATE:
        return (at - dt.timedelta(days=rng.randrange(0, 30))).isoformat()
    if ftype is FieldType.BOOL:
        return rng.random() < 0.5
    return f"{key}_{rng.randrange(1, 6)}"


# --- history: the same customers as they stood at the start of earlier months ---

_COLUMN = {name: i for i, name in enumerate(BASE_COLUMNS)}
WARNING = dt.timedelta(days=61)  # how long before a churn its warning signs show


def history_months(at: dt.date, months: int) -> list[dt.date]:
    """The first days of the `months` months before `at`'s month, oldest first."""
    first = at.replace(day=1)
    days = []
    for _ in range(months):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        days.append(first)
    return days[::-1]


def history_row(rng: Random, row: Sequence[str], as_of: dt.date) -> list[str] | None:
    """A customer's CSV row as it stood on `as_of` (None before they joined), for
    `tend snapshot` to learn churn from. In the two months before a churn usage falls and
    activity stops, the signs retention teams watch; declining customers who stay show them
    too, more weakly, so the signal is not a give-away. No churn score: it is what the churn
    model is to compute."""
    if dt.date.fromisoformat(row[_COLUMN["joined_on"]]) > as_of:
        return None
    then = list(row)
    churned = row[_COLUMN["churned_on"]]
    churn_day = dt.date.fromisoformat(churned) if churned else None
    then[_COLUMN["churn_score"]] = ""
    if churn_day is not None and churn_day <= as_of:
        return then
    then[_COLUMN["churned_on"]] = ""
    now_usage = float(row[_COLUMN["usage_change_pct"]])
    if churn_day is not None and churn_day <= as_of + WARNING:
        usage, idle = rng.uniform(-90, -20), rng.randrange(3, 45)
    elif churn_day is None and now_usage <= -30:
        usage, idle = max(-100.0, now_usage + rng.gauss(0, 25)), rng.randrange(0, 40)
    else:
        usage, idle = max(-29.0, min(80.0, rng.gauss(2, 15))), rng.randrange(0, 14)
    then[_COLUMN["usage_change_pct"]] = f"{usage:.1f}"
    then[_COLUMN["last_active_on"]] = (as_of - dt.timedelta(days=idle)).isoformat()
    return then
