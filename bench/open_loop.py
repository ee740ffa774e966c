"""The open-loop client the latency benches share: requests fired when due whatever the
server's pace, each latency counted from its due time (no coordinated omission), with the
client's own objects kept out of the collector's sight while it times the server."""

from __future__ import annotations

import concurrent.futures
import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def still_client() -> Iterator[None]:
    """A full collection of the client's replies once paused it for 150 ms mid open loop,
    which showed up as one slow request: freeze what exists before timing."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def fire(count: int, interval: float, one: Callable[[int, float], None], threads: int) -> None:
    """Call `one(i, due)` for i in range(count), the i-th when `interval`·i seconds have
    passed, on `threads` threads, and wait for them all (re-raising the first failure)."""
    with concurrent.futures.ThreadPoolExecutor(threads) as pool, still_client():
        futures = []
        start = time.perf_counter() + 0.05
        for i in range(count):
            due = start + i * interval
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            futures.append(pool.submit(one, i, due))
        for future in futures:
            future.result()
