"""What the push worker makes of a channel's answer (adapters/tasks/pushes.py `settle`), on a
FakePusher and no database: delivered, tried again after a backoff, or a dead letter whose
reason masks the phone a receiver echoed."""

from __future__ import annotations

import datetime as dt

from support.fakes import BUSY, NO, OK, FakePusher

from adapters.channels.base import REFUSED, Outcome
from adapters.tasks.pushes import MAX_BACKOFF, backoff, settle

NOW = dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC)


def _task(attempt: int) -> dict[str, object]:
    return {"id": 7, "attempt": attempt}


def test_a_delivery_ends_the_push_and_keeps_the_receivers_answer() -> None:
    kind, values = settle(_task(1), FakePusher().pusher(), OK, NOW)
    assert kind == "delivered"
    assert values["state"] == "delivered" and values["result_at"] == NOW
    assert values["lease_expires_at"] is None and values["detail"] == {"push": OK.detail}


def test_a_busy_receiver_is_tried_again_after_the_channels_backoff() -> None:
    pusher = FakePusher(attempts=3, backoff=60).pusher()
    kind, values = settle(_task(1), pusher, BUSY, NOW)
    assert kind == "retry" and values["state"] == "pending"
    assert NOW + dt.timedelta(seconds=30) <= values["due_at"] <= NOW + dt.timedelta(seconds=60)
    assert values["detail"] == {"error": BUSY.detail, "attempts": 1,
                                "next_attempt_at": values["due_at"].isoformat()}


def test_the_last_attempt_spent_makes_a_dead_letter_saying_so() -> None:
    kind, values = settle(_task(3), FakePusher(attempts=3).pusher(), BUSY, NOW)
    assert kind == "dead" and values["state"] == "dead"
    assert values["detail"] == {"reason": f"gave up after 3 attempts: {BUSY.detail}",
                                "attempts": 3}


def test_a_refusal_is_a_dead_letter_at_once_whatever_attempts_are_left() -> None:
    kind, values = settle(_task(1), FakePusher(attempts=5).pusher(), NO, NOW)
    assert kind == "dead" and values["detail"] == {"reason": NO.detail, "attempts": 1}


def test_a_reason_naming_a_phone_is_kept_masked() -> None:
    refusal = Outcome(REFUSED, "unknown subscriber +8613800000000")
    _, values = settle(_task(1), FakePusher().pusher(), refusal, NOW)
    assert "13800000000" not in values["detail"]["reason"]
    assert values["detail"]["reason"].startswith("unknown subscriber")


def test_backoff_doubles_per_attempt_with_jitter_and_is_capped() -> None:
    for attempts in range(1, 6):
        delay = backoff(10, attempts)
        assert dt.timedelta(seconds=10 * 2 ** (attempts - 1)) / 2 <= delay \
            <= dt.timedelta(seconds=10 * 2 ** (attempts - 1))
    assert MAX_BACKOFF / 2 <= backoff(10, 40) <= MAX_BACKOFF
