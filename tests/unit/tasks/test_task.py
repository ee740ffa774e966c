"""The task lifecycle: every state against every event, and the result a task keeps when
reports arrive late, twice, or out of order."""

from __future__ import annotations

import pytest

from engine.errors import Conflict
from engine.playbooks.playbook import RESULT_STATUSES
from engine.tasks import task as tk

DESK = ("connected", "no_answer", "accepted", "declined")


@pytest.mark.parametrize("state", (tk.NEW, *tk.STATES, tk.CANCELLED_SENT))
@pytest.mark.parametrize("event", tk.EVENTS)
def test_every_state_and_event_moves_as_the_table_says_or_conflicts(state: str,
                                                                    event: str) -> None:
    target = tk.TRANSITIONS.get((state, event))
    if target is None:
        with pytest.raises(Conflict, match=f"task 7 is {state}: cannot"):
            tk.move(7, state, event)
        return
    assert tk.move(7, state, event) == target in tk.STATES


def test_every_result_status_is_a_state_with_a_stage() -> None:
    assert set(tk.STAGE) == set(tk.RESULTS) == set(RESULT_STATUSES)
    assert set(tk.RESULTS) <= set(tk.STATES) and len(set(tk.STATES)) == len(tk.STATES)


def test_a_first_result_replaces_a_state_a_channel_holds() -> None:
    for state in (tk.LEASED, tk.PUSHED):
        assert all(tk.move(1, state, result) == result for result in tk.RESULTS)
    assert all(tk.move(1, tk.PENDING, result, desk=True) == result for result in tk.RESULTS)


def test_no_result_is_taken_on_a_task_still_waiting_for_its_channel() -> None:
    """A pending sms no adapter pulled was never sent: an `accepted` on it would count a
    contact that never happened. A pending task on a person's desk is theirs to report."""
    for result in tk.RESULTS:
        with pytest.raises(Conflict, match=f"task 7 is pending: cannot take the result {result}"):
            tk.move(7, tk.PENDING, result)


def test_later_stages_win_and_earlier_ones_never_overwrite() -> None:
    assert tk.move(1, "delivered", "accepted") == "accepted"
    assert tk.move(1, "failed", "delivered") == "delivered"
    assert tk.move(1, "accepted", "delivered") == "accepted"
    assert tk.move(1, "converted", "accepted") == "converted"


def test_a_repeat_or_a_rival_at_the_same_stage_changes_nothing() -> None:
    assert tk.move(1, "accepted", "accepted") == "accepted"
    assert tk.move(1, "accepted", "declined") == "accepted"


@pytest.mark.parametrize("state", ["suppressed", "cancelled", "dead"])
def test_no_result_is_taken_on_a_task_no_channel_had(state: str) -> None:
    with pytest.raises(Conflict, match=f"task 9 is {state}: cannot take the result accepted"):
        tk.move(9, state, "accepted")
    assert state in tk.STOPPED and state not in tk.REPORTABLE


def test_a_late_result_on_a_task_cancelled_after_it_went_out_is_taken() -> None:
    assert tk.move(9, "cancelled", "delivered", sent=True) == "delivered"
    assert tk.move(9, "cancelled", tk.WITHDRAW, sent=True) == "cancelled"
    with pytest.raises(Conflict, match="task 9 is suppressed"):
        tk.move(9, "suppressed", "delivered", sent=True)


def test_the_named_sets() -> None:
    assert tk.OPEN == ("pending", "leased", "pushed")
    assert set(tk.REACHED) == {"leased", "pushed", *RESULT_STATUSES}
    assert set(tk.REPORTABLE) == {"pending", *tk.REACHED}
    assert set(tk.STOPPED) == {"suppressed", "cancelled", "dead"}
    assert set(tk.FINAL) == {"converted", "suppressed"}


def test_only_a_dead_task_is_revived_and_only_an_open_one_cancelled() -> None:
    assert [s for s in tk.STATES if (s, tk.REVIVE) in tk.TRANSITIONS] == ["dead"]
    assert tk.move(3, "dead", tk.REVIVE) == "pending"
    with pytest.raises(Conflict, match="task 3 is delivered: cannot revive"):
        tk.move(3, "delivered", tk.REVIVE)
    assert [s for s in tk.STATES if (s, tk.CANCEL) in tk.TRANSITIONS] == list(tk.OPEN)


def test_the_desk_lists_what_a_call_can_still_change() -> None:
    assert set(tk.actionable(DESK)) == {"pending", "leased", "pushed", "delivered", "failed",
                                        "no_answer", "connected"}


def test_only_an_accepted_or_converted_answer_stops_the_other_channels() -> None:
    assert {s for s in RESULT_STATUSES if tk.closes_siblings(s)} == {"accepted", "converted"}
