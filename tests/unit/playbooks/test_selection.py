"""Group membership: deterministic holdout and the order suppressions are applied in."""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal

from engine.playbooks.selection import global_share, in_control, in_global_control, select_members


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


def test_the_global_control_is_the_same_customers_for_every_playbook() -> None:
    ids = [f"c{i:06d}" for i in range(20_000)]
    held = {cid for cid in ids if in_global_control(cid, 0.02)}
    assert 0.017 < len(held) / len(ids) < 0.023
    for playbook in ("upsell", "winback"):
        chosen = select_members(playbook, 1, 0.1, ids, global_control=0.02)
        assert set(chosen.suppressed["global_control"]) == held
        assert held.isdisjoint(chosen.treatment) and held.isdisjoint(chosen.control)
        assert len(chosen.treatment) + len(chosen.control) + len(held) == len(ids)


def test_cooldown_and_opt_out_come_before_the_global_control() -> None:
    ids = [f"c{i:05d}" for i in range(5_000)]
    held = sorted(cid for cid in ids if in_global_control(cid, 0.05))
    chosen = select_members("upsell", 1, 0.0, ids, cooldown_ids=held[:3],
                            opted_out_ids=held[3:5], global_control=0.05)
    assert chosen.suppressed["cooldown"] == tuple(held[:3])
    assert chosen.suppressed["opted_out"] == tuple(held[3:5])
    assert chosen.suppressed["global_control"] == tuple(held[5:])


def test_care_and_service_are_exempt_and_no_share_holds_nobody() -> None:
    assert global_share(0.02, "care") == 0.0 and global_share(0.02, "service") == 0.0
    assert global_share(0.02, "sales") == 0.02 and global_share(0.02, "retention") == 0.02
    chosen = select_members("birthday", 1, 0.0, [f"c{i}" for i in range(1000)],
                            global_control=global_share(0.02, "care"))
    assert "global_control" not in chosen.suppressed and len(chosen.treatment) == 1000
