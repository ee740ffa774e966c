"""Warnings for playbook steps the contact policy can never let through in full.

A step with `retry` may contact one customer 1 + `times` times, `after` apart, and every
attempt counts against the frequency caps (an unanswered call is a contact made). When more of
those attempts fall inside one cap's window than the cap allows, the last ones are always
suppressed (`frequency_cap`), whatever else the customer receives: the retries were written in
vain. A cap of 0 for the step's channel stops even its first send.

These are warnings, not errors: the caps live in config.yaml and change apart from the
playbooks, the playbook still runs (the policy suppresses the extra attempts, visibly, with
their reason), and an error here would let a config edit stop a library from loading or an
executing ticket's stored version from parsing. `tend validate`, `POST /playbooks/validate` and
the console's draft editor show them at the step's line.
"""

from __future__ import annotations

import datetime as dt

from engine.config import Config
from engine.errors import Problem
from engine.formats.source import load_yaml
from engine.playbooks.playbook import Playbook, Step
from engine.tasks.policy import Cap, span_text


def attempts_in_window(attempts: int, after: dt.timedelta, per: dt.timedelta) -> int:
    """The most of `attempts` contacts, `after` apart, inside one half-open window of length
    `per` (a contact exactly `per` earlier no longer counts, as in engine.tasks.policy)."""
    if attempts <= 1 or after <= dt.timedelta(0):
        return attempts
    fit = -(-per // after)  # k contacts span (k - 1) × after, which must be < per
    return min(attempts, fit)


def policy_warnings(playbook: Playbook, config: Config) -> list[Problem]:
    """One warning per step whose own sends and retries exceed a cap, naming the cap that
    cuts most of them (a channel's cap and the all-channel cap often both do)."""
    found: list[tuple[int, str]] = []
    for i, step in enumerate(playbook.steps):
        caps = [cap for cap in config.policy.caps
                if cap.counts(step.channel, playbook.contact_class)]
        cut = [(cap.max - _most(step, cap), n, cap) for n, cap in enumerate(caps)
               if _most(step, cap) > cap.max]
        if cut:
            found.append((i, _message(step, min(cut)[2], config.path)))
    if not found:
        return []
    source = load_yaml(playbook.text, playbook.file)
    return [source.at(["steps", i, "retry"] if playbook.steps[i].retry else ["steps", i],
                      f"warning: {message}") for i, message in found]


def _most(step: Step, cap: Cap) -> int:
    if step.retry is None:
        return 1
    return attempts_in_window(1 + step.retry.times, step.retry.after, cap.per)


def _message(step: Step, cap: Cap, config_path: str) -> str:
    times = step.retry.times if step.retry else 0
    after = step.retry.after if step.retry else dt.timedelta(0)
    most = _most(step, cap)
    if cap.max == 0:
        return (f"step {step.id!r} can never send: the cap '{cap}' of {config_path} allows "
                f"no {step.channel} contact")
    per = span_text(cap.per)
    return (f"step {step.id!r} makes up to {most} {step.channel} contacts within {per} "
            f"(1 send + {times} retries {span_text(after)} apart), but the cap '{cap}' of "
            f"{config_path} allows {cap.max}: the last {most - cap.max} can never be sent "
            f"(suppressed by frequency_cap); retry fewer times, or at least {per} apart, or "
            f"change the cap")
