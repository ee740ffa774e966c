"""The connection a request's transactions share (adapters/http/state.py), on both
databases: each transaction still commits or rolls back on its own, a read without a
transaction leaves the next transaction transactional, a transaction opened inside another
gets a connection of its own, and the pool has everything back when the request ends."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from support.http_api import Api

from adapters.db.schema import customers
from adapters.http.state import State

AT = dt.datetime(2026, 12, 31, 3, 0, tzinfo=dt.UTC)


def _state(api: Api) -> State:
    st: State = api.app.extensions["tend"]
    return st


def _add(conn: sa.Connection, cid: str) -> None:
    conn.execute(customers.insert().values(id=cid, joined_on=AT.date(), updated_at=AT))


def _ids(st: State) -> list[str]:
    with st.engine.connect() as conn:
        return list(conn.scalars(sa.select(customers.c.id).order_by(customers.c.id)))


def test_a_requests_transactions_share_one_connection_and_each_keeps_its_own_outcome(
        api: Api) -> None:
    st = _state(api)
    with api.app.test_request_context():
        with st.reading() as conn:
            first = conn
            assert conn.scalar(sa.select(sa.func.count()).select_from(customers)) == 0
        with pytest.raises(RuntimeError), st.transaction(write=True) as conn:
            assert conn is first
            _add(conn, "undone")  # after an autocommit read: still undone by the failure
            raise RuntimeError("the request fails")
        with st.transaction(write=True) as conn:
            assert conn is first
            _add(conn, "kept")
        api.app.do_teardown_request()
    assert _ids(st) == ["kept"]
    assert st.engine.pool.checkedout() == 0


def test_a_transaction_inside_another_gets_its_own_connection(api: Api) -> None:
    st = _state(api)
    with api.app.test_request_context():
        with st.transaction() as outer:
            outer.scalar(sa.select(sa.func.count()).select_from(customers))
            with st.transaction(write=True) as inner:
                assert inner is not outer
                _add(inner, "inner")
        api.app.do_teardown_request()
        with st.transaction(write=True) as late:  # after teardown: its own, given back
            _add(late, "late")
    assert _ids(st) == ["inner", "late"]
    assert st.engine.pool.checkedout() == 0
