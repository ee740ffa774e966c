"""The rich tables `tend program` prints: the arms side by side, then the effect and cost."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from engine.measurement.program import ProgramReport


def tables(found: ProgramReport) -> list[Any]:
    t, g, u = found.treated, found.global_control, found.uplift
    heading = f"Program vs global control, {found.first} to {found.end} (excluded)"
    arms = Table()
    arms.add_column("")
    arms.add_column("treated", justify="right")
    arms.add_column("global control", justify="right")
    arms.add_row("customers", f"{t.customers:,}", f"{g.customers:,}")
    arms.add_row("with a goal", f"{t.with_goal:,}", f"{g.with_goal:,}")
    arms.add_row("conversions", f"{t.conversions:,}", f"{g.conversions:,}")
    arms.add_row("conversion rate", percent(t.rate), percent(g.rate))
    arms.add_row("goal windows open", f"{t.open_windows:,}", f"{g.open_windows:,}")
    arms.add_row("churned / at risk", f"{t.churned:,} / {t.churn_at_risk:,}",
                 f"{g.churned:,} / {g.churn_at_risk:,}")
    arms.add_row("churn rate", percent(t.churn_rate), percent(g.churn_rate))
    effect = Table()
    effect.add_column("")
    effect.add_column(f"effect ({u.level:.0%} interval) and cost", justify="right")
    inc, cost = found.incremental, found.cost
    effect.add_row("uplift", f"{points(u.absolute)} [{points(u.low)}, {points(u.high)}]")
    effect.add_row("relative uplift", signed_percent(u.relative))
    effect.add_row("verdict", u.verdict)
    effect.add_row("incremental conversions",
                   f"{number(inc.conversions)} [{number(inc.low)}, {number(inc.high)}]")
    effect.add_row("churn difference", f"{points(found.churn.absolute)} "
                   f"[{points(found.churn.low)}, {points(found.churn.high)}]")
    effect.add_row("cost: channels", money(cost.channels))
    effect.add_row("cost: offers", money(cost.offers))
    effect.add_row("cost: total", money(cost.total))
    effect.add_row("cost per incremental conversion", money(cost.per_incremental_conversion))
    effect.add_row("revenue", "-" if found.revenue is None else money(found.revenue))
    notes = [*found.notes, f"global_control share now: {found.share:g}"]
    if cost.unpriced_channels:
        notes.append(f"unpriced channels (counted as free): {', '.join(cost.unpriced_channels)}")
    if cost.unpriced_offers:
        notes.append(f"unpriced offers (counted as free): {', '.join(cost.unpriced_offers)}")
    return [heading, arms, effect, *notes]


def points(value: float | None) -> str:
    """A difference of rates in percentage points: +3.2 pts."""
    return "-" if value is None else f"{value * 100:+.1f} pts"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def signed_percent(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


def number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"
