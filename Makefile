# Two commands on a fresh machine: `make demo` and `make test`. No AWS account, no Docker.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo serve test test-fast test-browser browser-deps synth lint-template bench clean

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
## the back-office console in headless Chromium (needs the system's chromium: `make browser-deps`),
## and the CDK stack synthesized and linted with cfn-lint.
test: $(STAMP)
	$(PY) -m pytest -q

## Everything but the CDK synthesis, the end-to-end run and the browser tests.
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not infrastructure and not e2e and not browser"

## The back-office console (console/) in headless Chromium against the local stack; screenshots in test-output/screenshots/.
test-browser: $(STAMP)
	$(PY) -m pytest -q tests/browser

## Debian's Chromium and CJK fonts for the browser tests (as root; Playwright's browser download is not used).
browser-deps:
	command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q . || \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-noto-cjk; }

## Synthesize the CDK stack into cdk.out/ (no AWS account needed) and lint it.
synth: $(STAMP)
	cd infrastructure && ../$(PY) app.py
	$(VENV)/bin/cfn-lint infrastructure/cdk.out/*.template.json

## Every benchmark in one go (bench/report.py), each writing its section and plots into bench/report/; writes bench/REPORT.md.
bench: $(STAMP)
	$(PY) bench/report.py

clean:
	rm -rf $(VENV) chalice.out infrastructure/cdk.out infrastructure/chalice.out .pytest_cache .hypothesis
