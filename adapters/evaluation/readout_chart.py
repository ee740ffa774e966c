"""The chart of a version's readout: each evaluated ticket's uplift with its 95% interval,
and the pooled estimate with its always-valid interval beneath, against 0 and the margin.

Drawn by matplotlib on an Agg figure (no pyplot: no global state across request threads),
like the report's charts. The chart carries numbers and ticket ids only; the words around it
are the page's, in the reader's language.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from matplotlib.figure import Figure

from engine.measurement.sequential import HARMS, WORKS

logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
TICKET = "#8d99ae"
VERDICT_COLOURS = {WORKS: "#2a9d8f", HARMS: "#d62828"}
POOLED = "#1d3557"


class Interval(NamedTuple):
    label: str  # "#12"
    estimate: float  # fractions: 0.03 is +3 pts
    low: float
    high: float


def chart(tickets: Sequence[Interval], found: Mapping[str, Any]) -> bytes | None:
    """PNG bytes, or None when no ticket has an interval to draw."""
    if not tickets:
        return None
    rows = len(tickets) + 1
    fig = Figure(figsize=(6.4, 0.9 + 0.28 * rows), dpi=110)
    ax = fig.subplots()
    for i, t in enumerate(tickets):
        y = rows - i
        ax.errorbar([t.estimate * 100], [y], xerr=[[(t.estimate - t.low) * 100],
                                                   [(t.high - t.estimate) * 100]],
                    fmt="o", color=TICKET, markersize=4, capsize=3, linewidth=1.2)
    labels = [t.label for t in tickets]
    if found.get("estimate") is not None and found.get("low") is not None:
        mid, low, high = (found[k] * 100 for k in ("estimate", "low", "high"))
        colour = VERDICT_COLOURS.get(str(found.get("verdict")), POOLED)
        ax.errorbar([mid], [1], xerr=[[mid - low], [high - mid]], fmt="D", color=colour,
                    markersize=7, capsize=6, linewidth=2.6)
    labels.append("Σ")
    ax.set_yticks(range(rows, 0, -1), labels, fontsize=8)
    ax.axvline(0, color="#333333", linewidth=1)
    margin = found.get("margin")
    if margin:
        for side in (-margin * 100, margin * 100):
            ax.axvline(side, color="#bbbbbb", linewidth=0.8, linestyle="--")
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:+.0f}")
    ax.set_ylim(0.4, rows + 0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
