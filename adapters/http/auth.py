"""Bearer tokens and the one table of who may do what.

Every view is marked with a permission (`@allow("read")`) or `@public`; `check_access` runs
before every request and fails closed: a view without a mark is refused to everyone, so a new
endpoint cannot ship unguarded by forgetting a decorator. Roles are checked before any state
is read, so a wrong role is a 403 even where the request would also conflict (DESIGN 6).

| permission | roles |
|---|---|
| read     | viewer, designer, admin, and every approver role of config.yaml |
| profile  | as read, and manager; `manager:<id>` only for its customers (`check_profile`) |
| design   | designer, admin |
| approve  | the approver roles of config.yaml (admin alone is not an approver) |
| cancel   | admin |
| ingest   | adapter, admin |
| pull     | adapter, admin; `adapter:<ch>` only for its channels (`check_channel`) |
| report   | adapter, admin, manager; `manager:<id>` only for tasks routed to it (`check_task`) |
| manage   | manager, admin (a manager's own desk: `User.routes`) |
| retry    | admin |
| view     | agent, manager, admin, viewer; bound agents and managers: `check_customer` |
| contact  | agent, manager, bound as for view (admin and viewer read; they record no contacts) |
| supervise | supervisor, admin; `supervisor:<team>` only for its team's managers (api_supervise) |
| export   | as read, and supervisor (only its team's managers' tasks; api_export) |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request

from adapters.http.state import state
from engine.config import Config
from engine.errors import Forbidden, Unauthorized

F = TypeVar("F", bound=Callable[..., Any])
BEARER = "bearer "
# flask-smorest's own views (the spec and Swagger UI) are bound methods that cannot be marked.
PUBLIC_ENDPOINTS = frozenset({"api-docs.openapi_json", "api-docs.openapi_swagger_ui"})


def roles_for(permission: str, config: Config) -> frozenset[str]:
    approvers = frozenset(config.roles)
    table = {
        "read": frozenset({"viewer", "designer", "admin"}) | approvers,
        "profile": frozenset({"viewer", "designer", "admin", "manager"}) | approvers,
        "design": frozenset({"designer", "admin"}),
        "approve": approvers,
        "cancel": frozenset({"admin"}),
        "ingest": frozenset({"adapter", "admin"}),
        "pull": frozenset({"adapter", "admin"}),
        "report": frozenset({"adapter", "admin", "manager"}),
        "manage": frozenset({"manager", "admin"}),
        "retry": frozenset({"admin"}),
        "view": frozenset({"agent", "manager", "admin", "viewer"}),
        "contact": frozenset({"agent", "manager"}),
        "supervise": frozenset({"supervisor", "admin"}),
        "export": frozenset({"viewer", "designer", "admin", "supervisor"}) | approvers,
    }
    return table[permission]


def allow(permission: str) -> Callable[[F], F]:
    """Mark a view with the permission it needs (functools.wraps carries the mark outward)."""

    def mark(view: F) -> F:
        view.tend_permission = permission  # type: ignore[attr-defined]
        return view

    return mark


def public(view: F) -> F:
    view.tend_permission = None  # type: ignore[attr-defined]
    return view


def check_access(endpoint: str | None, view: Callable[..., Any] | None) -> None:
    """Authenticate and authorize the request for `view` (None: no route matched, so the
    404 or 405 comes through unchanged)."""
    if view is None or endpoint in PUBLIC_ENDPOINTS:
        return
    permission = getattr(view, "tend_permission", "unmarked")
    if permission is None:
        return
    user = _user()
    g.user = user
    if permission == "unmarked":
        raise Forbidden("this endpoint declares no permission")
    allowed = roles_for(permission, state().config)
    kinds = {role.partition(":")[0] for role in user.roles}  # adapter:sms is an adapter
    if not allowed & kinds:
        raise Forbidden(f"{request.method} {request.path} needs one of the roles "
                        f"{', '.join(sorted(allowed)) or '(none configured)'}; "
                        f"{user.name} has {', '.join(sorted(user.roles)) or 'none'}")


def check_channel(user: Any, channel: str) -> None:
    """A bound adapter (`adapter:sms`) pulls and reports only its channels' tasks; a plain
    `adapter` or `admin` may serve any channel."""
    if user.roles & {"adapter", "admin"} or channel in user.channels():
        return
    raise Forbidden(f"{user.name} serves channel(s) {', '.join(sorted(user.channels()))}, "
                    f"not {channel}")


def check_task(user: Any, channel: str, route: str) -> None:
    """Who may report on a task: its channel's adapters (as `check_channel`), admin, and
    the account manager it is routed to."""
    if route in user.routes():
        return
    if not user.roles & {"adapter", "admin"} and not user.channels():
        raise Forbidden(f"the task is routed to {route}; {user.name} answers "
                        f"{', '.join(sorted(user.routes())) or 'no route'}")
    check_channel(user, channel)


def check_customer(user: Any, channel: str, manager: str | None, recording: bool) -> None:
    """Who may open a customer's view on `channel` (or, `recording`, record a contact there):
    an agent on the channels its role names, the customer's own manager (`manager`: theirs,
    None for an unknown customer, so a manager learns nothing of customers not theirs), and
    for reading admin and viewer. Checked before the customer is looked up (403 before 404)."""
    if not recording and user.roles & {"admin", "viewer"}:
        return
    if channel in user.serves() or (manager is not None and manager in user.managed()):
        return
    serves = ", ".join(sorted(user.serves())) or "no channel"
    raise Forbidden(f"{user.name} serves {serves} and manages "
                    f"{', '.join(sorted(user.managed())) or 'no customers'}: not this "
                    f"customer on {channel}")


def check_profile(user: Any, manager: str | None, config: Config) -> None:
    """Who may read a customer's record: whoever may read (`read`), and a manager only the
    customers whose `manager` is theirs (`manager`: None for an unknown customer, so a
    manager learns nothing of customers not theirs). Checked before the lookup (403 first)."""
    kinds = {role.partition(":")[0] for role in user.roles}
    if kinds & roles_for("read", config):
        return
    if manager is not None and manager in user.managed():
        return
    raise Forbidden(f"{user.name} manages {', '.join(sorted(user.managed())) or 'no customers'}"
                    f": not this customer")


def is_contact(user: Any, channel: str, manager: str | None) -> bool:
    """Whether `user` opening the customer's view (or offers) on `channel` is the customer
    contacting us (DESIGN 10): an agent serving that channel or the customer's own manager,
    who may record the contact there too. An admin's or viewer's read is not: it enters
    nobody into contact-triggered playbooks (adapters/tickets/contact.py)."""
    if not {role.partition(":")[0] for role in user.roles} & {"agent", "manager"}:
        return False
    return channel in user.serves() or (manager is not None and manager in user.managed())


def _user() -> Any:
    from adapters.access.users import stamp_token, token_holder

    header = request.headers.get("Authorization", "")
    token = header[len(BEARER):].strip()
    if not header.lower().startswith(BEARER) or not token:
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    st = state()
    now = st.now()
    with st.reading() as conn:  # one statement: no transaction around it
        found = token_holder(conn, token, now)
    if found is None:
        raise Unauthorized("invalid token")
    user, stale = found
    if stale:
        with st.transaction(write=True) as conn:
            stamp_token(conn, token, now)
    return user
