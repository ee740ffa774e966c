"""Bounds on what one input may hold, so a hostile file or request costs milliseconds and a
clear error instead of a worker's CPU and memory (docs/DATA.md, "Input limits").

One constant per kind of bound, shared by every way in: the CSV importer, the JSON API, the
YAML reader and the event import refuse the same sizes with the same numbers.
"""

from __future__ import annotations

MAX_TEXT = 131_072  # characters in one text value: a CSV cell, a JSON string, an event field
MAX_DEPTH = 64  # nesting of a JSON body, a JSONL line or a YAML document
MAX_YAML_BYTES = 256 << 10  # one playbook, workflow or config file (parsing runs ~100 KB/s)
MAX_YAML_NODES = 10_000  # values in one YAML document, counting each alias as what it repeats
MAX_CONDITION_DEPTH = 16  # all/any/not levels in one condition
MAX_LIST_VALUES = 1_000  # values in one condition list (`in`, `not_in`, `contains_any`, ...)
MAX_COLUMNS = 1_000  # cells in one CSV header (and so in every row)
