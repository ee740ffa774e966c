# Two commands: `make run` and `make test`. Everything else is set up by them.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

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

test: setup
	bash scripts/ensure-postgres.sh
	$(MAKE) lint
	$(BIN)/pytest

run: setup
	$(BIN)/tend db upgrade
	$(BIN)/tend demo-data --customers 5000 --out var/demo
	$(BIN)/tend import customers var/demo/customers.csv
	$(BIN)/tend import events var/demo/events.jsonl
	$(BIN)/tend preview --all
	@echo
	@echo "Next: .venv/bin/tend explain c0000042 --playbook winback   (README: a five-minute tour)"

bench: setup
	bash scripts/ensure-postgres.sh
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var
