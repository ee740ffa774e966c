"""Group membership: deterministic holdout and the order suppressions are applied in."""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal

from engine.selection import in_control, select_members


def reference_in_control(playbook: str, cid: str, holdout: float) -> bool:
    """DESIGN section 5, literally."""
    digest = hashlib.sha256(f"{playbook}:{cid}".encode()).digest()
    return int.from_bytes(digest[:8], "big") < math.floor(Decimal(str(holdout)) * 2**64)


def test_holdout_follows_the_published_formula() -> None:
    ids = [f"c{i}" for i in range(2000)] + ["客户-1", "é"]
    for holdout in (0.0, 0.1, 0.25, 0.999):
        assert [in_control("winback", c, holdout) for c in ids] == \
               [reference_in_control("winback", c, holdout) for c in ids]


def test_holdout_fraction_is_close_to_the_setting() -> None:
    ids = [f"c{i}" for i in range(20_000)]
    share = sum(in_control("upsell", c, 0.1) for c in ids) / len(ids)
    assert 0.09 < share < 0.11


def test_groups_are_disjoint_and_cooldown_wins_over_opt_out() -> None:
    matched = [f"c{i}" for i in range(100)]
    selection = select_members("winback", 3, 0.2, matched, cooldown_ids={"c1", "c2"},
                               opted_out_ids={"c2", "c3"},
                               step_members={"call": matched[:50], "sms": matched})
    assert selection.suppressed == {"cooldown": ("c1", "c2"), "opted_out": ("c3",)}
    groups = [*selection.treatment, *selection.control,
              *(c for ids in selection.suppressed.values() for c in ids)]
    assert sorted(groups) == sorted(matched) and len(groups) == len(set(groups))
    assert all(not in_control("winback", c, 0.2) for c in selection.treatment)
    assert selection.steps["sms"] == len(selection.treatment)
    assert selection.steps["call"] == len(set(matched[:50]) & set(selection.treatment))


def test_zero_holdout_means_no_control_group() -> None:
    selection = select_members("p", 1, 0.0, ["a", "b"])
    assert selection.control == () and selection.treatment == ("a", "b")
