"""Uplifts are written in their units: absolute in percentage points, relative in percent,
in both languages, and the API names the unit in the field."""

from __future__ import annotations

import dataclasses

from engine.measurement.units import in_units, interval_pts, pts, relative
from engine.measurement.uplift import uplift


def test_absolute_is_points_and_relative_is_percent() -> None:
    assert pts(0.032) == "+3.2 pts"
    assert pts(-0.004) == "-0.4 pts"
    assert pts(0.032, "zh") == "+3.2 个百分点"
    assert pts(0.032, "zh_Hans_CN") == "+3.2 个百分点"
    assert pts(None) == "—"
    assert relative(0.6) == "+60.0%"
    assert interval_pts(0.01, 0.053) == "[+1.0, +5.3] pts"
    assert interval_pts(None, 0.1) == ""


def test_the_api_names_the_unit_and_keeps_the_old_fields() -> None:
    shown = in_units(dataclasses.asdict(uplift(1000, 80, 1000, 50)))
    assert shown["absolute"] == 0.03 and shown["absolute_pts"] == 3.0
    assert shown["relative_pct"] == 60.0
    assert shown["low_pts"] < 3.0 < shown["high_pts"]
    empty = in_units(dataclasses.asdict(uplift(10, 1, 0, 0)))
    assert empty["absolute_pts"] is None and empty["relative_pct"] is None
