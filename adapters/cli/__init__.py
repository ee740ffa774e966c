"""`tend` (also `python -m adapters.cli`): the command line."""

from adapters.cli import (
    data,
    designer,
    evaluate,
    export,
    model,
    operate,
    program,
    service,
    tickets,
)
from adapters.cli.base import main

__all__ = ["data", "designer", "evaluate", "export", "main", "model", "operate", "program",
           "service", "tickets"]
