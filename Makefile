# The two commands: `make run` (serve the demo shop) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: install run test lint security migrations-check deploy-check

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	PORT=$(PORT) scripts/run-dev

test: $(STAMP)
	scripts/run-tests $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Static security scan of our code (bandit); fails on any high-severity finding.
security: $(STAMP)
	$(BIN)/bandit -q -r . -x ./tests,./.venv,./var,./shop_payments.egg-info --severity-level high

migrations-check: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run

deploy-check: $(STAMP)
	scripts/deploy-check
