"""What explain says became of a task, from its state, first send and detail."""

from __future__ import annotations

from typing import Any

from engine.playbooks.explain import task_story

DUE = "2026-11-20T10:00:00+08:00"


def story(state: str, **fields: Any) -> tuple[str, str]:
    told = task_story({"state": state, "due_at": DUE, "sent_at": None, "detail": None,
                       **fields})
    return told["outcome"], told["why"]


def test_a_result_means_sent_and_says_which() -> None:
    assert story("no_answer", sent_at=DUE) == ("sent", "result no_answer")
    assert story("delivered") == ("sent", "result delivered")


def test_handed_out_without_a_result_is_sent_and_waiting_for_one() -> None:
    assert story("leased", sent_at=DUE) == ("sent", f"leased since {DUE}, no result yet")


def test_a_hold_says_why_and_until_when() -> None:
    hold = {"policy": "hold", "reason": "quiet_hours", "note": "sms is quiet 21:00-09:00"}
    assert story("pending", detail=hold) == (
        "held", f"quiet_hours — sms is quiet 21:00-09:00; due {DUE}")
    assert story("pending") == ("waiting", f"due {DUE}")


def test_suppressed_cancelled_and_dead_carry_their_reason() -> None:
    assert story("suppressed", detail={"reason": "frequency_cap", "note": "sms: at most 1 "
                                                                         "per 1d"}) == (
        "suppressed", "frequency_cap — sms: at most 1 per 1d")
    assert story("cancelled", detail={"reason": "ticket cancelled"}) == (
        "cancelled", "ticket cancelled")
    assert story("cancelled") == ("cancelled", "no reason recorded")
    assert story("dead", detail={"reason": "HTTP 400 from https://x"}) == (
        "dead", "HTTP 400 from https://x")
