"""The contact trigger of a playbook: `trigger: {contact: [store, hotline, online]}`.

A contact-triggered playbook is judged for one customer at the moment they reach us on one of
those channels (a hotline agent or a store clerk opens their view there, or the web shop asks
for their offers: DESIGN 10), never in a sweep. Its entries flow into a standing ticket
approved once per version, like an event-triggered playbook's, so its workflow must be
standing. What the checks below say is placed at the offending item, file:line:column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.config import Config
from engine.errors import Problem
from engine.formats.source import Source
from engine.playbooks.workflow import Workflow


def contact_problems(source: Source, config: Config, trigger: Any, workflow_name: str,
                     workflow: Workflow | None) -> list[Problem]:
    """The channels of `trigger.contact` that are not contact channels of config.yaml (where
    customers reach us: `contact_channels:`), repeated ones, and a workflow that is not
    standing. `workflow` is the loaded Workflow, or None when its own file failed."""
    if not isinstance(trigger, Mapping) or not isinstance(trigger.get("contact"), list):
        return []
    problems = []
    known = config.contact_channels
    seen: set[str] = set()
    for i, channel in enumerate(trigger["contact"]):
        if not isinstance(channel, str) or not channel:
            continue  # the structure check names it
        if channel not in known:
            problems.append(source.at(["trigger", "contact", i], (
                f"unknown contact channel {channel!r} (expected one of the contact_channels "
                f"of {config.path}: {', '.join(known) or 'none declared'})")))
        elif channel in seen:
            problems.append(source.at(["trigger", "contact", i],
                                      f"contact channel {channel!r} is listed twice"))
        seen.add(channel)
    if workflow is not None and not workflow.standing:
        problems.append(source.at(["workflow"], (
            f"workflow {workflow_name!r} is not standing: a contact-triggered playbook enters "
            f"customers one contact at a time on a standing ticket (expected a workflow with "
            f"standing: true, such as alerts)")))
    return problems
