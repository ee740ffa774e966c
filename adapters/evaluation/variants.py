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
from engine.measurement.multiplicity import family, level_text
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


def pts(u: Mapping[str, Any]) -> str:
    """An uplift as a person reads it: '+2.0 pts (98.3% CI -1.0 to +5.0 pts, p=0.21, Holm
    0.63): not significant'."""
    if u["absolute"] is None:
        return str(u["verdict"])
    text = (f"{u['absolute'] * 100:+.1f} pts ({level_text(u['level'])} CI "
            f"{u['low'] * 100:+.1f} to {u['high'] * 100:+.1f} pts")
    if u["p_value"] is not None:
        text += f", p={u['p_value']:.3g}"
    if u.get("p_adjusted") is not None:
        text += f", Holm {u['p_adjusted']:.3g}"
    return f"{text}): {u['verdict']}"


def render_lines(split: Mapping[str, Any]) -> list[str]:
    """The per-variant results of `tend report`, indented under its results."""
    c = split["control"]
    lines = [f"    variants of step {split['step']} (control {c['conversions']:,} of "
             f"{c['members']:,}):"]
    for v in split["variants"]:
        shown = "-" if v["rate"] is None else f"{v['rate']:.1%}"
        line = f"      {v['name']:<14} {v['conversions']:>7,} of {v['members']:>9,}  {shown}"
        if v["vs_control"] is not None:
            line += f"  vs control {pts(v['vs_control'])}"
        lines.append(line)
    lines.extend(f"      {p['a']} vs {p['b']}: {pts(p['uplift'])}" for p in split["pairwise"])
    fixed = split.get("correction")
    if fixed:
        lines.append(f"      {fixed['comparisons']} comparisons corrected together (Holm; "
                     f"intervals Bonferroni): winner {split.get('winner') or 'none'}")
    return lines
