"""What planning a ticket needs from the database: versions, cooldown, tiers, the rehearsal.

The rehearsal is what an approver judges: the sizes of the groups, whether they can ever tell
a plausible effect apart (engine.measurement.power, from the playbook's measured control rate), how
many tasks each step and channel would get, who was suppressed and why, what the contact policy
would suppress or hold, and a sample of selected customers with the conditions that selected them
(engine.playbooks.explain, the reference evaluator).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from adapters.db.engines import load_customers, one_of
from adapters.db.schema import (
    UTCDateTime,
    customers,
    entries,
    events,
    offer_versions,
    playbook_versions,
)
from adapters.evaluation.history import control_rate
from adapters.tasks import contact_policy
from adapters.tickets import execution
from engine.config import Config
from engine.errors import Conflict
from engine.formats.values import before
from engine.language.customer import Customer, facts, tier_of
from engine.measurement.power import power_of
from engine.playbooks.explain import explain_playbook
from engine.playbooks.offer import Offer, check_offer_versions
from engine.playbooks.playbook import Playbook, check_versions
from engine.playbooks.selection import Selection
from engine.playbooks.variant import offers_named, variant_step
from engine.tasks import policy as pol
from engine.tasks import task as tk

CHUNK = 5_000


def register_version(conn: Connection, playbook: Playbook, now: dt.datetime,
                     offers: Mapping[str, Offer] | None = None) -> None:
    """Record the version a ticket runs on, and the versions of the offers its steps name
    (of `offers`, the library's); a changed file under a used version is refused, because
    every process must compile the same content for one (id, version)."""
    known = dict(conn.execute(
        sa.select(playbook_versions.c.version, playbook_versions.c.hash)
        .where(playbook_versions.c.playbook == playbook.id)).all())
    problems = check_versions([playbook], {(playbook.id, v): h for v, h in known.items()})
    named = {name: offers[name] for step in playbook.steps for name in offers_named(step)
             if offers is not None and name in offers}
    used = {(r.offer, r.version): r.hash for r in conn.execute(
        sa.select(offer_versions.c.offer, offer_versions.c.version, offer_versions.c.hash)
        .where(offer_versions.c.offer.in_(sorted(named))))} if named else {}
    problems += check_offer_versions(named, used)
    if problems:
        raise Conflict("\n".join(str(p) for p in problems))
    if playbook.version not in known:
        conn.execute(playbook_versions.insert().values(
            playbook=playbook.id, version=playbook.version, hash=playbook.hash,
            text=playbook.text, loaded_at=now))
    for offer in named.values():
        if (offer.id, offer.version) not in used:
            conn.execute(offer_versions.insert().values(
                offer=offer.id, version=offer.version, hash=offer.hash, text=offer.text,
                loaded_at=now))


def cooldown_ids(conn: Connection, playbook: Playbook, at: dt.datetime,
                 among: Sequence[str] | None = None) -> list[str]:
    """Customers (of `among`, if given) who entered the playbook in (at − cooldown, at]: an
    entry at t blocks until t + cooldown, exclusive. Of `among` on PostgreSQL, one index
    probe per customer (_PROBES)."""
    if playbook.cooldown is None or (among is not None and not among):
        return []
    since = before(at, playbook.cooldown)
    if among is not None and conn.dialect.name == "postgresql":
        return list(conn.scalars(_PROBES, {"ids": list(among), "playbook": playbook.id,
                                           "since": since, "at": at}))
    query = (sa.select(entries.c.customer_id).distinct()
             .where(entries.c.playbook == playbook.id, entries.c.entered_at > since,
                    entries.c.entered_at <= at))
    if among is not None:
        query = query.where(one_of(conn, entries.c.customer_id, among))
    return list(conn.execute(query).scalars())


# Each customer probed by the index (playbook, customer_id, entered_at): `LIMIT 1` keeps the
# planner from turning the probes into one scan of the window's entries, which it chose on a
# table whose statistics lag its rows (a standing ticket's first days) and which then grew
# with every entry made.
_PROBES = sa.text("""
    SELECT c.id FROM unnest(CAST(:ids AS TEXT[])) AS c(id),
    LATERAL (SELECT 1 FROM entries WHERE entries.playbook = :playbook
             AND entries.customer_id = c.id AND entries.entered_at > :since
             AND entries.entered_at <= :at LIMIT 1) AS entered""").bindparams(
    sa.bindparam("ids", type_=postgresql.ARRAY(sa.Text)),
    sa.bindparam("since", type_=UTCDateTime), sa.bindparam("at", type_=UTCDateTime))


def tiers_of(conn: Connection, config: Config, ids: Sequence[str]) -> set[str]:
    """The tiers present among these customers (a ticket fact approval levels may name)."""
    found: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        arpus = conn.execute(sa.select(customers.c.arpu).distinct()
                             .where(customers.c.id.in_(ids[start:start + CHUNK]))).scalars()
        found.update(tier_of(arpu, config.tiers) for arpu in arpus)
    return found


def rehearsal(conn: Connection, config: Config, playbook: Playbook, selection: Selection,
              at: dt.datetime, sample_size: int) -> dict[str, Any]:
    channels: dict[str, int] = {}
    records = load_customers(conn, config, list(selection.treatment))
    for step in playbook.steps:
        channels[step.channel] = channels.get(step.channel, 0) + selection.steps.get(step.id, 0)
    return {
        "at": at.isoformat(), "audience_size": len(selection.treatment),
        "matched": len(selection.matched), "treatment": len(selection.treatment),
        "control": len(selection.control),
        "suppressed": {reason: len(ids) for reason, ids in selection.suppressed.items()},
        "steps": {step.id: selection.steps.get(step.id, 0) for step in playbook.steps},
        "channels": channels,
        "variants": variant_counts(playbook, selection.treatment),
        "contact_policy": policy_preview(conn, config, playbook, selection.treatment, at,
                                         records),
        "profile": profile(config, records.values(), at),
        "contact_class": playbook.contact_class,
        "exempt": pol.exemption(playbook.contact_class),
        "power": dataclasses.asdict(power_of(len(selection.treatment), len(selection.control),
                                             base_rate=control_rate(conn, playbook.id))),
        "sample": _sample(conn, config, playbook, selection, at, sample_size),
    }


def variant_counts(playbook: Playbook, treatment: Sequence[str]) -> dict[str, Any] | None:
    """How the treatment splits between the variants of the playbook's variant step (the
    split the entries will record; the step's own `when` still applies to each)."""
    step = variant_step(playbook.steps)
    if step is None:
        return None
    counts = dict.fromkeys((v.name for v in step.variants), 0)
    for cid in treatment:
        counts[execution.entry_variant(playbook, cid, "treatment") or ""] += 1
    # a list: PostgreSQL's JSONB would reorder a mapping's keys, and the step's order is the
    # designer's (the champion first)
    return {"step": step.id, "variants": [
        {"name": v.name, "weight": v.weight, "treatment": counts[v.name]} for v in step.variants]}


def profile(config: Config, records: Iterable[Customer], at: dt.datetime) -> dict[str, Any]:
    """How many of the treatment are in each tier and lifecycle stage (the approval card's
    who), counted where the rehearsal has the customers loaded anyway."""
    today = config.today(at)
    tiers: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    for customer in records:
        seen = facts(customer, today, config.tiers, config.lifecycle)
        tiers[str(seen.get("tier"))] += 1
        stages[str(seen.get("stage"))] += 1
    return {"tiers": dict(tiers.most_common()), "stages": dict(stages.most_common())}


def policy_preview(conn: Connection, config: Config, playbook: Playbook,
                   treatment: Sequence[str], at: dt.datetime,
                   records: Mapping[str, Customer] | None = None) -> dict[str, Any] | None:
    """What the contact policy would do to the tasks if the ticket started at `at`: tasks
    suppressed and held by reason, planned tasks of other playbooks it would beat, and the
    days each channel's capacity needs. None without a policy."""
    policy = config.policy
    if not (policy.caps or policy.arbitration or policy.channels):
        return None
    if records is None:
        records = load_customers(conn, config, list(treatment))
    today = config.today(at)
    rows = []
    for customer in records.values():
        seen = facts(customer, today, config.tiers, config.lifecycle)
        rows += [execution.task_row(0, 0, customer, playbook, step, at)
                 for step in execution.steps_for(playbook, customer["id"])
                 if execution.eligible(step, customer, seen, today)]
    beaten = contact_policy.judge_new(conn, policy, playbook.id, rows, playbook.contact_class)
    suppressed = Counter(r["detail"]["reason"] for r in rows if r["state"] != tk.PENDING)
    held = Counter(r["detail"]["reason"] for r in rows
                   if r["state"] == tk.PENDING and r["detail"])
    going = Counter(r["channel"] for r in rows if r["state"] == tk.PENDING)
    capacity = {channel: {"tasks": n, "per_day": limit, "days": math.ceil(n / limit)}
                for channel, n in sorted(going.items())
                if (limit := policy.rules(channel).capacity) is not None}
    return {"tasks": len(rows), "suppressed": dict(suppressed), "held": dict(held),
            "beats": len(beaten), "capacity": capacity, "going": dict(sorted(going.items())),
            "suppressed_by_channel": _by_channel(rows)}


def _by_channel(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Suppressed tasks per channel and reason: what a re-rehearsal's changes are told by."""
    found: dict[str, Counter[str]] = {}
    for row in rows:
        if row["state"] != tk.PENDING:
            found.setdefault(row["channel"], Counter())[row["detail"]["reason"]] += 1
    return {channel: dict(n) for channel, n in sorted(found.items())}


def _sample(conn: Connection, config: Config, playbook: Playbook, selection: Selection,
            at: dt.datetime, size: int) -> list[dict[str, Any]]:
    """Selected customers spread evenly over the id order, each with why it was selected."""
    selected = sorted((*selection.treatment, *selection.control))
    if not selected or size == 0:
        return []
    chosen = selected[::max(1, len(selected) // size)][:size]
    records = load_customers(conn, config, chosen)
    matched_on = _events(conn, [selection.events[c] for c in chosen if c in selection.events])
    sample = []
    for cid in chosen:
        event = matched_on.get(selection.events.get(cid, -1))
        verdict = explain_playbook(records[cid], playbook, config, at, event)
        item = {"customer_id": cid, "group": verdict["group"],
                "audience": verdict["audience"], "exclude": verdict["exclude"],
                "steps": verdict["steps"]}
        if event is not None:
            item["event"] = {"id": event["id"], "at": event["at"].isoformat()}
        sample.append(item)
    return sample


def _events(conn: Connection, seqs: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Stored events by seq, in the shape explain_playbook reads (event.<field>)."""
    if not seqs:
        return {}
    rows = conn.execute(sa.select(events.c.seq, events.c.id, events.c.type,
                                  events.c.customer_id, events.c.at, events.c.data)
                        .where(events.c.seq.in_(seqs))).mappings()
    return {row["seq"]: {k: v for k, v in row.items() if k != "seq"} for row in rows}
