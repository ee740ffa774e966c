# Two commands: `make run` and `make test`. Everything else is set up by them.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest processes for `make test`: the suite is spread over one per core of the 2-core
# machines it runs on (docs/TESTING.md); `make test PYTEST_WORKERS=0` runs it in one process.
PYTEST_WORKERS ?= 2

.PHONY: setup run test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

lint: setup
	$(BIN)/ruff check engine adapters tests bench migrations
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: setup
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-fonts.sh
	$(MAKE) lint
	$(BIN)/pytest -n $(PYTEST_WORKERS)

run: setup
	bash scripts/ensure-fonts.sh
	bash scripts/run.sh

bench: setup
	bash scripts/ensure-postgres.sh
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var
