"""Which adapter result a task keeps: results arrive late, twice, or out of order.

An adapter may report `delivered` after `accepted` (a delivery receipt overtaking the reply),
or retry a report. A task keeps the furthest stage reached: a later-stage result replaces an
earlier one, never the reverse, and at one stage the first word stands. Pure functions, so
the rule is tested without a database (tests/unit/test_task.py also checks that STAGE ranks every
result status a playbook may name).
"""

from __future__ import annotations

# How far the contact got: an attempt failed < it reached the customer < they talked <
# they answered the offer < they converted.
STAGE = {"failed": 0, "no_answer": 0, "delivered": 1, "connected": 2, "accepted": 3,
         "declined": 3, "converted": 4}
# Results that settle the customer's answer for the whole ticket: other channels stop.
CLOSING = frozenset({"accepted", "converted"})


def keeps(current: str | None, reported: str) -> bool:
    """True when `reported` should become the task's result over `current` (None or a task
    state that is not a result: nothing reported yet)."""
    if current not in STAGE:
        return True
    return STAGE[reported] > STAGE[current]


def closes_siblings(status: str) -> bool:
    return status in CLOSING
