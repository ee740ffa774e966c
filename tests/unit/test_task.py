"""The result a task keeps when reports arrive late, twice, or out of order."""

from __future__ import annotations

from engine.playbook import RESULT_STATUSES
from engine.task import STAGE, closes_siblings, keeps


def test_every_result_status_has_a_stage() -> None:
    assert set(STAGE) == set(RESULT_STATUSES)


def test_a_first_result_replaces_a_task_state() -> None:
    assert keeps(None, "failed") and keeps("leased", "delivered") and keeps("pending", "no_answer")


def test_later_stages_win_and_earlier_ones_never_overwrite() -> None:
    assert keeps("delivered", "accepted") and keeps("failed", "delivered")
    assert not keeps("accepted", "delivered") and not keeps("converted", "accepted")


def test_a_repeat_or_a_rival_at_the_same_stage_changes_nothing() -> None:
    assert not keeps("accepted", "accepted") and not keeps("accepted", "declined")


def test_only_an_accepted_or_converted_answer_stops_the_other_channels() -> None:
    assert {s for s in RESULT_STATUSES if closes_siblings(s)} == {"accepted", "converted"}
