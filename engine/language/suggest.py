""""Did you mean ...?" for a name nobody declared: the closest known names, by difflib.

A designer who writes `plan_reactivatd` reads "did you mean 'plan_reactivated'?" before the
list of every known name; validation errors for unknown fields, events, offers, channels,
workflows and values of closed fields (tier, stage) carry it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

CUTOFF = 0.7  # difflib's similarity ratio: below it, a guess is more noise than help


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """" — did you mean 'x'?" (or 'x' or 'y'), or "" when nothing is close. A dotted name
    (`attr.shoe_size`) is compared by its last part with the names under the same prefix,
    so the shared `attr.` does not make every attribute look close."""
    prefix = name[:name.rfind(".") + 1]
    tails = {k[len(prefix):]: k for k in known
             if k.startswith(prefix) and "." not in k[len(prefix):]}
    close = difflib.get_close_matches(name[len(prefix):], list(tails), n=2, cutoff=CUTOFF)
    if not close:
        return ""
    return " — did you mean " + " or ".join(repr(tails[c]) for c in close) + "?"
