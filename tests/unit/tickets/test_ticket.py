"""The ticket state machine and approval rules, without a database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.config import Config
from engine.errors import Conflict, Forbidden, ValidationError
from engine.playbooks.workflow import parse_workflow, ticket_facts
from engine.tickets import ticket as tk
from engine.tickets.users import User, check_roles

ROOT = Path(__file__).resolve().parents[3]
AT = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
TWO_LEVELS = (tk.Level(1, "campaign_lead"), tk.Level(2, "director"))
LEAD = User("bob", frozenset({"campaign_lead"}))
DIRECTOR = User("dora", frozenset({"director"}))


def _ticket(state: str = "planned", levels: tuple[tk.Level, ...] = TWO_LEVELS,
            approvals: tuple[tk.Approval, ...] = ()) -> tk.Ticket:
    return tk.Ticket(7, "winback", state, "alice", AT, "retention-team", levels, approvals,
                     owners=frozenset({"retention-team", "rita", "ruben"}))


@pytest.mark.parametrize("state", (tk.NEW, *tk.STATES))
@pytest.mark.parametrize("action", tk.ACTIONS)
def test_every_state_and_action_moves_as_the_table_says_or_conflicts(state: str,
                                                                     action: str) -> None:
    ticket = _ticket(state)
    target = tk.TRANSITIONS.get((state, action))
    if target is None:
        with pytest.raises(Conflict):
            tk.transition(ticket, action, "sam", "system", AT)
        return
    moved, record = tk.transition(ticket, action, "sam", "system", AT, "why")
    assert moved.state == target
    assert record == tk.AuditRecord(AT, "sam", "system", action,
                                    None if state == tk.NEW else state, target, "why")


def test_closed_rejected_and_cancelled_are_final() -> None:
    assert not [key for key in tk.TRANSITIONS if key[0] in ("closed", "rejected", "cancelled")]


def test_cancelling_keeps_the_reason() -> None:
    moved, _ = tk.transition(_ticket(), "supersede", "system", "system", AT, tk.SUPERSEDED)
    assert (moved.state, moved.cancel_reason) == ("cancelled", "superseded")


def test_levels_are_approved_in_order_and_the_last_approves_the_ticket() -> None:
    first, approval, record = tk.decide(_ticket(), LEAD, True, "fine", AT)
    assert (first.state, record.action, record.role) == ("planned", "approve_level",
                                                         "campaign_lead")
    assert approval == tk.Approval(1, "campaign_lead", "bob", "approved", "fine", AT)
    assert tk.next_level(first) == tk.Level(2, "director")
    later = AT + dt.timedelta(hours=5)
    assert tk.approval_deadline(first, dt.timedelta(days=1)) == AT + dt.timedelta(days=1)
    second, _, record = tk.decide(first, DIRECTOR, True, None, later)
    assert (second.state, record.action, record.from_state) == ("approved", "approve",
                                                                "planned")
    assert tk.next_level(second) is None


def test_a_rejection_ends_the_ticket() -> None:
    rejected, approval, record = tk.decide(_ticket(), LEAD, False, "too broad", AT)
    assert rejected.state == "rejected" and approval.decision == "rejected"
    assert record.reason == "too broad"


@pytest.mark.parametrize("user", [
    User("alice", frozenset({"campaign_lead"})),           # the planner
    User("retention-team", frozenset({"campaign_lead"})),  # the playbook's owner
    User("rita", frozenset({"campaign_lead"})),            # a member of the owning team
    User("ada", frozenset({"admin"})),                     # admin alone is no approver
    User("vic", frozenset({"viewer", "designer"})),
    DIRECTOR,                                              # level 1 is due, not 2
])
def test_separation_of_duties(user: User) -> None:
    with pytest.raises(Forbidden):
        tk.decide(_ticket(), user, True, None, AT)


def test_a_member_of_the_owning_team_is_told_why() -> None:
    with pytest.raises(Forbidden, match="ruben is a member of retention-team, which owns "
                                        "playbook 'winback'"):
        tk.decide(_ticket(), User("ruben", frozenset({"campaign_lead"})), True, None, AT)


def test_one_person_approves_at_most_one_level() -> None:
    first, _, _ = tk.decide(_ticket(), LEAD, True, None, AT)
    both = User("bob", frozenset({"campaign_lead", "director"}))
    with pytest.raises(Forbidden, match="at most one level"):
        tk.decide(first, both, True, None, AT, level=2)
    with pytest.raises(Forbidden, match="at most one level"):
        tk.decide(first, both, False, "no", AT)


def test_repeating_ones_own_approval_changes_nothing() -> None:
    first, approval, _ = tk.decide(_ticket(), LEAD, True, "fine", AT)
    for level in (None, 1):
        again, same, record = tk.decide(first, LEAD, True, "fine", AT, level)
        assert (again, same, record) == (first, approval, None)
    done, _, _ = tk.decide(first, DIRECTOR, True, None, AT)
    assert tk.decide(done, DIRECTOR, True, None, AT, 2)[2] is None  # after the ticket moved on


def test_a_level_someone_else_decided_is_a_conflict_not_a_vote_for_the_next() -> None:
    first, _, _ = tk.decide(_ticket(), LEAD, True, None, AT)
    other = User("ben", frozenset({"campaign_lead", "director"}))
    with pytest.raises(Conflict, match="not the one due"):
        tk.decide(first, other, True, None, AT, level=1)


@pytest.mark.parametrize("state", [s for s in tk.STATES if s != "planned"])
def test_forbidden_comes_before_conflict(state: str) -> None:
    with pytest.raises(Forbidden):
        tk.decide(_ticket(state), User("vic", frozenset({"viewer"})), True, None, AT)
    with pytest.raises(Conflict):
        tk.decide(_ticket(state), LEAD, True, None, AT)


def test_who_may_cancel() -> None:
    for user in (User("ada", frozenset({"admin"})), User("alice", frozenset()), LEAD):
        moved, record = tk.cancel(_ticket(), user, "wrong audience", AT)
        assert moved.state == "cancelled" and record.actor == user.name
    with pytest.raises(Forbidden):
        tk.cancel(_ticket(), User("vic", frozenset({"viewer"})), "no", AT)
    with pytest.raises(Conflict):
        tk.cancel(_ticket("closed"), User("ada", frozenset({"admin"})), "late", AT)


@pytest.mark.parametrize(("size", "tiers", "roles"), [
    (5000, {"gold"}, ["campaign_lead"]),
    (5001, {"gold"}, ["campaign_lead", "director"]),
    (3, {"gold", "diamond"}, ["campaign_lead", "director"]),
])
def test_levels_by_audience_size_and_tiers(config: Config, size: int, tiers: set[str],
                                           roles: list[str]) -> None:
    path = ROOT / "workflows" / "high_value.yaml"
    workflow = parse_workflow(path.read_text(), str(path), config)
    facts = ticket_facts(size, tiers, {"outbound_call"}, "high_value_upsell")
    assert [level.role for level in tk.required_levels(workflow, facts)] == roles


def test_execution_and_evaluation_times() -> None:
    due = [AT, AT + dt.timedelta(days=3)]
    assert tk.execution_deadline(AT, due, dt.timedelta(days=3)) == AT + dt.timedelta(days=6)
    assert tk.execution_deadline(AT, [], dt.timedelta(days=3)) == AT + dt.timedelta(days=3)
    assert tk.evaluation_time(AT, dt.timedelta(days=30), due) == AT + dt.timedelta(days=30)
    assert tk.evaluation_time(AT, None, due) == AT + dt.timedelta(days=3)


def test_roles_are_checked_against_the_config(config: Config) -> None:
    assert check_roles(["director", "adapter:sms", "manager:m7"], config) == frozenset(
        {"director", "adapter:sms", "manager:m7"})
    with pytest.raises(ValidationError, match=r"'boss', 'adapter:fax'"):
        check_roles(["boss", "adapter:fax"], config)
    bound = User("m", frozenset({"adapter:sms", "manager:m7"}))
    assert (bound.channels(), bound.managed()) == ({"sms"}, {"m7"})
