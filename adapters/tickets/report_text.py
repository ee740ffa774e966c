"""`tend report TICKET`: a ticket's plan, decisions and results as a person reads them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.evaluation.offer_kpis import table
from adapters.evaluation.variants import render_lines
from engine.measurement.kpi import FUNNEL
from engine.measurement.units import pts, relative


def render(ticket: Mapping[str, Any]) -> str:
    audience = ticket["audience"]
    suppressed = ", ".join(f"{r} {n:,}" for r, n in audience["suppressed"].items()) or "none"
    lines = [
        f"ticket {ticket['id']}: {ticket['playbook']} v{ticket['version']} — {ticket['state']}"
        + (f" ({ticket['cancel_reason']})" if ticket["cancel_reason"] else ""),
        f"  planned     {ticket['planned_at']} by {ticket['planned_by']} ({ticket['trigger']})",
        f"  treatment   {audience['treatment']:>9,}",
        f"  control     {audience['control']:>9,}",
        f"  suppressed  {suppressed}",
        "  steps:",
        *(f"    {step:<14} {count:>9,}" for step, count in ticket["steps"].items()),
    ]
    split = (ticket.get("rehearsal") or {}).get("variants")
    if split:  # how the treatment splits between the step's variants (entries record it)
        lines.append(f"  variants    step {split['step']}: "
                     + ", ".join(f"{v['name']} {v['treatment']:,}" for v in split["variants"]))
    lines.extend(power_lines(ticket.get("power"), ticket.get("warnings") or ()))
    if ticket["next_level"] is not None:
        lines.append(f"  waiting for level {ticket['next_level']}, deadline {ticket['deadline']}")
    for a in ticket["approvals"]:
        lines.append(f"  level {a['level']} {a['decision']} by {a['by']} ({a['role']}) at "
                     f"{a['at']}" + (f": {a['comment']}" if a["comment"] else ""))
    lines.extend(_results(ticket.get("results")))
    offers = ticket.get("offers") or {}
    if offers.get("rows"):
        lines.append("  offers (contacts naming this ticket):")
        lines.extend(f"    {line}" for line in table(offers["rows"], offers["total"]))
    lines.append("  audit:")
    lines.extend(f"    {e['at']}  {e['actor']} ({e['role']}) {e['action']}: "
                 f"{e['from'] or '-'} → {e['to']}" + (f"  {e['reason']}" if e["reason"] else "")
                 for e in ticket.get("audit", ()))
    return "\n".join(lines)


def power_lines(power: Mapping[str, Any] | None, warnings: Any) -> list[str]:
    if not power:
        return []
    mde = power["minimum_detectable_effect"]
    source = "measured" if power["base_rate_source"] == "history" else "default"
    lines = [f"  power       detects {'nothing' if mde is None else pts(mde)} at "
             f"{power['power']:.0%} power, base rate {power['base_rate']:.1%} ({source})"]
    lines.extend(f"  warning     {w['message']}" for w in warnings)
    return lines


def _results(results: Mapping[str, Any] | None) -> list[str]:
    if not results:
        return []
    lines = ["  results:"]
    goal = results.get("goal")
    if goal:
        lines.append(f"    goal {goal['event']} from {goal['from']} to {goal['to']}")
        for grp in ("treatment", "control"):
            g = goal[grp]
            rate = "-" if g["rate"] is None else f"{g['rate']:.1%}"
            lines.append(f"    {grp:<10} {g['conversions']:>7,} of {g['members']:>9,}  {rate}")
        lines.extend(_uplift(goal["uplift"]))
    if results.get("variants"):
        lines.extend(render_lines(results["variants"]))
    for c in results.get("cohorts", ()):
        u = c["uplift"]
        lines.append(f"    week {c['week']}{'' if c['complete'] else ' (open)'}: treatment "
                     f"{u['treatment_conversions']:,}/{u['treatment']:,}, control "
                     f"{u['control_conversions']:,}/{u['control']:,}, {u['verdict']}")
    for f in results.get("funnel", ()):
        counts = ", ".join(f"{stage} {f[stage]:,}" for stage in FUNNEL)
        lines.append(f"    step {f['step']} ({f['channel']}): {counts}")
    cost = results.get("cost") or {}
    if cost.get("total") is not None:
        each = cost["per_conversion"]
        lines.append(f"    cost       {cost['total']:,.2f}"
                     + (f", {each:,.2f} per conversion" if each is not None else ""))
    return lines


def _uplift(u: Mapping[str, Any]) -> list[str]:
    if u["absolute"] is None:
        return [f"    uplift     {u['verdict']}"]
    line = (f"    uplift     {pts(u['absolute'])} ({u['level']:.0%} CI "
            f"{pts(u['low'])} to {pts(u['high'])}")
    if u.get("relative") is not None:
        line += f"; {relative(u['relative'])} relative"
    if u["p_value"] is not None:
        line += f", p={u['p_value']:.3g}"
    return [line + f"): {u['verdict']}"]
