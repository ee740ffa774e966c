"""Who a playbook run takes: matched → suppressed (cooldown, opted out, the global control)
→ control / treatment.

The global control group (config.yaml `global_control`, a share of all customers) is drawn
like a playbook's holdout but with its own salt, so it is the same customers for every
playbook and every run: they are contacted by no marketing playbook at all, which is what a
program-wide comparison needs. Care and service playbooks are exempt: a customer in the
global control still gets a birthday greeting or an arrears alarm.

Every backend computes `matched`; this module turns matched ids into groups the same way for
all of them, so a sweep, a designer's test case and a rehearsal agree on every customer.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

SUPPRESSION_ORDER = ("cooldown", "opted_out", "global_control")
GLOBAL_SALT = "tend-global-control"
EXEMPT_CLASSES = frozenset({"care", "service"})


def control_threshold(holdout: float) -> int:
    return math.floor(Decimal(str(holdout)) * 2**64)


def in_control(playbook_id: str, customer_id: str, holdout: float) -> bool:
    """Deterministic holdout: the same customer is in control for every run of a playbook."""
    return _bucket(playbook_id, customer_id) < control_threshold(holdout)


def in_global_control(customer_id: str, share: float) -> bool:
    """Deterministic by customer alone: the same customers for every playbook."""
    return _bucket(GLOBAL_SALT, customer_id) < control_threshold(share)


def global_share(share: float, contact_class: str) -> float:
    """The global control share a playbook of this class applies: none for care and service."""
    return 0.0 if contact_class in EXEMPT_CLASSES else share


def _bucket(playbook_id: str, customer_id: str) -> int:
    digest = hashlib.sha256(f"{playbook_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True)
class Selection:
    """Disjoint groups: matched = treatment ∪ control ∪ every suppressed list."""

    playbook: str
    version: int
    matched: tuple[str, ...]
    treatment: tuple[str, ...]
    control: tuple[str, ...]
    suppressed: Mapping[str, tuple[str, ...]]
    steps: Mapping[str, int] = field(default_factory=dict)
    # Event playbooks: the stored event (its seq) each matched customer was judged on, so the
    # rehearsal's sample explains a customer with the very event that brought them in.
    events: Mapping[str, int] = field(default_factory=dict)

    def as_json(self, at: str) -> dict[str, Any]:
        return {
            "playbook": self.playbook, "version": self.version, "at": at,
            "matched": list(self.matched), "treatment": list(self.treatment),
            "control": list(self.control),
            "suppressed": {reason: list(ids) for reason, ids in self.suppressed.items()},
            "steps": dict(self.steps),
        }


def select_members(playbook_id: str, version: int, holdout: float, matched: Iterable[str],
                   cooldown_ids: Iterable[str] = (), opted_out_ids: Iterable[str] = (),
                   step_members: Mapping[str, Iterable[str]] | None = None,
                   global_control: float = 0.0) -> Selection:
    """Split matched ids; `step_members` are the matched ids whose step `when` holds;
    `global_control`: the share held out of every playbook (global_share).

    A step's count is the number of treatment customers it would reach: group membership is
    never affected by per-channel opt-outs or the contact policy, which act on tasks later.
    """
    matched_ids = tuple(sorted(set(matched)))
    cooling = set(cooldown_ids).intersection(matched_ids)
    opted = set(opted_out_ids).intersection(matched_ids) - cooling
    held = cooling | opted
    withheld: set[str] = set()
    if global_control:
        withheld = {cid for cid in matched_ids
                    if cid not in held and in_global_control(cid, global_control)}
        held |= withheld
    eligible = [cid for cid in matched_ids if cid not in held] if held else list(matched_ids)
    threshold = control_threshold(holdout)
    if threshold:
        prefix, sha = f"{playbook_id}:".encode(), hashlib.sha256
        in_control_group = [int.from_bytes(sha(prefix + cid.encode()).digest()[:8], "big")
                            < threshold for cid in eligible]
        control = [cid for cid, c in zip(eligible, in_control_group, strict=True) if c]
        treatment = [cid for cid, c in zip(eligible, in_control_group, strict=True) if not c]
    else:
        control, treatment = [], eligible
    treated = set(treatment)
    steps = {step: len(treated.intersection(ids)) for step, ids in (step_members or {}).items()}
    suppressed = {"cooldown": tuple(sorted(cooling)), "opted_out": tuple(sorted(opted)),
                  "global_control": tuple(sorted(withheld))}
    return Selection(playbook_id, version, matched_ids, tuple(treatment), tuple(control),
                     {r: ids for r, ids in suppressed.items() if ids}, steps)
