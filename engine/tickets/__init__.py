"""A ticket's life: the transitions table, the people and roles that move it, and the
approval card they decide on. Imports playbooks, tasks.
"""
