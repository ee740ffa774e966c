"""`tend report TICKET`: a ticket's plan, decisions and results as a person reads them, in the
reader's language.

The sentences are msgids of the console's catalog, looked up in the report's `Words`
(adapters/tickets/report_words.py, the one the HTML page and its charts are drawn in), so the
terminal and the page say the same things in the same words. States, verdicts, funnel
stages, audit actions and roles are worded as the page words them; ids, numbers, instants,
channel and event names, suppression reasons and offer ids stay as they are. In English
(`ENGLISH`, no catalog) the text is exactly what it always was, codes as codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.evaluation.columns import left, width
from adapters.evaluation.offer_kpis import table
from adapters.tickets.report_words import (
    ACTIONS,
    ENGLISH,
    FUNNEL_STAGES,
    OFFER_TABLE,
    STATES,
    VERDICTS,
    Words,
)
from engine.measurement.kpi import FUNNEL
from engine.measurement.multiplicity import level_text
from engine.measurement.units import relative


def _(text: str) -> str:
    """Marks a msgid for `pybabel extract` (a label `_row` looks up)."""
    return text


def render(ticket: Mapping[str, Any], words: Words = ENGLISH) -> str:
    w = words
    audience = ticket["audience"]
    suppressed = ", ".join(f"{r} {n:,}" for r, n in audience["suppressed"].items()) \
        or w.gettext("none")
    lines = [
        w.gettext("ticket %(id)s: %(playbook)s v%(version)s — %(state)s", id=ticket["id"],
                  playbook=ticket["playbook"], version=ticket["version"],
                  state=w.code(STATES, ticket["state"]))
        + (w.gettext(" (%(reason)s)", reason=ticket["cancel_reason"])
           if ticket["cancel_reason"] else ""),
        "  " + _pad(w.pgettext("report row", "planned"), 12)
        + w.gettext("%(at)s by %(by)s (%(trigger)s)", at=ticket["planned_at"],
                    by=_actor(w, ticket["planned_by"]), trigger=ticket["trigger"]),
        _row(w, _("treatment"), f"{audience['treatment']:>9,}"),
        _row(w, _("control"), f"{audience['control']:>9,}"),
        _row(w, _("suppressed"), suppressed),
        "  " + w.gettext("steps:"),
        *(f"    {step:<14} {count:>9,}" for step, count in ticket["steps"].items()),
    ]
    split = (ticket.get("rehearsal") or {}).get("variants")
    if split:  # how the treatment splits between the step's variants (entries record it)
        lines.append(_row(w, _("variants"), w.gettext("step %(step)s: ", step=split["step"])
                          + ", ".join(f"{v['name']} {v['treatment']:,}"
                                      for v in split["variants"])))
    lines.extend(power_lines(ticket.get("power"), ticket.get("warnings") or (), w))
    if ticket["next_level"] is not None:
        lines.append("  " + w.gettext("waiting for level %(level)s, deadline %(deadline)s",
                                      level=ticket["next_level"], deadline=ticket["deadline"]))
    for a in ticket["approvals"]:
        lines.append("  " + w.gettext("level %(level)s %(decision)s by %(by)s (%(role)s) at "
                                      "%(at)s", level=a["level"], by=a["by"], at=a["at"],
                                      decision=w.code(STATES, a["decision"]),
                                      role=_role(w, a["role"]))
                     + (w.gettext(": %(comment)s", comment=a["comment"]) if a["comment"]
                        else ""))
    lines.extend(_results(ticket.get("results"), w))
    offers = ticket.get("offers") or {}
    if offers.get("rows"):
        lines.append("  " + w.gettext("offers (contacts naming this ticket):"))
        lines.extend(f"    {line}" for line in table(offers["rows"], offers["total"],
                                                    lambda text: w.code(OFFER_TABLE, text)))
    lines.append("  " + w.gettext("audit:"))
    lines.extend("    " + w.gettext("%(at)s  %(actor)s (%(role)s) %(action)s: %(start)s → "
                                     "%(end)s", at=e["at"], actor=_actor(w, e["actor"]),
                                     role=_role(w, e["role"]), action=_action(w, e["action"]),
                                     start=w.code(STATES, e["from"]) if e["from"] else "-",
                                     end=w.code(STATES, e["to"]))
                 + (f"  {e['reason']}" if e["reason"] else "")
                 for e in ticket.get("audit", ()))
    return "\n".join(lines)


def power_lines(power: Mapping[str, Any] | None, warnings: Any,
                words: Words = ENGLISH) -> list[str]:
    """What the ticket's split can detect (and the warnings an approver weighs): shared
    with `tend preview`."""
    if not power:
        return []
    w = words
    mde = power["minimum_detectable_effect"]
    source = w.gettext(_("measured") if power["base_rate_source"] == "history"
                       else _("default"))
    figures = {"power": f"{power['power']:.0%}", "rate": f"{power['base_rate']:.1%}",
               "source": source}
    detects = w.gettext("detects nothing at %(power)s power, base rate %(rate)s (%(source)s)",
                        **figures) if mde is None else \
        w.gettext("detects %(effect)s at %(power)s power, base rate %(rate)s (%(source)s)",
                  effect=w.pts(mde), **figures)
    lines = [_row(w, _("power"), detects)]
    lines.extend(_row(w, _("warning"), _warning(w, warn, power)) for warn in warnings)
    return lines


def _warning(w: Words, warning: Mapping[str, Any], power: Mapping[str, Any]) -> str:
    """An under-powered split as the console words it (its English as stored otherwise)."""
    if w.language == "en" or warning.get("code") != "under_powered":
        return str(warning["message"])
    mde = power.get("minimum_detectable_effect")
    if mde is None:
        return w.gettext("these groups can never tell an effect apart.")
    return w.gettext("the smallest effect this split can detect (%(mde)s) is larger than a "
                     "plausible one (%(plausible)s).", mde=w.pts(mde),
                     plausible=w.pts(power["plausible_effect"]))


def _results(results: Mapping[str, Any] | None, w: Words) -> list[str]:
    if not results:
        return []
    lines = ["  " + w.gettext("results:")]
    goal = results.get("goal")
    if goal:
        lines.append("    " + w.gettext("goal %(event)s from %(start)s to %(end)s",
                                         event=goal["event"], start=goal["from"],
                                         end=goal["to"]))
        for grp in ("treatment", "control"):
            g = goal[grp]
            rate = "-" if g["rate"] is None else f"{g['rate']:.1%}"
            lines.append(f"    {_pad(w.code(STATES, grp), 10)} "
                         + w.gettext("%(conversions)s of %(members)s",
                                     conversions=f"{g['conversions']:>7,}",
                                     members=f"{g['members']:>9,}") + f"  {rate}")
        lines.extend(_uplift(goal["uplift"], w))
    if results.get("variants"):
        lines.extend(_variant_lines(results["variants"], w))
    for c in results.get("cohorts", ()):
        u = c["uplift"]
        lines.append("    " + w.gettext(
            "week %(week)s%(open)s: treatment %(tc)s/%(t)s, control %(cc)s/%(c)s, %(verdict)s",
            week=c["week"], open="" if c["complete"] else w.gettext(" (open)"),
            tc=f"{u['treatment_conversions']:,}", t=f"{u['treatment']:,}",
            cc=f"{u['control_conversions']:,}", c=f"{u['control']:,}",
            verdict=w.code(VERDICTS, u["verdict"])))
    for f in results.get("funnel", ()):
        counts = w.gettext(", ").join(f"{w.code(FUNNEL_STAGES, stage)} {f[stage]:,}"
                                      for stage in FUNNEL)
        lines.append("    " + w.gettext("step %(step)s (%(channel)s): %(counts)s",
                                         step=f["step"], channel=f["channel"], counts=counts))
    cost = results.get("cost") or {}
    if cost.get("total") is not None:
        each = cost["per_conversion"]
        lines.append(_row(w, _("cost"), f"{cost['total']:,.2f}", "    ", 11)
                     + (w.gettext(", %(each)s per conversion", each=f"{each:,.2f}")
                        if each is not None else ""))
    return lines


def _uplift(u: Mapping[str, Any], w: Words) -> list[str]:
    verdict = w.code(VERDICTS, u["verdict"])
    if u["absolute"] is None:
        return [_row(w, _("uplift"), verdict, "    ", 11)]
    more = ""
    if u.get("relative") is not None:
        more += w.gettext("; %(relative)s relative", relative=relative(u["relative"]))
    if u["p_value"] is not None:
        more += f", p={u['p_value']:.3g}"
    return [_row(w, _("uplift"), w.gettext(
        "%(absolute)s (%(level)s CI %(low)s to %(high)s%(more)s): %(verdict)s",
        absolute=w.pts(u["absolute"]), level=f"{u['level']:.0%}", low=w.pts(u["low"]),
        high=w.pts(u["high"]), more=more, verdict=verdict), "    ", 11)]


def _variant_lines(split: Mapping[str, Any], w: Words) -> list[str]:
    """The per-variant results, indented under the results: each variant against control,
    each pair, and the correction for comparing several (docs/EVALUATION.md, Variants)."""
    c = split["control"]
    lines = ["    " + w.gettext("variants of step %(step)s (control %(conversions)s of "
                                 "%(members)s):", step=split["step"],
                                 conversions=f"{c['conversions']:,}",
                                 members=f"{c['members']:,}")]
    for v in split["variants"]:
        shown = "-" if v["rate"] is None else f"{v['rate']:.1%}"
        line = f"      {v['name']:<14} " + w.gettext(
            "%(conversions)s of %(members)s", conversions=f"{v['conversions']:>7,}",
            members=f"{v['members']:>9,}") + f"  {shown}"
        if v["vs_control"] is not None:
            line += "  " + w.gettext("vs control %(uplift)s",
                                     uplift=_compared(v["vs_control"], w))
        lines.append(line)
    lines.extend("      " + w.gettext("%(a)s vs %(b)s: %(uplift)s", a=p["a"], b=p["b"],
                                         uplift=_compared(p["uplift"], w))
                 for p in split["pairwise"])
    fixed = split.get("correction")
    if fixed:
        lines.append("      " + w.gettext(
            "%(n)s comparisons corrected together (Holm; intervals Bonferroni): winner "
            "%(winner)s", n=fixed["comparisons"],
            winner=split.get("winner") or w.gettext("none")))
    return lines


def _compared(u: Mapping[str, Any], w: Words) -> str:
    """One comparison of variants: '+2.0 pts (98.3% CI -1.0 to +5.0 pts, p=0.21, Holm
    0.63): not significant'."""
    verdict = w.code(VERDICTS, u["verdict"])
    if u["absolute"] is None:
        return verdict
    more = "" if u["p_value"] is None else f", p={u['p_value']:.3g}"
    if u.get("p_adjusted") is not None:
        more += f", Holm {u['p_adjusted']:.3g}"
    return w.gettext("%(absolute)s (%(level)s CI %(low)s to %(high)s%(more)s): %(verdict)s",
                     absolute=w.pts(u["absolute"]), level=level_text(u["level"]),
                     low=f"{u['low'] * 100:+.1f}", high=w.pts(u["high"]), more=more,
                     verdict=verdict)


def _row(w: Words, label: str, rest: str, indent: str = "  ", width: int = 12) -> str:
    """A labelled line: the label in words, padded so the values line up."""
    return indent + _pad(w.gettext(label), width) + rest


def _pad(text: str, columns: int) -> str:
    """`text` left-aligned in `columns` terminal columns, a space after it at least."""
    return left(text, columns) if width(text) < columns else f"{text} "


def _role(w: Words, role: str | None) -> str:
    """A role or actor code (`campaign_lead`, `scheduler`), in words beside Chinese."""
    return str(role) if w.language == "en" else w.role(role)


def _actor(w: Words, actor: str) -> str:
    """Who acted: a person's name as it is, the engine's own actors in words (as the page)."""
    return _role(w, actor) if actor in ("system", "scheduler") else str(actor)


def _action(w: Words, action: str) -> str:
    return action if w.language == "en" else w.code(ACTIONS, action)
