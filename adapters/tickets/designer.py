"""The designer's questions to the database: preview (who a playbook selects now) and explain
(the conditions for one customer, and what became of their tasks: sent, held, suppressed or
cancelled, and why).

One preview and one explain for every edge: `tend preview` / `tend explain`, the API
(`POST /playbooks/.../preview`, `GET /customers/<id>/explain`) and the console's draft editor
and explain page call these and render the values they return.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import load_customer, load_customers
from adapters.db.schema import events, tasks, tickets
from adapters.evaluation.history import control_rate
from adapters.tickets import versions
from adapters.tickets.sweep import REPLAY_WINDOW, sweep
from engine.config import Config
from engine.errors import NotFound, ValidationError
from engine.language.customer import facts
from engine.language.evaluate import holds
from engine.measurement.power import power_of
from engine.playbooks.explain import explain_playbook, render_text, task_story
from engine.playbooks.library import Library
from engine.playbooks.offer import Offer
from engine.playbooks.playbook import Playbook
from engine.playbooks.playbook_loader import parse_playbook
from engine.playbooks.selection import Selection
from engine.playbooks.variant import assign, offers_named, variant_step

CHUNK = 5_000  # treatment customers loaded at a time to count offer eligibility
TASKS_SHOWN = 50


@dataclass(frozen=True)
class Preview:
    """Who a playbook selects at an instant, without planning anything: what `tend preview`,
    `POST /playbooks/.../preview` and the console's draft editor show."""

    playbook: Playbook
    at: str  # the instant in the configured timezone, to the second
    selection: Selection
    # Per step that names offers (its variants' included), how many of the treatment each
    # offer would be given to and they are eligible for (only when the library's offers
    # were given).
    offers: dict[str, dict[str, int]]
    # engine.measurement.power as the rehearsal would show it (docs/EVALUATION.md)
    power: dict[str, Any]
    # The variant step's split: per variant, the treatment it gets and the offers it gives
    # with how many of them are eligible; None without variants.
    variants: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        """The selection with every id (`tend preview --json`)."""
        return {**self.selection.as_json(self.at), "power": self.power,
                **({"offers": self.offers} if self.offers else {}),
                **({"variants": self.variants} if self.variants else {})}


class Explanation(TypedDict):
    """Why a customer is or isn't taken by each playbook, condition by condition, and what
    became of their tasks (engine.playbooks.explain): every value is plain JSON."""

    customer: str
    at: str
    tier: str | None
    stage: str | None
    tenure_days: int | None
    days_to_birthday: int | None
    playbooks: list[dict[str, Any]]
    tasks: list[dict[str, Any]]


def preview(conn: Connection, playbook: Playbook, config: Config, at: dt.datetime,
            offers: Mapping[str, Offer] | None = None) -> Preview:
    """Who `playbook` selects at `at` (the sweep a ticket would be planned from); with the
    library's `offers`, also how many of the treatment each offer a step (or each variant of
    its variant step) would give is eligible for."""
    stamp = at.astimezone(config.timezone).isoformat(timespec="seconds")
    selection = sweep(conn, playbook, config, at)
    power = power_of(len(selection.treatment), len(selection.control),
                     base_rate=control_rate(conn, playbook.id))
    given = offer_counts(conn, playbook, selection, config, at, offers or {})
    return Preview(playbook, stamp, selection, given.steps, dataclasses.asdict(power),
                   given.variants)


@dataclass(frozen=True)
class OfferCounts:
    steps: dict[str, dict[str, int]]  # step -> offer -> treatment customers given it, eligible
    variants: dict[str, Any] | None  # the variant step's split, with each variant's offers


def offer_counts(conn: Connection, playbook: Playbook, sel: Selection, config: Config,
                 at: dt.datetime, offers: Mapping[str, Offer]) -> OfferCounts:
    """Per step that names offers, how many of the treatment would be given each one and are
    eligible for it at `at`: what a designer weighs when ordering a step's offers (validity,
    channel and limit act when the offer is shown). A customer of the variant step is given
    their variant's offers (engine/playbooks/variant.py: the step's own unless the variant names
    others), so that step counts each offer over the variants that give it, and `variants`
    counts it per variant."""
    split = variant_step(playbook.steps)
    chosen = {cid: assign(playbook.id, split.id, cid, split.variants).name
              for cid in sel.treatment} if split is not None else {}
    giving = {v.name: v.offers if v.offers is not None else split.offers
              for v in split.variants} if split is not None else {}
    named = sorted({n for step in playbook.steps for n in offers_named(step) if n in offers})
    by_step: dict[str, Counter[str]] = {step.id: Counter() for step in playbook.steps}
    by_variant: dict[str, Counter[str]] = {name: Counter() for name in giving}
    today = config.today(at)
    for start in range(0, len(sel.treatment) if named else 0, CHUNK):
        records = load_customers(conn, config, sel.treatment[start:start + CHUNK])
        for cid, record in records.items():
            seen = facts(record, today, config.tiers, config.lifecycle)
            eligible = {n for n in named if holds(offers[n].eligible, seen, today)}
            for step in playbook.steps:
                if step is split:
                    mine = eligible.intersection(giving[chosen[cid]])
                    by_variant[chosen[cid]].update(mine)
                else:
                    mine = eligible.intersection(step.offers)
                by_step[step.id].update(mine)
    steps = {step.id: {n: by_step[step.id][n] for n in offers_named(step)}
             for step in playbook.steps if offers_named(step)}
    if split is None:
        return OfferCounts(steps, None)
    members = Counter(chosen.values())
    return OfferCounts(steps, {"step": split.id, "variants": [
        {"name": v.name, "weight": v.weight, "treatment": members[v.name],
         "offers": {n: by_variant[v.name][n] for n in giving[v.name]}}
        for v in split.variants]})


