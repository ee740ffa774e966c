"""What designers write: playbooks, workflows, offers, test cases, their schedules and
triggers, who a run selects, and why (explain). Imports language, compilers, tasks.
"""
