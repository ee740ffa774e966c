"""The report's charts (uplift, conversions over time, weekly cohorts, funnel), drawn by
matplotlib on the Agg backend through Figure objects, never pyplot, whose global figure
registry is not safe under a threaded server.

Titles, axes and legends are in the report's language (`Words`, the console's catalog).
Chinese glyphs come from the first installed CJK font of `CJK_FONTS` (Debian's
fonts-noto-cjk: Noto Sans CJK SC; `scripts/ensure-fonts.sh` installs it); matplotlib falls
back glyph by glyph along `font.family`, so Latin text keeps DejaVu Sans. On a machine with no
CJK font a Chinese report's charts keep English words rather than draw boxes (tofu).
"""

from __future__ import annotations

import functools
import io
import logging
import os
import warnings
from collections.abc import Callable, Collection, Mapping
from typing import Any

from adapters.tickets.report_words import ENGLISH, FUNNEL_STAGES, STATES, VERDICTS, Words
from engine.measurement.kpi import FUNNEL

os.environ.setdefault("MPLBACKEND", "Agg")
# The first import builds matplotlib's font cache and says so at WARNING; a report has
# nothing to learn from it.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
import matplotlib  # noqa: E402

matplotlib.use("Agg")
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

TREATMENT, CONTROL, NEUTRAL = "#1f6f8b", "#c9a227", "#8a8f98"
LATIN = "DejaVu Sans"
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "AR PL UMing CN", "Microsoft YaHei", "PingFang SC")


@functools.cache
def cjk_font() -> str | None:
    """The first CJK font matplotlib can find on this machine, or None."""
    for family in CJK_FONTS:
        try:
            font_manager.findfont(font_manager.FontProperties(family=family),
                                  fallback_to_default=False)
        except ValueError:
            continue
        return family
    return None


def chart_words(words: Words) -> Words:
    """The words a chart can draw: Chinese ones only when a CJK font is installed."""
    if words.language != "en" and cjk_font() is None:
        return ENGLISH
    return words


def charts(results: Mapping[str, Any], words: Words = ENGLISH,
           only: Collection[str] | None = None) -> dict[str, bytes]:
    """PNG charts by name; only those the results have data for (and, given `only`, only
    those named: the console's ticket page draws the uplift and the timeline inline)."""
    words = chart_words(words)
    plans: list[tuple[str, Callable[[Figure, Any, Words], None], Any]] = []
    if results.get("goal"):
        plans.append(("uplift", _uplift_chart, results["goal"]))
    if results.get("timeline"):
        plans.append(("timeline", _timeline_chart, results["timeline"]))
    if results.get("cohorts"):
        plans.append(("cohorts", _cohort_chart, results["cohorts"]))
    if results.get("funnel"):
        plans.append(("funnel", _funnel_chart, results["funnel"]))
    family = [LATIN, *([cjk_font()] if cjk_font() else [])]
    drawn: dict[str, bytes] = {}
    for name, draw, data in plans:
        if only is not None and name not in only:
            continue
        with matplotlib.rc_context({"font.family": family}), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Glyph .* missing from font")
            fig = Figure(figsize=(7.2, 3.4), dpi=110)  # not pyplot: no global state
            draw(fig, data, words)
            fig.tight_layout()
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png")
        drawn[name] = buffer.getvalue()
    return drawn


def _style(ax: Any) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", alpha=0.25)


