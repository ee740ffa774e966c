"""The condition language: the fields a condition may name, the typed tree, its reference
evaluator, customers as conditions see them, and conditions in words. Imports formats.
"""
