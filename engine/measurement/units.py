"""How an uplift is written, everywhere: absolute in percentage points, relative in percent.

A treatment rate of 8% against a control rate of 5% is an uplift of "+3.0 pts" (zh "+3.0 个
百分点"), and a relative uplift of "+60.0%". Writing the first as "3.0%" reads as the second,
and a director who reads "+3%" as relative misjudges a playbook twentyfold. The ticket page,
the report, the KPIs, the playbook history, `tend simulate` and the API all write through
here; the API also names the unit in the field (`absolute_pts`, `relative_pct`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MISSING = "—"
_POINTS = {"en": "pts", "zh": "个百分点"}


def pts(value: float | None, lang: str = "en", digits: int = 1) -> str:
    """An absolute difference of rates (a fraction: 0.032) as signed percentage points:
    "+3.2 pts", zh "+3.2 个百分点"."""
    if value is None:
        return MISSING
    unit = _POINTS.get(lang.split("_")[0].split("-")[0], _POINTS["en"])
    return f"{value * 100:+.{digits}f} {unit}"


def interval_pts(low: float | None, high: float | None, lang: str = "en",
                 digits: int = 1) -> str:
    """An interval of absolute differences: "[+1.0, +5.3] pts"."""
    if low is None or high is None:
        return ""
    unit = pts(0, lang).split(" ", 1)[1]
    return f"[{low * 100:+.{digits}f}, {high * 100:+.{digits}f}] {unit}"


def relative(value: float | None, digits: int = 1) -> str:
    """A relative uplift (a ratio: 0.6) as a signed percent: "+60.0%"."""
    return MISSING if value is None else f"{value * 100:+.{digits}f}%"


def in_units(uplift: Mapping[str, Any]) -> dict[str, Any]:
    """An uplift's JSON with each figure also under a name that says its unit, in those
    units: `absolute_pts`, `low_pts`, `high_pts` (percentage points) and `relative_pct`
    (percent). The fractions stay under their old names for existing clients."""
    def scaled(key: str) -> float | None:
        value = uplift.get(key)
        return None if value is None else round(value * 100, 6)

    return {**uplift, "absolute_pts": scaled("absolute"), "low_pts": scaled("low"),
            "high_pts": scaled("high"), "relative_pct": scaled("relative")}
