"""Inputs of the security probe, shared by the tests that refuse them."""

from __future__ import annotations

# Nine levels of nine aliases: about 600 bytes that name 9**9 strings once expanded.
LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True))
# A playbook draft holding the bomb: the alias that crosses the value limit is on line 6.
BOMB = "playbook: bomb\n" + LAUGHS
BOMB_LINE = 6
