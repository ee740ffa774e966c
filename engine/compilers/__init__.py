"""A condition's two other renderings, held equal to the evaluator by the differential
tests: SQL for sweeps, durable-rules for events. Imports language, formats, config.
"""
