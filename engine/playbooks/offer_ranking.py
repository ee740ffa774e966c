"""Which offers a customer may be given now, on one channel, best first; and their scripts.

Pure: the caller brings the customer's facts (engine/language/customer.py `facts`), the candidate
offer ids in the order the playbook steps name them, and how many times each offer was
`handled` so far (contacts are recorded by the adapters). An offer is kept when it exists, is
eligible for the customer, valid on today's local date, presentable on the channel and under
its limit; the first mention of an offer wins, and the order kept is the rank.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.language.evaluate import Facts, holds
from engine.playbooks.offer import LANGUAGES, PLACEHOLDER, Offer


@dataclass(frozen=True)
class OfferCandidate:
    """An offer id as a playbook step names it, and where it came from (for the caller)."""

    offer: str
    source: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ranked:
    offer: Offer
    rank: int                      # 1 = the best
    source: Mapping[str, Any]


def why_not(offer: Offer, facts: Facts, today: dt.date, channel: str,
            handled: Mapping[str, int]) -> str | None:
    """The first reason the offer cannot be given now, or None when it can. The limit is
    asked last: `handled` may count contacts in the database when asked (the view's), so
    an offer the customer cannot have anyway costs no count."""
    if channel not in offer.channels:
        return "channel"
    if not offer.valid_on(today):
        return "validity"
    if not holds(offer.eligible, facts, today):
        return "eligible"
    if offer.limit is not None and handled.get(offer.id, 0) >= offer.limit:
        return "limit"
    return None


def rank_offers(candidates: Sequence[OfferCandidate], offers: Mapping[str, Offer], facts: Facts,
                today: dt.date, channel: str,
                handled: Mapping[str, int]) -> list[Ranked]:
    """The candidates that may be given now, deduplicated, in their order; an id the library
    no longer holds (a ticket planned on an older library) is skipped."""
    ranked: list[Ranked] = []
    seen: set[str] = set()
    for candidate in candidates:
        offer = offers.get(candidate.offer)
        if offer is None or offer.id in seen:
            continue
        seen.add(offer.id)
        if why_not(offer, facts, today, channel, handled) is None:
            ranked.append(Ranked(offer, len(ranked) + 1, candidate.source))
    return ranked


def text_in(texts: Mapping[str, str], lang: str) -> str:
    """A title or script in `lang`, falling back to the first language."""
    return texts.get(lang) or texts[LANGUAGES[0]]


def render_script(offer: Offer, facts: Facts, lang: str) -> str:
    """The script in `lang` with each {field} replaced by the customer's value; a missing
    value renders as nothing, so an incomplete record never breaks a conversation."""
    return PLACEHOLDER.sub(lambda m: _shown(facts.get(m.group(1))), text_in(offer.script, lang))


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list | frozenset | set):
        return ", ".join(sorted(str(v) for v in value))
    return str(value)
