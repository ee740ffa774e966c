"""`python -m adapters.cli`: `tend` without its console script (the engine imports no edge)."""

from adapters.cli import main

main(prog_name="tend")
