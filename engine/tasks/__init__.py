"""The work of contacting a customer: the task lifecycle (one transitions table), channels,
contacts, the contact policy, result reasons, supervision and assignment. Imports formats.
"""
