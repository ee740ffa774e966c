"""People and their roles, as the ticket rules and the HTTP layer see them.

Roles are plain names. Three kinds are bound to something: `adapter:<channel>` (an adapter may
only pull its channel's tasks), `agent:<channel>` (a person serving customers where they
reach us, on a channel or a contact channel: a store clerk, a hotline agent, the online hall's
backend; opens the unified view, reads offers and records contacts there) and `manager:<id>`
(an account manager sees their customers), and `supervisor:<team>` (督办: sees the queues of
the team's managers, config.yaml `teams.<team>.managers`, and reassigns their waiting tasks).
Approver roles are the ones config.yaml declares under `roles:`; `admin` administers but is
deliberately not an approver, so running the service never implies approving campaigns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.config import Config
from engine.errors import ValidationError
from engine.playbooks.offer import offer_channels

BUILTIN_ROLES = ("designer", "admin", "viewer", "adapter", "manager")
BOUND_ROLES = ("adapter", "agent", "manager", "supervisor")


@dataclass(frozen=True)
class User:
    name: str
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        return role in self.roles

    def is_approver_for(self, role: str) -> bool:
        """Holding the role is what counts; admin grants nothing here."""
        return role in self.roles

    def channels(self) -> frozenset[str]:
        """The channels an adapter role is bound to (`adapter:sms`)."""
        return frozenset(r.split(":", 1)[1] for r in self.roles if r.startswith("adapter:"))

    def serves(self) -> frozenset[str]:
        """The channels an agent role is bound to (`agent:store`)."""
        return frozenset(r.split(":", 1)[1] for r in self.roles if r.startswith("agent:"))

    def managed(self) -> frozenset[str]:
        """The manager ids a manager role is bound to (`manager:m01`)."""
        return frozenset(r.split(":", 1)[1] for r in self.roles if r.startswith("manager:"))

    def supervises(self) -> frozenset[str]:
        """The teams a supervisor role is bound to (`supervisor:north`)."""
        return frozenset(r.split(":", 1)[1] for r in self.roles if r.startswith("supervisor:"))

    def routes(self) -> frozenset[str]:
        """The task routes this user answers as an account manager: a `route: manager` step
        is routed to `manager:<the customer's manager>`, and whoever holds the role
        `manager:<id>` is that manager. The API and the console both ask this."""
        return frozenset(f"manager:{m}" for m in self.managed())


def check_roles(roles: Iterable[str], config: Config) -> frozenset[str]:
    """The roles if every one is known, else a ValidationError naming each unknown one."""
    known = (*BUILTIN_ROLES, *config.roles)
    wrong = []
    for role in roles:
        kind, _, bound = role.partition(":")
        if not bound and role in known:
            continue
        if kind in ("adapter", "agent") and bound in config.channels:
            continue
        if kind == "manager" and bound:
            continue
        if kind == "supervisor" and bound in config.teams:
            continue
        if kind == "agent" and bound in offer_channels(config):
            continue
        wrong.append(role)
    if wrong:
        raise ValidationError(
            f"unknown role(s) {', '.join(map(repr, wrong))} (expected one of: "
            f"{', '.join(known)}, adapter:<channel>, agent:<channel or contact channel>, "
            f"manager:<manager id>, supervisor:<team of config.yaml>)")
    return frozenset(roles)
