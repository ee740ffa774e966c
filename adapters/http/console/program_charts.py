"""The Program page's charts, drawn by matplotlib as the ticket report's are
(adapters/tickets/report.py: Agg backend, PNG) and embedded in the page as data: URIs.

Labels come in already translated: the page passes its gettext strings, so a Chinese reader
gets Chinese axes. CJK glyphs come from the first installed font of `FONTS` (Noto Sans CJK
SC on the reference machine); without one they would be drawn as boxes, never an error.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import warnings
from collections.abc import Mapping
from typing import Any

from engine.measurement.program import ProgramReport

os.environ.setdefault("MPLBACKEND", "Agg")
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
import matplotlib  # noqa: E402

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

TREATED, CONTROL, NEUTRAL = "#1f6f8b", "#c9a227", "#8a8f98"
FONTS = ["DejaVu Sans", "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei",
         "Microsoft YaHei", "PingFang SC"]


def charts(found: ProgramReport, labels: Mapping[str, str]) -> dict[str, str]:
    """name → data: URI of each chart; the playbook chart only when some sweep ran."""
    drawn = {"effect": _draw(lambda fig: _effect(fig, found, labels), (7.5, 3.0))}
    if found.playbooks:
        height = 1.2 + 0.45 * len(found.playbooks)
        drawn["playbooks"] = _draw(lambda fig: _playbooks(fig, found, labels), (7.5, height))
    return drawn


def _draw(paint: Any, size: tuple[float, float]) -> str:
    with matplotlib.rc_context({"font.family": FONTS, "font.size": 9}), \
            warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from font")
        fig = Figure(figsize=size, dpi=110, layout="constrained")
        paint(fig)
        out = io.BytesIO()
        fig.savefig(out, format="png")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _style(ax: Any) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", alpha=0.25)


def _effect(fig: Figure, found: ProgramReport, labels: Mapping[str, str]) -> None:
    rates, diff = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    u = found.uplift
    values = [(u.treatment_rate or 0) * 100, (u.control_rate or 0) * 100]
    bars = rates.bar([labels["treated"], labels["global_control"]], values,
                     color=[TREATED, CONTROL], width=0.6)
    rates.bar_label(bars, labels=[f"{v:.1f}%" for v in values], padding=2)
    rates.set_ylabel(labels["converted"])
    rates.set_title(labels["rate_title"], fontsize=10)
    rates.set_ylim(0, max([*values, 1]) * 1.25)
    _style(rates)
    diff.axvline(0, color=NEUTRAL, linewidth=1)
    if u.absolute is not None and u.low is not None and u.high is not None:
        low, mid, high = u.low * 100, u.absolute * 100, u.high * 100
        colour = TREATED if u.verdict == "significant" else NEUTRAL
        diff.errorbar([mid], [0], xerr=[[mid - low], [high - mid]], fmt="o", color=colour,
                      capsize=8, markersize=9, linewidth=2.5)
        diff.annotate(f"{mid:+.1f}  [{low:+.1f}, {high:+.1f}]", (mid, 0), xytext=(0, 14),
                      textcoords="offset points", ha="center")
        span = max(abs(low), abs(high), 1) * 1.3
        diff.set_xlim(-span, span)
    diff.set_yticks([])
    diff.set_ylim(-1, 1)
    diff.set_xlabel(labels["points"])
    diff.set_title(labels["uplift_title"], fontsize=10)
    for side in ("top", "right", "left"):
        diff.spines[side].set_visible(False)


def _playbooks(fig: Figure, found: ProgramReport, labels: Mapping[str, str]) -> None:
    ax = fig.subplots()
    names = [p.playbook for p in found.playbooks]
    rows = range(len(names))
    treated = ax.barh([r - 0.2 for r in rows], [p.treated for p in found.playbooks],
                      height=0.4, color=TREATED, label=labels["treated"])
    held = ax.barh([r + 0.2 for r in rows], [p.global_control for p in found.playbooks],
                   height=0.4, color=CONTROL, label=labels["global_control"])
    for bars in (treated, held):
        ax.bar_label(bars, labels=[f"{b.get_width():,.0f}" for b in bars], padding=3,
                     fontsize=8)
    ax.set_yticks(list(rows), names)
    ax.invert_yaxis()
    ax.set_xscale("symlog")  # the control is a few percent of the treated: both readable
    ax.set_xlim(0, max(p.treated for p in found.playbooks) * 4 + 10)
    ax.set_xlabel(labels["customers"])
    ax.set_title(labels["playbooks_title"], fontsize=10)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), ncols=2, frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
