"""End-to-end tests run one at a time even under `pytest -n 2` (make test, docs/TESTING.md).

Each starts `tend serve`, workers or a browser against deadlines; two at once on a 2-core
machine would race each other for the cores. A lock file in the folder the xdist workers'
temporary folders share serialises them across workers. Under `make test` they all go to one
worker anyway (tests/support/scheduling.py), so the lock only matters for a run given
`--dist load` on purpose.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def one_end_to_end_test_at_a_time(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    if "PYTEST_XDIST_WORKER" not in os.environ:
        yield
        return
    shared = tmp_path_factory.getbasetemp().parent  # pytest-N/, holding popen-gw0, popen-gw1
    with (shared / "e2e.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