def _uplift_chart(fig: Figure, goal: Mapping[str, Any], words: Words) -> None:
    _ = words.gettext
    rates, diff = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    u = goal["uplift"]
    values = [(u["treatment_rate"] or 0) * 100, (u["control_rate"] or 0) * 100]
    groups = [words.code(STATES, "treatment"), words.code(STATES, "control")]
    bars = rates.bar(groups, values, color=[TREATMENT, CONTROL], width=0.6)
    rates.bar_label(bars, labels=[f"{v:.1f}%" for v in values], padding=2)
    rates.set_ylabel(_("converted (%)"))
    rates.set_title(_("Conversion rate"), fontsize=10)
    rates.set_ylim(0, max([*values, 1]) * 1.25)
    _style(rates)
    diff.axvline(0, color=NEUTRAL, linewidth=1)
    if u["absolute"] is not None:
        low, mid, high = (u["low"] * 100, u["absolute"] * 100, u["high"] * 100)
        colour = TREATMENT if u["verdict"] == "significant" else NEUTRAL
        diff.errorbar([mid], [0], xerr=[[mid - low], [high - mid]], fmt="o", color=colour,
                      capsize=8, markersize=9, linewidth=2.5)
        diff.annotate(f"{words.pts(u['absolute'])}  {words.interval_pts(u['low'], u['high'])}",
                      (mid, 0),
                      xytext=(0, 14), textcoords="offset points", ha="center")
        span = max(abs(low), abs(high), 1) * 1.3
        diff.set_xlim(-span, span)
    diff.set_yticks([])
    diff.set_ylim(-1, 1)
    diff.set_xlabel(_("uplift, percentage points"))
    diff.set_title(_("Uplift with %(level)s interval: %(verdict)s", level=f"{u['level']:.0%}",
                     verdict=words.code(VERDICTS, u["verdict"])), fontsize=10)
    for side in ("top", "right", "left"):
        diff.spines[side].set_visible(False)


def _timeline_chart(fig: Figure, timeline: list[Mapping[str, Any]], words: Words) -> None:
    _ = words.gettext
    ax = fig.subplots()
    days = [p["day"] for p in timeline]
    for grp, colour in (("treatment", TREATMENT), ("control", CONTROL)):
        ys = [(p[f"{grp}_rate"] or 0) * 100 for p in timeline]
        ax.step(days, ys, where="post", color=colour, linewidth=2, label=words.code(STATES, grp))
    ax.set_xlabel(_("days since entry"))
    ax.set_ylabel(_("converted so far (%)"))
    ax.set_title(_("Conversions over time"), fontsize=10)
    ax.set_xlim(0, max(days) or 1)
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, loc="upper left")
    _style(ax)


def _cohort_chart(fig: Figure, cohorts: list[Mapping[str, Any]], words: Words) -> None:
    _ = words.gettext
    ax = fig.subplots()
    ax.axhline(0, color=NEUTRAL, linewidth=1)
    for i, c in enumerate(cohorts):
        u = c["uplift"]
        if u["absolute"] is None:
            continue
        mid = u["absolute"] * 100
        colour = TREATMENT if u["verdict"] == "significant" else NEUTRAL
        ax.errorbar([i], [mid], yerr=[[mid - u["low"] * 100], [u["high"] * 100 - mid]],
                    fmt="o", color=colour, capsize=5, alpha=1 if c["complete"] else 0.45)
    ax.set_xticks(range(len(cohorts)), [c["week"] for c in cohorts], rotation=30, ha="right")
    ax.set_xlim(-0.5, len(cohorts) - 0.5)
    ax.set_ylabel(_("uplift, percentage points"))
    ax.set_title(_("Uplift by weekly cohort (faded: window still open)"), fontsize=10)
    _style(ax)


def _funnel_chart(fig: Figure, funnel: list[Mapping[str, Any]], words: Words) -> None:
    _ = words.gettext
    ax = fig.subplots()
    stages = FUNNEL[1:]
    width = 0.8 / max(1, len(funnel))
    palette = [TREATMENT, CONTROL, "#6a4c93", "#2a9d8f", "#e76f51", NEUTRAL]
    for i, f in enumerate(funnel):
        xs = [s + i * width for s in range(len(stages))]
        ax.bar(xs, [f[s] for s in stages], width=width, color=palette[i % len(palette)],
               label=f"{f['step']} ({words.channel(f['channel'])})")
    ax.set_xticks([s + width * (len(funnel) - 1) / 2 for s in range(len(stages))],
                  [words.code(FUNNEL_STAGES, s) for s in stages])
    ax.set_ylabel(_("tasks"))
    ax.set_title(_("Funnel per step"), fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    _style(ax)
