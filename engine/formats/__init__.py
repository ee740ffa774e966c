"""Reading the designer's and operator's YAML: text with positions, marshmallow building
blocks, typed values. Imports only engine.errors and engine.limits.
"""
