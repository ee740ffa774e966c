"""The baseline of bench/view.py: a bare WSGI app, served by the same gunicorn with as many
workers as `tend serve`, that answers `GET /customers/<id>/view` with the rows the view shows
read by their indexed lookups alone (the customer, their open tasks, their memberships of
executing tickets, their 20 newest contacts), through the driver, as JSON. What is left
between it and the view is Tend's own work: Flask, the token, the offers, the policy, the log.

    gunicorn --chdir bench view_peer:app      # VIEW_PEER_URL=sqlite:///... or postgresql://...
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

import orjson
import psycopg

QUERIES = {
    "customer": "SELECT * FROM customers WHERE id = ?",
    "open_tasks": "SELECT id, channel, step, state, ticket_id FROM tasks "
                  "WHERE customer_id = ? AND state IN ('pending', 'leased', 'pushed') ORDER BY id",
    "memberships": "SELECT t.id, t.playbook, m.grp FROM ticket_members m "
                   "JOIN tickets t ON t.id = m.ticket_id "
                   "WHERE m.customer_id = ? AND t.state = 'executing' "
                   "UNION SELECT t.id, t.playbook, e.grp FROM entries e "
                   "JOIN tickets t ON t.id = e.ticket_id "
                   "WHERE e.customer_id = ? AND t.state = 'executing'",
    "trajectory": "SELECT * FROM contacts WHERE customer_id = ? ORDER BY at DESC, id LIMIT 20",
}
_conn: Any = None


def connection() -> Any:
    """One connection per worker process, opened on its first request."""
    global _conn
    if _conn is None:
        url = os.environ["VIEW_PEER_URL"]
        if url.startswith("sqlite"):
            _conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        else:
            _conn = psycopg.connect(url, autocommit=True)
    return _conn


def lookups(customer_id: str) -> dict[str, Any]:
    conn = connection()
    pg = not isinstance(conn, sqlite3.Connection)
    out: dict[str, Any] = {}
    for name, sql in QUERIES.items():
        params = (customer_id,) * sql.count("?")
        cur = conn.execute(sql.replace("?", "%s") if pg else sql, params)
        columns = [d[0] for d in cur.description]
        out[name] = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
    return out


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    parts = environ.get("PATH_INFO", "").strip("/").split("/")
    if parts == ["healthz"]:
        body, status = b"ok", "200 OK"
    elif len(parts) == 3 and parts[0] == "customers" and parts[2] == "view":
        found = lookups(parts[1])
        status = "200 OK" if found["customer"] else "404 Not Found"
        body = orjson.dumps(found, default=str)
    else:
        body, status = b"", "404 Not Found"
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]
