# Two commands on a fresh machine: `make demo` and `make test`. No AWS account, no Docker.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo serve test test-fast synth lint-template bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

## Start the local stack and run the whole story over signed HTTP (quotes to repayments, then sixty day ends), stop.
demo: $(STAMP)
	$(PY) -m local.demo

## The local stack in the foreground (API on 127.0.0.1:$${PORT:-8000}); Ctrl-C stops it.
serve: $(STAMP)
	$(PY) -m local.serve

## Every test: unit, property, integration (moto), workflow (ASL on moto), e2e (HTTP),
## and the CDK stack synthesized and linted with cfn-lint.
test: $(STAMP)
	$(PY) -m pytest -q

## Everything but the CDK synthesis and the end-to-end run.
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not infrastructure and not e2e"

## Synthesize the CDK stack into cdk.out/ (no AWS account needed) and lint it.
synth: $(STAMP)
	cd infrastructure && ../$(PY) app.py
	$(VENV)/bin/cfn-lint infrastructure/cdk.out/*.template.json

bench: $(STAMP)
	$(PY) bench/cold_start.py
	$(PY) bench/intake.py
	$(PY) bench/review.py
	$(PY) bench/routing.py
	$(PY) bench/reservations.py
	$(PY) bench/contracts.py
	$(PY) bench/ledger.py
	$(PY) bench/reconciliation.py
	$(PY) bench/day_end.py

clean:
	rm -rf $(VENV) chalice.out infrastructure/cdk.out infrastructure/chalice.out .pytest_cache .hypothesis