def explain(conn: Connection, customer_id: str, playbooks: Sequence[Playbook], config: Config,
            at: dt.datetime) -> Explanation:
    """For the customer at `at`: each playbook's verdict (with their latest triggering event
    for an event playbook) and the stories of their tasks of these playbooks. NotFound for
    an unknown customer."""
    customer = load_customer(conn, config, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id!r}", code="customer.not_found",
                       params={"customer": customer_id})
    verdicts = [explain_playbook(customer, pb, config, at, _last_event(conn, pb, customer_id, at))
                for pb in playbooks]
    seen = facts(customer, config.today(at), config.tiers, config.lifecycle)
    stories = [task_story(task) for task in customer_tasks(
        conn, config, customer_id, [pb.id for pb in playbooks], at)]
    return Explanation(customer=customer_id,
                       at=at.astimezone(config.timezone).isoformat(timespec="seconds"),
                       tier=seen["tier"], stage=seen["stage"],
                       tenure_days=seen["tenure_days"],
                       days_to_birthday=seen["days_to_birthday"],
                       playbooks=verdicts, tasks=stories)


def explanation_text(found: Explanation) -> str:
    """The explanation as a designer reads it in a terminal."""
    summary = {"tier": found["tier"], "stage": found["stage"],
               "tenure_days": found["tenure_days"], "days_to_birthday": found["days_to_birthday"]}
    return render_text(found["customer"], found["at"], summary, found["playbooks"],
                       found["tasks"])


def customer_tasks(conn: Connection, config: Config, customer_id: str,
                   playbook_ids: Sequence[str], at: dt.datetime) -> list[dict[str, Any]]:
    """The customer's tasks of these playbooks made by `at`, newest first (the last
    TASKS_SHOWN), their instants in the configured timezone like the rest of explain."""
    rows = conn.execute(
        sa.select(tasks.c.id, tasks.c.ticket_id, tickets.c.playbook, tasks.c.step,
                  tasks.c.channel, tasks.c.state, tasks.c.attempt, tasks.c.due_at,
                  tasks.c.sent_at, tasks.c.result_at, tasks.c.detail)
        .join(tickets, tickets.c.id == tasks.c.ticket_id)
        .where(tasks.c.customer_id == customer_id, tickets.c.playbook.in_(playbook_ids),
               tasks.c.created_at <= at)
        .order_by(tasks.c.created_at.desc(), tasks.c.id.desc()).limit(TASKS_SHOWN)).mappings()
    return [{**row, **{k: row[k].astimezone(config.timezone).isoformat() if row[k] else None
                       for k in ("due_at", "sent_at", "result_at")}} for row in rows]


def _last_event(conn: Connection, playbook: Playbook, customer_id: str,
                at: dt.datetime) -> dict[str, Any] | None:
    """The customer's latest triggering event in the replay window, for event playbooks."""
    if not playbook.trigger.event:
        return None
    row = conn.execute(
        sa.select(events.c.id, events.c.type, events.c.customer_id, events.c.at, events.c.data)
        .where(events.c.customer_id == customer_id, events.c.type == playbook.trigger.event,
               events.c.at > at - REPLAY_WINDOW, events.c.at <= at)
        .order_by(events.c.at.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def audience_effect(conn: Connection, config: Config, library: Library, playbook_id: str,
                    wanted: Sequence[int], at: dt.datetime) -> list[dict[str, Any]]:
    """What a change does to the audience: each stored version's selection swept at the
    same instant `at` ("v1 selected 19, v2 52"); `matched` is audience and not exclude,
    before cooldown and holdout. A version whose text no longer validates (the config
    changed since) says why instead of counting. NotFound naming a version not stored."""
    texts = {v: versions.text(conn, playbook_id, v) for v in dict.fromkeys(wanted)}
    found = []
    for version, text in texts.items():
        loaded = library.playbooks.get(playbook_id)
        try:
            playbook = (loaded if loaded is not None and loaded.text == text
                        else parse_playbook(text, f"{playbook_id}@v{version}", config,
                                            library.workflows))
        except ValidationError as exc:
            found.append({"version": version, "error": exc.message})
            continue
        selection = sweep(conn, playbook, config, at)
        found.append({"version": version, "matched": len(selection.matched),
                      "treatment": len(selection.treatment),
                      "control": len(selection.control)})
    return found
