"""Inputs of the security probe, shared by the tests that refuse them."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# Nine levels of nine aliases: about 600 bytes that name 9**9 strings once expanded.
LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True))
# A playbook draft holding the bomb: the alias that crosses the value limit is on line 6.
BOMB = "playbook: bomb\n" + LAUGHS
BOMB_LINE = 6


@contextmanager
def bounded(seconds: int = 60) -> Iterator[None]:
    """Fail the block if it runs away: the unbounded versions took minutes and gigabytes.
    A guard against a hang, generous on a loaded machine, not a claim about speed."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise AssertionError(f"still running after {seconds} s: the work is not bounded")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
