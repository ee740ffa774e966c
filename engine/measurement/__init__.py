"""Did it work: KPIs, uplift, power, pooled sequential readouts, the program against
the global control, churn, and the simulation. Imports playbooks, tasks.
"""
