# The two commands: `make run` (serve the demo shop) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
# Every dependency, the dev extra's too, pinned with its hashes (pip-tools); `make lock`
# regenerates it after a change to pyproject.toml.
LOCK := requirements.lock

.PHONY: install run test lint docs security migrations-check deploy-check lock

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

# pip-tools in a throwaway virtualenv, so the project's own stays exactly the lock.
lock:
	@test -x var/pip-tools/bin/pip-compile || \
		($(PYTHON) -m venv var/pip-tools && var/pip-tools/bin/pip install --quiet pip-tools)
	var/pip-tools/bin/pip-compile --quiet --generate-hashes --allow-unsafe --extra dev \
		--strip-extras --no-emit-index-url --no-emit-find-links -o $(LOCK) pyproject.toml

run: $(STAMP)
	PORT=$(PORT) scripts/run-dev

test: $(STAMP)
	scripts/run-tests $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The documentation site built strictly (mkdocs.yml) and every link checked; no network.
docs: $(STAMP)
	scripts/docs-check

# Static security scan of our code (bandit); fails on any high-severity finding.
security: $(STAMP)
	$(BIN)/bandit -q -r . -x ./tests,./.venv,./var,./shop_payments.egg-info --severity-level high

migrations-check: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run

deploy-check: $(STAMP)
	scripts/deploy-check
