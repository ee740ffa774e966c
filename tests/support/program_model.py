"""The program in the pure model (no database), for the program report's coverage proof
(tests/unit/measurement/test_program_simulation.py) and its larger run (bench/program_coverage.py).

Customers are matched by two marketing playbooks with overlapping audiences, both sweeping
at one instant; each sweep splits its matches with the real selection
(engine/playbooks/selection.py: the global control, then the playbook's own holdout). Each treated
member gets one SMS from each ticket (engine/simulation.World: reach, and a first reach persuades
with the playbook's effect); everyone has their own goal events. The arms are built as the program
report's reads build them (treatment entries; set-aside members whose twin would have been treated,
engine.measurement.program.twin_treated) and judged by engine/measurement/program.py. The truth is
engine.measurement.simulation.program_true_uplift over the treated arm's reached playbooks.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from random import Random

from engine.measurement.program import (
    GLOBAL_CONTROL,
    TREATED,
    Membership,
    ProgramReport,
    Spent,
    program_report,
    twin_treated,
)
from engine.measurement.simulation import Behaviour, World, natural_times, program_true_uplift
from engine.playbooks.selection import select_members

START = dt.datetime(2026, 9, 1, 1, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(days=30)
GOAL = "contract_renewed"
PLAYBOOKS = {"retain": (0.6, 0.10), "grow": (0.5, 0.05)}  # audience share, own holdout


def run(seed: int, customers: int = 4000, share: float = 0.15,
        effect: float = 0.08) -> tuple[ProgramReport, float]:
    """One seeded program: its report and the true uplift of its treated arm."""
    behaviour = Behaviour(goal_rates={GOAL: 0.003}, effects={"*": effect}, reach={"sms": 0.9})
    rng = Random(seed)
    world = World(behaviour, f"{seed}:contacts")
    ids = [f"s{seed}-{i}" for i in range(customers)]
    end = START + WINDOW
    members: list[Membership] = []
    reached: dict[str, list[str]] = defaultdict(list)
    persuaded: dict[str, dt.datetime] = {}
    for ticket_id, (playbook, (audience, holdout)) in enumerate(PLAYBOOKS.items(), 1):
        matched = [cid for cid in ids if rng.random() < audience]
        chosen = select_members(playbook, 1, holdout, matched, global_control=share)
        for cid in chosen.treatment:
            members.append(Membership(cid, TREATED, playbook, START, GOAL, WINDOW))
            contact = world.contact(ticket_id, cid, playbook, "sms", START)
            if contact.status == "delivered":
                reached[cid].append(playbook)
            if contact.goal_at is not None:
                persuaded[cid] = min(contact.goal_at, persuaded.get(cid, contact.goal_at))
        for cid in chosen.suppressed.get("global_control", ()):
            if twin_treated(playbook, cid, holdout):
                members.append(Membership(cid, GLOBAL_CONTROL, playbook, START, GOAL, WINDOW))
    goal_times = {}
    for cid in ids:
        times = natural_times(rng, behaviour.rate(GOAL), START, end)
        if cid in persuaded:
            times.append(persuaded[cid])
        if times:
            goal_times[cid, GOAL] = times
    found = program_report(START.date(), (end + dt.timedelta(days=1)).date(), end, share,
                           members, goal_times, {}, end.date(), lambda at: at.date(),
                           Spent(None, None))
    treated = {m.customer_id for m in members if m.arm == TREATED}
    truth = program_true_uplift(behaviour, GOAL, WINDOW, (reached.get(cid, []) for cid in treated))
    return found, truth

