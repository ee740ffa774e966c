"""A ticket's results per step variant (champion/challenger): each variant against control
and every pair of variants against each other, corrected as one family.

Intention-to-treat like the ticket's own results (results.py): a treatment entry counts in
the variant it recorded when it entered (entries.variant, engine/playbooks/variant.py), whether or
not a task reached the customer, and converts by the same goal events in the same window. Each
comparison is engine/measurement/uplift.py's (Newcombe's interval, the pooled z-test, "too small to
tell" below five expected in a cell), corrected for the family by
engine/measurement/multiplicity.py: Holm's verdicts, Bonferroni's intervals, and the `winner`.
`absolute` is a rate difference, shown as points (x100). Results stored before the correction are
judged again from their counts (`judged`), as the history judges stored tickets again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.schema import entries
from engine.measurement.kpi import rate
from engine.measurement.multiplicity import family
from engine.playbooks.playbook import Playbook
from engine.playbooks.variant import variant_step


def variant_results(conn: Connection, ticket_id: int, playbook: Playbook,
                    converted: Mapping[int, Any]) -> dict[str, Any] | None:
    """None for a playbook without variants; `converted`: the entries that reached the goal
    (empty without a goal: then only the members are counted and nothing is compared)."""
    step = variant_step(playbook.steps)
    if step is None:
        return None
    counts: dict[str, list[int]] = {v.name: [0, 0] for v in step.variants}
    control = [0, 0]
    rows = conn.execute(sa.select(entries.c.id, entries.c.grp, entries.c.variant)
                        .where(entries.c.ticket_id == ticket_id,
                               entries.c.grp.in_(("treatment", "control"))))
    for entry_id, grp, variant in rows:
        cell = control if grp == "control" else counts.setdefault(variant or "", [0, 0])
        cell[0] += 1
        cell[1] += entry_id in converted
    counts.pop("", None)  # entered before the step had variants: no variant to credit
    goal = playbook.goal is not None
    weights = {v.name: v.weight for v in step.variants}
    return judged({
        "step": step.id, "goal": goal, "control": _group(*control),
        "variants": [{"name": name, "weight": weights.get(name), **_group(n, hits)}
                     for name, (n, hits) in counts.items()]})


def judged(split: Mapping[str, Any]) -> dict[str, Any]:
    """The split with its comparisons made from its counts: `vs_control` per variant,
    `pairwise`, `correction` and `winner` (none of them without a goal)."""
    control = split["control"]
    counts = {v["name"]: (v["members"], v["conversions"]) for v in split["variants"]}
    found = family((control["members"], control["conversions"]), counts) \
        if split["goal"] else None
    return {**split,
            "variants": [{**v, "vs_control": found["vs_control"][v["name"]] if found else None}
                         for v in split["variants"]],
            "pairwise": found["pairwise"] if found else [],
            "correction": found["correction"] if found else None,
            "winner": found["winner"] if found else None}


def _group(members: int, conversions: int) -> dict[str, Any]:
    return {"members": members, "conversions": conversions, "rate": rate(conversions, members)}

