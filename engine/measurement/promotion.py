"""Promoting a step variant (champion/challenger): the playbook text of the next version, in
which the step uses the winner and carries no variants, and the reason the version history
shows.

A pure text transformation: the designer's file is edited the way they would edit it (ruamel's
round trip keeps their comments, order and style), the step's `channel`, `template` and
`offers` take the variant's overrides, `variants:` goes, and `version:` becomes the next one.
adapters/tickets/promotion.py checks the new text like any library file and publishes it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedSeq

from engine.measurement.multiplicity import level_text
from engine.playbooks.variant import Variant


def promoted_text(text: str, step_id: str, variant: Variant, version: int) -> str:
    """`text` with step `step_id` using `variant` alone, as version `version`."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a designer's long line
    yaml.indent(mapping=2, sequence=4, offset=2)  # `steps:` then `  - id:`, as the library has
    doc = yaml.load(text)
    doc["version"] = version
    step = next(s for s in doc["steps"] if s.get("id") == step_id)
    if variant.channel is not None:
        step["channel"] = variant.channel
    if variant.template is not None:
        step["template"] = variant.template
    if variant.offers is not None:
        if variant.offers:
            offers = CommentedSeq(variant.offers)
            offers.fa.set_flow_style()  # `offers: [a, b]`, as the library writes lists of ids
            step["offers"] = offers
        elif "offers" in step:
            del step["offers"]
    step.pop("variants", None)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def points(u: Mapping[str, Any] | None) -> str | None:
    """'+4.2 pts (98.3% CI +1.0 to +7.4)' of an engine.measurement.uplift result, None when not
    measured."""
    if not u or u.get("absolute") is None:
        return None
    return (f"{u['absolute'] * 100:+.1f} pts ({level_text(u['level'])} CI "
            f"{u['low'] * 100:+.1f} to {u['high'] * 100:+.1f})")


def standing_of(variant: str, split: Mapping[str, Any]) -> str | None:
    """Whether `variant` is the winner at the corrected level (engine/measurement/multiplicity.py):
    'the winner at 5% (Holm, 6 comparisons)', 'not the winner at 5% (Holm, 6 comparisons;
    winner: none)'; None when nothing was compared (no goal)."""
    fixed = split.get("correction")
    if not fixed:
        return None
    how = f"at {fixed['alpha'] * 100:g}% (Holm, {fixed['comparisons']} comparisons"
    found = split.get("winner")
    if found == variant:
        return f"the winner {how})"
    return f"not the winner {how}; winner: {found or 'none'})"


def reason_of(variant: str, ticket_id: int, split: Mapping[str, Any], by: str,
              note: str | None) -> str:
    """"promoted variant X from ticket N: +a pts vs control (CI), +b pts vs Y; by P: note"."""
    measured = []
    mine = next((v for v in split["variants"] if v["name"] == variant), None)
    vs_control = points(mine["vs_control"]) if mine else None
    if vs_control:
        measured.append(f"{vs_control} vs control")
    for pair in split.get("pairwise", ()):
        if variant not in (pair["a"], pair["b"]):
            continue
        u = dict(pair["uplift"])
        other = pair["b"] if pair["a"] == variant else pair["a"]
        if pair["b"] == variant and u.get("absolute") is not None:  # seen from the winner
            u.update(absolute=-u["absolute"], low=-u["high"], high=-u["low"])
        shown = points(u)
        if shown:
            measured.append(f"{shown} vs {other}")
    evidence = ", ".join(measured) or "no goal measured"
    standing = standing_of(variant, split)
    if standing:
        evidence += f"; {standing}"
    text = f"promoted variant {variant} from ticket {ticket_id}: {evidence}; by {by}"
    return f"{text}: {note}" if note else text
