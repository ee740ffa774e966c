"""Running designer test cases and saying why a customer landed where they did.

A failing case is only useful if it tells the designer which part of the playbook disagreed
with them, so every customer named in a difference comes with the reason for their group:
the audience leaves that were false (with the customer's values), the exclusion that held,
or the suppression that applied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.config import Config
from engine.formats.values import before
from engine.language.condition import All, AnyOf, Condition, Leaf, describe
from engine.language.customer import event_facts, facts
from engine.language.evaluate import holds, value_of
from engine.playbooks.casebook import Case, Expectation
from engine.playbooks.selection import select_members


@dataclass(frozen=True)
class Mismatch:
    expectation: Expectation
    actual: frozenset[str]


@dataclass(frozen=True)
class CaseOutcome:
    case: Case
    groups: Mapping[str, frozenset[str]]
    why: Mapping[str, str]
    mismatches: tuple[Mismatch, ...]

    def reason(self, group: str, cid: str) -> str:
        """Why `cid` is where it is; for a step, why the step does not reach them."""
        return self.why.get(f"{group}:{cid}") or self.why[cid]

    @property
    def passed(self) -> bool:
        return not self.mismatches

    def lines(self) -> list[str]:
        """PASS/FAIL with the case's place, then per mismatch the ids that differ and why."""
        case = self.case
        head = f"{'PASS' if self.passed else 'FAIL'} {case.file}:{case.line} {case.name}"
        out = [head]
        for miss in self.mismatches:
            want = miss.expectation
            out.append(f"  {case.file}:{want.line}:{want.column}: {want.group}: expected "
                       f"{_ids(want.ids)}, got {_ids(miss.actual)}")
            out.extend(f"    {cid} missing: {self.reason(want.group, cid)}"
                       for cid in sorted(want.ids - miss.actual))
            out.extend(f"    {cid} unexpected: {self.reason(want.group, cid)}"
                       for cid in sorted(miss.actual - want.ids))
        return out


def run_case(case: Case, config: Config) -> CaseOutcome:
    groups, why = groups_of(case, config)
    mismatches = tuple(Mismatch(want, groups[want.group]) for want in case.expect
                       if groups[want.group] != want.ids)
    return CaseOutcome(case, groups, why, mismatches)


def groups_of(case: Case, config: Config) -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    """Every group of the case (`selected`, `suppressed.cooldown`, `steps.<id>`, ...) and,
    per customer id, why they are where they are (per `steps.<id>:<customer id>`, why that
    step passes a treatment customer by)."""
    playbook, today = case.playbook, config.today(case.at)
    why: dict[str, str] = {}
    matched: dict[str, Mapping[str, Any]] = {}
    excluded: set[str] = set()
    for customer in case.customers:
        cid = customer["id"]
        base = facts(customer, today, config.tiers, config.lifecycle)
        variants = [base]
        if playbook.trigger.event is not None:
            variants = [{**base, **event_facts(event, config.today)}
                        for event in case.events if event["customer_id"] == cid]
        hits = [f for f in variants if holds(playbook.audience, f, today)]
        kept = [f for f in hits if playbook.exclude is None
                or not holds(playbook.exclude, f, today)]
        if kept:
            matched[cid] = kept[0]
        elif hits and playbook.exclude is not None:
            excluded.add(cid)
            why[cid] = f"excluded by {describe(playbook.exclude)}"
        elif not variants:
            why[cid] = f"skipped: no {playbook.trigger.event} event"
        else:
            why[cid] = "skipped: audience false: " + "; ".join(
                _false(playbook.audience, variants[0], today))
    cooldown = playbook.cooldown
    in_cooldown = {cid for cid, entered in case.entered.items()
                   if cooldown is not None and before(case.at, cooldown) < entered}
    opted_out = {c["id"] for c in case.customers if "all" in (c.get("opt_out") or ())}
    step_members = {step.id: [cid for cid, f in matched.items()
                              if step.when is None or holds(step.when, f, today)]
                    for step in playbook.steps}
    selection = select_members(playbook.id, playbook.version, playbook.holdout, matched,
                               in_cooldown, opted_out, step_members)
    treatment, control = set(selection.treatment), set(selection.control)
    for cid in treatment:
        why[cid] = "selected (treatment)"
    for cid in control:
        why[cid] = f"selected (control: the {playbook.holdout:g} holdout)"
    for reason, ids in selection.suppressed.items():
        for cid in ids:
            why[cid] = f"suppressed: {reason}" + (
                f" (entered {_when(case.entered[cid], config)})" if reason == "cooldown" else "")
    everyone = frozenset(c["id"] for c in case.customers)
    groups = {
        "matched": frozenset(matched), "selected": frozenset(treatment | control),
        "skipped": everyone - frozenset(matched), "excluded": frozenset(excluded),
        "treatment": frozenset(treatment), "control": frozenset(control),
        **{f"suppressed.{reason}": frozenset(selection.suppressed.get(reason, ()))
           for reason in ("cooldown", "opted_out")},
        **{f"steps.{step}": frozenset(ids) & frozenset(treatment)
           for step, ids in step_members.items()},
    }
    for step in playbook.steps:
        for cid in treatment - groups[f"steps.{step.id}"]:
            why[f"steps.{step.id}:{cid}"] = f"step {step.id!r} skips them: " + "; ".join(
                _false(step.when, matched[cid], today) if step.when else [])
    return groups, why


def _false(cond: Condition, facts_: Mapping[str, Any], today: dt.date) -> list[str]:
    """The parts of a false condition that made it false, with the values seen."""
    if isinstance(cond, Leaf):
        return [f"{describe(cond)} (value: {_show(value_of(facts_, cond.field))})"]
    if isinstance(cond, All):
        return [reason for item in cond.items if not holds(item, facts_, today)
                for reason in _false(item, facts_, today)]
    if isinstance(cond, AnyOf):
        return ["none of: " + " | ".join(r for item in cond.items
                                         for r in _false(item, facts_, today))]
    return [f"{describe(cond)} was false"]


def _show(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    return str(value)


def _when(instant: dt.datetime, config: Config) -> str:
    return instant.astimezone(config.timezone).isoformat(sep=" ", timespec="minutes")


def _ids(ids: frozenset[str]) -> str:
    return "[" + ", ".join(sorted(ids)) + "]"
